#!/usr/bin/env bash
# Builds the two images bench/zero-downtime/kamal.ts runs Kamal with, from Debian 13 (trixie)
# packages and the upstream sources only (no rubygems, no Go module proxy, no Docker Hub):
#   gangway-bench/kamal:<key>        trixie minbase, Debian's ruby and the ruby-* gems Kamal loads,
#                                    Kamal from source in /opt/kamal (`kamal` on PATH), ssh, docker-cli
#   gangway-bench/kamal-proxy:<key>  a static kamal-proxy built in GOPATH mode against Debian's Go
#                                    libraries, in a scratch image laid out like upstream's
# <key> hashes every input (this script, the patches, both source commits, the Debian mirror), so
# an image that exists is never rebuilt; the last two lines of stdout name the tags:
#   tools=gangway-bench/kamal:<key>
#   proxy=gangway-bench/kamal-proxy:<key>
#
# usage: bench/kamal/build.sh KAMAL_GIT_DIR KAMAL_PROXY_GIT_DIR
#   bare git directories of github.com/basecamp/kamal and github.com/basecamp/kamal-proxy, e.g.
#   `git clone --bare https://github.com/basecamp/kamal.git`
# env: KAMAL_REF (default v2.12.0), KAMAL_PROXY_REF (default v0.9.2), GANGWAY_DEBIAN_MIRROR (else
# the first Debian archive this machine's apt sources name). Needs root, debootstrap and docker.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kamal_git=${1:?usage: build.sh KAMAL_GIT_DIR KAMAL_PROXY_GIT_DIR}
proxy_git=${2:?usage: build.sh KAMAL_GIT_DIR KAMAL_PROXY_GIT_DIR}
kamal_ref=${KAMAL_REF:-v2.12.0}
proxy_ref=${KAMAL_PROXY_REF:-v0.9.2}

commit_of() {
  git --git-dir="$1" rev-parse --verify -q "$2^{commit}" 2>/dev/null ||
    { echo "build.sh: $1 has no commit $2 (expected a bare clone of github.com/basecamp/$3)" >&2; exit 2; }
}
kamal_commit=$(commit_of "$kamal_git" "$kamal_ref" kamal)
proxy_commit=$(commit_of "$proxy_git" "$proxy_ref" kamal-proxy)

