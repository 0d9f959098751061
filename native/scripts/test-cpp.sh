#!/usr/bin/env bash
# The C++ core's own tests, no Node: configures, builds and runs ctest for
#   1. native/build-cpp/release   the default compiler, -O3, as the addon builds the core
#   2. native/build-cpp/sanitize  clang with AddressSanitizer + UBSan (every finding fails),
#                                 and the snapshot loader's libFuzzer target, run by ctest
#                                 for RAGWIRE_FUZZ_RUNS inputs (default 100000, seed RAGWIRE_FUZZ_SEED=1) from a seed corpus
#                                 of valid snapshots written by the build's snapshot_seeds.
# JUnit reports go to .ci/out/ctest-*.xml (counted by .ci/summary.mjs).
# RAGWIRE_CPP_SANITIZE=0 skips stage 2 (a quick local run).
set -euo pipefail
native="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$native/.." && pwd)"
src="$native/test/cpp"
out="$root/.ci/out"
jobs="${RAGWIRE_CPP_JOBS:-2}"
mkdir -p "$out"

for tool in cmake ctest; do
  command -v "$tool" >/dev/null || { echo "test-cpp: $tool is missing (Debian: apt-get install cmake)" >&2; exit 1; }
done

run_stage() {  # name, then cmake configure arguments
  local name="$1"; shift
  local dir="$native/build-cpp/$name"
  echo "test-cpp: [$name] configure and build"
  cmake -S "$src" -B "$dir" -Wno-dev "$@" >"$dir.configure.log" 2>&1 || {
    cat "$dir.configure.log" >&2
    echo "test-cpp: [$name] configure failed (GoogleTest: apt-get install libgtest-dev)" >&2
    return 1
  }
  if ! cmake --build "$dir" -j "$jobs" >"$dir.build.log" 2>&1; then
    grep -E -A3 'error|Error' "$dir.build.log" >&2 || cat "$dir.build.log" >&2
    echo "test-cpp: [$name] build failed (log: $dir.build.log)" >&2
    return 1
  fi
  grep -E 'warning:' "$dir.build.log" || true
  echo "test-cpp: [$name] ctest"
  (cd "$dir" && ctest -j "$jobs" --output-on-failure --output-junit "$out/ctest-$name.xml")
}

start=$(date +%s)
mkdir -p "$native/build-cpp"
run_stage release -DCMAKE_BUILD_TYPE=Release
echo "test-cpp: release done in $(( $(date +%s) - start )) s"

if [ "${RAGWIRE_CPP_SANITIZE:-1}" != 0 ]; then
  command -v clang++ >/dev/null || {
    echo "test-cpp: clang++ is missing for the sanitizer and fuzzer build (Debian: apt-get install clang libclang-rt-dev)" >&2
    exit 1
  }
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
  CC=clang CXX=clang++ run_stage sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DRAGWIRE_SANITIZE=ON -DRAGWIRE_FUZZ=ON -DRAGWIRE_FUZZ_SEED="${RAGWIRE_FUZZ_SEED:-1}" -DRAGWIRE_FUZZ_RUNS="${RAGWIRE_FUZZ_RUNS:-100000}"
fi
echo "test-cpp: all stages passed in $(( $(date +%s) - start )) s"
