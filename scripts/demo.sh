#!/usr/bin/env bash
# The demo: set up, start the sandbox (3 Docker-in-Docker hosts + a registry), and check every
# host over SSH with the config the sandbox generated. `gangway sandbox down` removes it all.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh

out=.gangway/sandbox
node bin/gangway.js sandbox up --hosts 3 --out "$out"
node bin/gangway.js hosts check -c "$out/gangway.yml"
