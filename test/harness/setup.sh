#!/bin/sh
# Installs what the test tiers and the demo need, once, into gitignored folders:
#   - Debian packages: chromium (the browser that drives the workbench), libkrb5-dev + ripgrep (to build
#     code-server offline), openssh-server + rsync + curl (real deploy targets used by later tests),
#     docker.io + docker-registry + busybox-static (a private Docker engine and registry for docker tests)
#     buildbot + buildbot-worker (a real CI master and worker for the remote-engine tests)
#     iproute2 (network namespaces for the fault tests), openssl (a private CA), procps (pgrep)
#     prometheus (a real Prometheus for the deploy verification tests: they start their own on a free port, the
#     package's service is not used)
#     The system tier (npm run test:system) fails under CI=true when any of these is missing (test/support/requireTool.ts).
#   - code-server (VS Code 1.100.3 server + web workbench) into .vscode-test/code-server-$VERSION
# A second run returns at once. Needs root for apt (or the packages already installed), the npm registry and apt.
# env: CODE_SERVER_VERSION (default 4.100.3), CODE_SERVER_DIR, TMPDIR, DELIVERY_SKIP_APT=1 (never call apt)
set -eu
VERSION=${CODE_SERVER_VERSION:-4.100.3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CODE_SERVER_DIR:-$ROOT/.vscode-test/code-server-$VERSION}
HERE=$(cd "$(dirname "$0")" && pwd)
APT_PACKAGES="chromium libkrb5-dev ripgrep openssh-server rsync curl git docker.io docker-registry busybox-static buildbot buildbot-worker iproute2 openssl procps prometheus"

missing=""
for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "${DELIVERY_SKIP_APT:-}" = 1 ]; then
    echo "setup: missing Debian packages:$missing (DELIVERY_SKIP_APT=1, not installing)" >&2
  elif [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages:$missing; as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
    exit 1
  else
    echo "setup: installing Debian packages:$missing"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
  fi
fi

BIN="$TARGET/node_modules/.bin/code-server"
STAMP="$TARGET/.installed-$VERSION"
if [ -f "$STAMP" ] && [ -x "$BIN" ]; then
  exit 0
fi
for c in gcc g++ make python3; do
  command -v "$c" >/dev/null 2>&1 || { echo "setup: missing $c (Debian: build-essential python3)" >&2; exit 1; }
done
echo "setup: installing code-server $VERSION into $TARGET (about 90 s, once)"
export TMPDIR="${TMPDIR:-/tmp}"
mkdir -p "$TMPDIR"
# node-gyp takes Node's headers from the nodejs .deb instead of downloading them from nodejs.org.
case "$(npm config get nodedir 2>/dev/null || true)" in
  ''|undefined|null) if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi ;;
esac
# @vscode/ripgrep's postinstall downloads rg from api.github.com; seed its cache with Debian's rg.
RG_PKG=${RIPGREP_PKG_VERSION:-1.15.11}
RG_VER=${RIPGREP_VERSION:-v13.0.0-10}
case "$(uname -m)" in aarch64|arm64) RG_TARGET=aarch64-unknown-linux-musl ;; *) RG_TARGET=x86_64-unknown-linux-musl ;; esac
CACHE="$TMPDIR/vscode-ripgrep-cache-$RG_PKG"
mkdir -p "$CACHE"
tmp=$(mktemp -d)
cp /usr/bin/rg "$tmp/rg"
tar czf "$CACHE/ripgrep-$RG_VER-$RG_TARGET.tar.gz" -C "$tmp" rg
rm -rf "$tmp"
mkdir -p "$TARGET"
cd "$TARGET"
[ -f package.json ] || echo '{"name":"code-server-host","version":"1.0.0","private":true}' > package.json
# unsafe_perm: code-server's postinstall.sh refuses root without it; yes: node-pty's postinstall runs npx node-gyp.
npm_config_unsafe_perm=true npm_config_yes=true npm install "code-server@$VERSION" --no-audit --no-fund --loglevel=error >"$TARGET/install.log" 2>&1 || {
  echo "setup: code-server install failed; last lines of $TARGET/install.log:" >&2; tail -40 "$TARGET/install.log" >&2; exit 1; }
x=$(mktemp -d)
XDG_CONFIG_HOME="$x/config" XDG_DATA_HOME="$x/data" "$BIN" --version >/dev/null || { rm -rf "$x"; exit 1; }
rm -rf "$x"
touch "$STAMP"
echo "setup: code-server $VERSION ready"
