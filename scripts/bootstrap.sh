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

# The engine's OpenCL backend builds against ocl-icd and runs its tests on PoCL (a CPU device);
# without them the addon still builds, with no OpenCL backend (and CI's device tests fail, saying so).
if [ ! -e /usr/include/CL/cl.h ] || ! ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing OpenCL (ocl-icd, headers, PoCL) with apt-get"
    apt_install --no-install-recommends ocl-icd-opencl-dev opencl-headers pocl-opencl-icd
  else
    echo "bootstrap: OpenCL is missing: install ocl-icd-opencl-dev opencl-headers pocl-opencl-icd for the device backend" >&2
  fi
fi

# The C++ core's own tests (native/scripts/test-cpp.sh): GoogleTest, and clang
# with its sanitizer and libFuzzer runtimes for the ASan/UBSan build and the fuzzer.
cpp_test_missing=()
[ -f /usr/include/gtest/gtest.h ] || cpp_test_missing+=(libgtest-dev)
command -v clang++ >/dev/null 2>&1 || cpp_test_missing+=(clang)
compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null ||
  compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-aarch64.a" >/dev/null ||
  cpp_test_missing+=(libclang-rt-dev)
if [ ${#cpp_test_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${cpp_test_missing[*]} with apt-get"
    apt_install "${cpp_test_missing[@]}"
  else
    # Not fatal: everything builds without them; only `pnpm test:cpp` fails, saying what it needs.
    echo "bootstrap: the C++ tests need ${cpp_test_missing[*]} (Debian: apt-get install ${cpp_test_missing[*]})" >&2
  fi
fi

# `pnpm lint` checks the C++ style with clang-format (native/scripts/lint-cpp.sh).
if ! command -v clang-format >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing clang-format with apt-get"
    apt_install clang-format
  else
    echo "bootstrap: clang-format is missing: pnpm lint needs it (Debian: apt-get install clang-format)" >&2
  fi
fi

# The ucx:// transport builds when libucx-dev is present (without it the addon builds and ucx:// says it is missing).
if ! pkg-config --exists ucx 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing libucx-dev and ucx-utils with apt-get"
    apt_install --no-install-recommends libucx-dev ucx-utils pkg-config
  else
    echo "bootstrap: libucx-dev is missing: the addon builds without ucx:// (Debian: apt-get install libucx-dev ucx-utils)" >&2
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
