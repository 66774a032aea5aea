#!/usr/bin/env bash
# The demo: deploy the bundled example app (examples/hello) to this machine's Docker engine
# (`localhost`, no SSH): v1, then v2 under load with zero failed requests, then a broken v3
# that is refused while v2 keeps serving. `scripts/demo.sh down` removes what it started.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
gw() { (cd "$root/examples/hello" && node "$root/bin/gangway.js" "$@"); }
url=http://127.0.0.1:8080/
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "${1:-}" = down ]; then
  ids=$(docker ps -aq --filter label=gangway.service=hello; docker ps -aq --filter label=gangway.managed=proxy)
  [ -z "$ids" ] || docker rm -f $ids >/dev/null
  # The proxy's files too: a proxy started again from them would list the removed versions' servers.
  rm -rf /var/lib/gangway/proxy /var/lib/gangway/proxy.lock /var/lib/gangway/locks/hello /var/lib/gangway/env/hello-*.env
  echo "demo removed"
  exit 0
fi

scripts/setup.sh
say "local images (no registry here: busybox and HAProxy built from Debian's packages)"
eval "$(node scripts/demo-images.mjs)"

say "v1: build, then setup (network, HAProxy, deploy gated on health + uptests)"
GANGWAY_VERSION=1.0.0 gw build
GANGWAY_VERSION=1.0.0 gw setup
echo "GET $url -> $(node -e 'fetch(process.argv[1]).then(r=>r.text()).then(t=>process.stdout.write(t))' "$url")"

say "v2: deploy under load (every request counted)"
GANGWAY_VERSION=2.0.0 gw build
stop=$(mktemp -u)
node scripts/demo-load.mjs "$url" "$stop" 120 & load=$!
GANGWAY_VERSION=2.0.0 gw deploy
touch "$stop"
wait "$load"
echo "GET $url -> $(node -e 'fetch(process.argv[1]).then(r=>r.text()).then(t=>process.stdout.write(t))' "$url")"

say "v3: a release whose web container dies at start; gangway must refuse it"
GANGWAY_VERSION=3.0.0 HELLO_VARIANT=broken gw build
if GANGWAY_VERSION=3.0.0 gw deploy; then
  echo "demo: the broken v3 was deployed, which must never happen" >&2
  exit 1
fi
served=$(node -e 'fetch(process.argv[1]).then(r=>r.text()).then(t=>process.stdout.write(t))' "$url")
echo "GET $url -> $served"
case "$served" in
  "hello from 2.0.0"*) ;;
  *) echo "demo: expected v2 to keep serving, got: $served" >&2; exit 1 ;;
esac

say "status"
gw status
say "done: $url serves v2; v3 was refused and v2 kept serving"
echo "history: (cd examples/hello && node ../../bin/gangway.js history)"
echo "remove:  scripts/demo.sh down"
