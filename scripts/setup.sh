#!/usr/bin/env bash
# Prepares this machine for gangway's tests and demo, and builds gangway. Idempotent: a warm
# machine skips apt, leaves a running dockerd alone, and skips `npm ci` when node_modules is
# current. Needs Debian (12) as root for the system part; elsewhere it checks and explains.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(docker.io debootstrap busybox-static haproxy docker-registry openssh-client ca-certificates git strace zsh fish pebble lego socat)
# What each package provides, to check a machine where we cannot (or should not) run apt.
REQUIRED_FILES=(/usr/sbin/dockerd /usr/sbin/debootstrap /bin/busybox /usr/sbin/haproxy /usr/bin/docker-registry /usr/bin/ssh-keygen /usr/bin/git /usr/bin/strace /usr/bin/zsh /usr/bin/fish /usr/bin/pebble /usr/bin/lego /usr/bin/socat)
REGISTRY_NAME=registry
REGISTRY_ADDRESS=registry:5000
DOCKERD_LOG=/var/log/gangway-dockerd.log
DOCKERD_WAIT_S=30

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

is_debian() { [ -r /etc/debian_version ] && command -v apt-get >/dev/null && command -v dpkg >/dev/null; }
is_root() { [ "$(id -u)" = 0 ]; }

check_node() {
  command -v node >/dev/null || die "Node.js >= 20 is required (https://nodejs.org, or apt-get install nodejs on Debian 13)."
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js >= 20 is required; this is $(node --version)."
}

registry_in_daemon_json() {
  [ -r /etc/docker/daemon.json ] && node -e '
    const c = JSON.parse(require("fs").readFileSync("/etc/docker/daemon.json", "utf8"));
    process.exit((c["insecure-registries"] || []).includes(process.argv[1]) ? 0 : 1);' "$REGISTRY_ADDRESS" 2>/dev/null
}

registry_in_hosts() { grep -Eq "^[[:space:]]*127\.0\.0\.1[[:space:]]+([^#]*[[:space:]])?${REGISTRY_NAME}([[:space:]]|$)" /etc/hosts; }

# Without root or Debian we only verify, and say exactly what is missing.
check_only() {
  local missing=() f
  for f in "${REQUIRED_FILES[@]}"; do [ -e "$f" ] || missing+=("$f"); done
  registry_in_daemon_json || missing+=("/etc/docker/daemon.json with {\"insecure-registries\": [\"$REGISTRY_ADDRESS\"]} (then restart dockerd)")
  registry_in_hosts || missing+=("a line '127.0.0.1 $REGISTRY_NAME' in /etc/hosts")
  docker info >/dev/null 2>&1 || missing+=("a running Docker engine that this user may use (docker info fails)")
  if [ ${#missing[@]} -gt 0 ]; then
    {
      echo "setup: this machine is not ready, and the automatic setup needs Debian as root."
      echo "setup: install or configure:"
      printf '  - %s\n' "${missing[@]}"
      echo "setup: on Debian: sudo apt-get install ${PACKAGES[*]}"
    } >&2
    exit 1
  fi
  log "system requirements present (checked only: not root on Debian)"
}

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then
    log "packages present: ${PACKAGES[*]}"
    return
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

configure_docker_registry() {
  mkdir -p /etc/docker
  # Merge, never overwrite: the file may hold settings of its own.
  local changed
  changed=$(node -e '
    const fs = require("fs");
    const path = "/etc/docker/daemon.json";
    const name = process.argv[1];
    const config = fs.existsSync(path) && fs.readFileSync(path, "utf8").trim() ? JSON.parse(fs.readFileSync(path, "utf8")) : {};
    const list = config["insecure-registries"] || [];
    if (list.includes(name)) { console.log("no"); process.exit(0); }
    config["insecure-registries"] = [...list, name];
    fs.writeFileSync(path, JSON.stringify(config, null, 2) + "\n");
    console.log("yes");' "$REGISTRY_ADDRESS")
  if [ "$changed" = yes ]; then
    log "added $REGISTRY_ADDRESS to insecure-registries in /etc/docker/daemon.json"
    if docker info >/dev/null 2>&1; then
      log "WARNING: the running dockerd read daemon.json before this change; restart it for pushes to $REGISTRY_ADDRESS to work"
    fi
  fi
  if ! registry_in_hosts; then
    echo "127.0.0.1 $REGISTRY_NAME" >> /etc/hosts
    log "mapped $REGISTRY_NAME to 127.0.0.1 in /etc/hosts"
  fi
}

start_dockerd() {
  if docker info >/dev/null 2>&1; then
    log "Docker engine running"
    return
  fi
  log "starting dockerd (log: $DOCKERD_LOG)"
  nohup dockerd >>"$DOCKERD_LOG" 2>&1 &
  local waited=0
  until docker info >/dev/null 2>&1; do
    [ "$waited" -lt "$DOCKERD_WAIT_S" ] || die "dockerd did not answer within ${DOCKERD_WAIT_S}s; see $DOCKERD_LOG"
    sleep 1
    waited=$((waited + 1))
  done
  log "Docker engine up after ${waited}s"
}

install_node_modules() {
  # npm writes node_modules/.package-lock.json on every install: older than the lock means stale.
  if [ -d node_modules ] && [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
    log "node_modules current"
    return
  fi
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
}

check_node
if is_root && is_debian; then
  install_packages
  configure_docker_registry
  start_dockerd
else
  check_only
fi
install_node_modules
log "npm run build"
npm run --silent build
log "ready"
