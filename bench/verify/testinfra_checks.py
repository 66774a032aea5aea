# The baseline of bench/verify/run.ts: the same 100 checks as gangway verify's, written as a
# Testinfra user writes them (one parametrized test per check, Testinfra's own modules), run by
# pytest with Testinfra's real backends. Not a test of this project: run.ts starts it with
#   python3 -m pytest bench/verify/testinfra_checks.py --hosts=ssh://vm1 --ssh-config=...
# and reads back what it measured from GANGWAY_BENCH_OUT (JSON: start and end of the checks, epoch
# ms, and how many commands they sent).
#   GANGWAY_BENCH_CHECKS: JSON file with the bench's check list (the items of a verify file).
#   GANGWAY_BENCH_READY / GANGWAY_BENCH_GO: files of the start barrier (written here / awaited).
import json
import os
import time

import pytest

with open(os.environ["GANGWAY_BENCH_CHECKS"]) as f:
    CHECKS = json.load(f)

_state = {"commands": 0}


def _kind(item):
    for key in ("file", "directory", "package", "process", "port", "command", "user", "group", "sysctl", "mount"):
        if key in item:
            return key
    raise ValueError(f"unknown check {item}")


def test_connect(host):
    """Opens the backend's connection (not timed, as gangway's is opened before its timing) and
    counts every command the checks send from here on."""
    assert host.run("true").rc == 0
    backend = host.backend
    run = backend.run

    def counted(*args, **kwargs):
        _state["commands"] += 1
        return run(*args, **kwargs)

    backend.run = counted
    # Barrier: the bench starts every host's timed part at once.
    with open(os.environ["GANGWAY_BENCH_READY"], "w"):
        pass
    while not os.path.exists(os.environ["GANGWAY_BENCH_GO"]):
        time.sleep(0.001)
    _state["start"] = time.time()


@pytest.mark.parametrize("item", CHECKS, ids=[f"{i:03d}-{_kind(c)}" for i, c in enumerate(CHECKS)])
def test_check(host, item):
    kind = _kind(item)
    if kind == "file":
        f = host.file(item["file"])
        if "owner" in item:
            assert f.user == item["owner"]
        if "group" in item:
            assert f.group == item["group"]
    elif kind == "directory":
        assert host.file(item["directory"]).is_directory
    elif kind == "package":
        assert host.package(item["package"]).is_installed
    elif kind == "process":
        found = host.process.filter(comm=item["process"])
        assert bool(found) == item.get("running", True)
    elif kind == "port":
        # gangway's port check: listening on any address. One `ss` per check, as Testinfra's
        # socket module does for each is_listening.
        port = item["port"]
        listening = any(s.startswith("tcp://") and s.rsplit(":", 1)[1] == str(port) for s in host.socket.get_listening_sockets())
        assert listening == item.get("listening", True)
    elif kind == "command":
        r = host.run(item["command"])
        assert r.rc == 0
        if "stdout" in item:
            assert r.stdout.strip() == item["stdout"]
    elif kind == "user":
        assert host.user(item["user"]).exists
    elif kind == "group":
        assert host.group(item["group"]).exists
    elif kind == "sysctl":
        assert host.sysctl(item["sysctl"]) is not None
    elif kind == "mount":
        assert host.mount_point(item["mount"]).exists


def test_zz_done(host):
    end = time.time()
    with open(os.environ["GANGWAY_BENCH_OUT"], "w") as f:
        json.dump({"startEpochMs": _state["start"] * 1000, "endEpochMs": end * 1000, "commands": _state["commands"]}, f)
