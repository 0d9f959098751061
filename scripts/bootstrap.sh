#!/usr/bin/env bash
# Prepares a fresh machine that has Node >= 20.19 and npm: the C++ toolchain
# and cmake (from Debian packages when missing and running as root), Chromium
# for the dashboard's browser test (likewise), pnpm (through npx, pinned), the
# dependencies and every build, native engine included.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM="npx --yes pnpm@10.34.9"

# Installs Debian packages, refreshing the package lists once per run.
apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${missing[*]} with apt-get"
    apt_install "${missing[@]}"
  else
    echo "bootstrap: please install ${missing[*]} (a C++17 compiler and cmake >= 3.15 build the engine)" >&2
    exit 1
  fi
fi

# The proxy dashboard's test drives a real headless Chromium (playwright-core, executablePath /usr/bin/chromium).
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM_PATH:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing chromium with apt-get"
    apt_install --no-install-recommends chromium fonts-liberation
  else
    # Not fatal: everything builds without it; only the dashboard's browser test fails, saying so.
    echo "bootstrap: Chromium is missing: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH for the dashboard test" >&2
  fi
fi

# The fleet's tests start real NATS JetStream servers (Debian's nats-server 2.9.10 or newer).
if ! command -v nats-server >/dev/null 2>&1 && [ -z "${NATS_SERVER:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing nats-server with apt-get"
    apt_install nats-server
  else
    echo "bootstrap: nats-server is missing: install it (Debian: apt-get install nats-server) or set NATS_SERVER for the fleet tests" >&2
  fi
fi

if [ -n "${CI:-}" ]; then
  $PNPM install --frozen-lockfile
else
  $PNPM install
fi
$PNPM build
