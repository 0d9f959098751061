#!/usr/bin/env bash
# Builds the addon with AddressSanitizer (and UBSan) into native/build-asan and runs the UCX and
# data-plane tests through it: this process and the shard servers it starts load the sanitized addon
# (RAGWIRE_NATIVE_PATH), with libasan preloaded into node. Leak checking is off: node itself
# keeps allocations until exit.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! pkg-config --exists ucx 2>/dev/null; then
  echo "asan-ucx: no libucx-dev, nothing to check" >&2
  exit 0
fi
(cd native && npx cmake-js compile --out build-asan --CDRAGWIRE_ASAN=ON >/dev/null)
# (grep -c reads everything: with grep -q, nm's SIGPIPE would fail the pipeline under pipefail.)
if [ "$(nm -D native/build-asan/Release/ragwire_native.node | grep -c __asan_)" = 0 ]; then
  echo "asan-ucx: the addon in native/build-asan was not built with AddressSanitizer" >&2
  exit 1
fi
export RAGWIRE_NATIVE_PATH="$PWD/native/build-asan/Release/ragwire_native.node"
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
RAGWIRE_DIFF_FRAMES=200000 npx vitest run --reporter=default --outputFile.json=.ci/out/vitest-asan-diff.json native/test/frame-header-diff.int.test.ts
for tls in sm,self tcp; do
  echo "asan-ucx: UCX_TLS=$tls"
  UCX_TLS=$tls npx vitest run --reporter=default --outputFile.json=.ci/out/vitest-asan-ucx.json \
    native/test/ucx-socket.test.ts native/test/ucx-frames.test.ts native/test/native-tcp-loops.test.ts \
    test/src/shard-ucx.int.test.ts test/src/shard-native-answers.int.test.ts test/src/shard-native-filters.int.test.ts "$@"
done