# The mirror the machine already uses: gangway names none of its own.
mirror=${GANGWAY_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" { print ($2 ~ /^\[/ ? $3 : $2); exit }' /etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || { echo "build.sh: no Debian mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; set GANGWAY_DEBIAN_MIRROR" >&2; exit 2; }

key=$( { cat "$0" "$here"/patches/*.patch; echo "$kamal_commit $proxy_commit $mirror"; } | sha256sum | cut -c1-16)
tools_tag=gangway-bench/kamal:$key
proxy_tag=gangway-bench/kamal-proxy:$key
if docker image inspect "$tools_tag" >/dev/null 2>&1 && docker image inspect "$proxy_tag" >/dev/null 2>&1; then
  echo "tools=$tools_tag"
  echo "proxy=$proxy_tag"
  exit 0
fi

# Ruby side: the gems Kamal 2.12 requires, as Debian packages (bench/kamal/README.md lists the
# version pins Debian does not meet). Go side: what kamal-proxy imports, as golang-*-dev packages.
ruby_pkgs="ruby ruby-activesupport ruby-sshkit ruby-net-ssh ruby-thor ruby-dotenv ruby-zeitwerk
  ruby-ed25519 ruby-bcrypt-pbkdf ruby-concurrent ruby-base64 git openssh-client docker-cli ca-certificates"
go_pkgs="golang-go golang-github-google-uuid-dev golang-github-prometheus-client-golang-dev
  golang-github-spf13-cobra-dev golang-golang-x-crypto-dev golang-github-lucas-clemente-quic-go-dev busybox-static"

work=$(mktemp -d /var/tmp/gangway-kamal-build.XXXXXX)
root=$work/rootfs
cleanup() {
  umount "$root/proc" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "debootstrap trixie minbase from $mirror" >&2
debootstrap --variant=minbase trixie "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
echo "apt-get install (ruby, golang and their libraries)" >&2
chroot "$root" apt-get update -qq
# shellcheck disable=SC2086 # the lists are word lists
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $ruby_pkgs $go_pkgs >"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log" >&2; exit 1; }

# Kamal runs from its source tree with Debian's gems: no bundler, so its gemspec pins are not
# enforced (see README.md for what that relaxes).
mkdir -p "$root/opt/kamal"
git --git-dir="$kamal_git" archive "$kamal_commit" | tar -x -C "$root/opt/kamal"
printf '#!/bin/sh\nexec ruby -I/opt/kamal/lib /opt/kamal/bin/kamal "$@"\n' > "$root/usr/local/bin/kamal"
chmod 755 "$root/usr/local/bin/kamal"

# kamal-proxy in GOPATH mode: go.mod is ignored and each import resolves to Debian's package in
# /usr/share/gocode; one patch for Go 1.24.
src=/build/gopath/src/github.com/basecamp/kamal-proxy
mkdir -p "$root$src"
git --git-dir="$proxy_git" archive "$proxy_commit" | tar -x -C "$root$src"
for p in "$here"/patches/kamal-proxy-*.patch; do patch -s -d "$root$src" -p1 < "$p"; done
echo "go build kamal-proxy $proxy_ref" >&2
chroot "$root" env GO111MODULE=off GOPROXY=off GOFLAGS= CGO_ENABLED=0 GOPATH=/build/gopath:/usr/share/gocode \
  GOCACHE=/build/cache HOME=/build sh -c "cd $src && go build -trimpath -o /build/kamal-proxy ./cmd/kamal-proxy"

# The proxy image, laid out as upstream's: user kamal-proxy (uid 1000) owning its state
# directory, a CA bundle, a shell (busybox) for `docker exec`, `kamal-proxy run` by default.
ctx=$work/proxy
mkdir -p "$ctx/usr/local/bin" "$ctx/etc/ssl/certs" "$ctx/home/kamal-proxy/.config/kamal-proxy" "$ctx/tmp" "$ctx/bin"
cp "$root/build/kamal-proxy" "$ctx/usr/local/bin/kamal-proxy"
cp "$root/etc/ssl/certs/ca-certificates.crt" "$ctx/etc/ssl/certs/"
cp "$root/bin/busybox" "$ctx/bin/busybox"
ln -s busybox "$ctx/bin/sh"
printf 'root:x:0:0:root:/root:/bin/sh\nkamal-proxy:x:1000:1000::/home/kamal-proxy:/bin/sh\n' > "$ctx/etc/passwd"
printf 'root:x:0:\nkamal-proxy:x:1000:\n' > "$ctx/etc/group"
chown -R 1000:1000 "$ctx/home/kamal-proxy"
chmod 1777 "$ctx/tmp"
cat > "$work/Dockerfile.proxy" <<DOCKERFILE
FROM scratch
COPY . /
LABEL org.opencontainers.image.title=kamal-proxy org.opencontainers.image.version=$proxy_ref gangway.bench=kamal
EXPOSE 80 443
USER kamal-proxy:kamal-proxy
ENV PATH=/usr/local/bin:/bin
CMD ["kamal-proxy", "run"]
DOCKERFILE
docker build -q -f "$work/Dockerfile.proxy" -t "$proxy_tag" "$ctx" >/dev/null

# The tools image: the rootfs without the Go build tree and the apt caches.
umount "$root/proc"
tar -C "$root" --numeric-owner --exclude=./build --exclude='./proc/*' --exclude='./var/cache/apt/*' \
  --exclude='./var/lib/apt/lists/*' --exclude='./usr/share/doc/*' --exclude='./usr/share/man/*' -c . |
  docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' -c 'LABEL gangway.bench=kamal' - "$tools_tag" >/dev/null
echo "tools=$tools_tag"
echo "proxy=$proxy_tag"
