#!/usr/bin/env bash
# Prepares a fresh machine that has Node >= 20.19 and npm: the C++ toolchain
# and cmake (from Debian packages when missing and running as root), pnpm
# (through npx, pinned), the dependencies and every build, native engine included.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM="npx --yes pnpm@10.34.9"

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${missing[*]} with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bootstrap: please install ${missing[*]} (a C++17 compiler and cmake >= 3.15 build the engine)" >&2
    exit 1
  fi
fi

if [ -n "${CI:-}" ]; then
  $PNPM install --frozen-lockfile
else
  $PNPM install
fi
$PNPM build
