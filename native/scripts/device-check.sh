#!/usr/bin/env bash
# Checks CUDA exact search against the CPU engine and benchmarks it, without
# Node or the npm registry, on a machine with an NVIDIA GPU (an H200 when lent).
#
#   native/scripts/device-check.sh [--device cuda|opencl] [--prebuilt] [-- extra ragwire_device_check args]
#
# Prints the machine (nvidia-smi, node, cmake, g++, nvcc), builds the standalone
# ragwire_device_check (cmake if present, else g++ and nvcc directly; with
# neither compiler, the binary carried in native/build/device-check/), runs it
# and writes $OUT/device-check.json (OUT defaults to ./device-check-out). The run: exact search vs
# the CPU engine (every metric, f32/f16, k 1..1024, filters, tiles), the 1M x 768 batched benchmark,
# and an HNSW build of 200k x 768 on the device vs the CPU (pass `-- --graph-n 0` to skip it).
# --prebuilt uses the carried binary even where a compiler is present; RAGWIRE_DIRECT_BUILD=1
# skips cmake; RAGWIRE_CUDA_ARCHS picks the SM (default 90, the H100/H200).
# Exit status: 0 when every check passed. Finishes in well under 8 minutes on an H200.
set -uo pipefail
cd "$(dirname "$0")/.."
NATIVE=$(pwd)
OUT=${OUT:-$NATIVE/../device-check-out}
mkdir -p "$OUT"
DEVICE=cuda
PREBUILT=0
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE=$2; shift 2 ;;
    --prebuilt) PREBUILT=1; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "usage: $0 [--device cuda|opencl] [--prebuilt] [-- args for ragwire_device_check]" >&2; exit 2 ;;
  esac
done
START=$(date +%s)
stamp() { echo "[$(( $(date +%s) - START )) s] $*"; }

echo "== machine"
uname -a
nproc
if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi; else echo "nvidia-smi: not found"; fi
for tool in node cmake g++ nvcc ninja make; do
  if command -v $tool >/dev/null 2>&1; then
    printf '%-6s %s: %s\n' $tool "$(command -v $tool)" "$($tool --version 2>&1 | grep -m1 -E '[0-9]+\.[0-9]+')"
  else
    printf '%-6s missing\n' $tool
  fi
done

CARRIED=$NATIVE/build/device-check/ragwire_device_check
BUILD=${BUILD:-/tmp/ragwire-device-check-build}
BIN=""
NVCC=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null || true)
ARCH=${RAGWIRE_CUDA_ARCHS:-90}

build_with_cmake() {
  local gen=()
  command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
  cmake -S "$NATIVE" -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DRAGWIRE_WITH_OPENCL=$([ "$DEVICE" = opencl ] && echo ON || echo OFF) \
    -DRAGWIRE_CUDA_ARCHS="$ARCH" ${NVCC:+-DRAGWIRE_NVCC=$NVCC} >"$OUT/build.log" 2>&1 &&
    cmake --build "$BUILD" --target ragwire_device_check -j "$(nproc)" >>"$OUT/build.log" 2>&1 &&
    BIN=$BUILD/ragwire_device_check
}

# No cmake: the same sources, compiled one by one (flags as in CMakeLists.txt).
build_direct() {
  local obj=$BUILD/direct defs=(-DRAGWIRE_HAVE_CUDA) srcs=() f
  mkdir -p "$obj"
  case "$(uname -m)" in
    x86_64) defs+=(-DRAGWIRE_HAVE_AVX2 -DRAGWIRE_HAVE_AVX512) ;;
    aarch64) defs+=(-DRAGWIRE_HAVE_NEON) ;;
  esac
  for f in src/core/*.cpp src/device/device_registry.cpp src/device/device_flat.cpp src/system/shared_library.cpp tools/device_check.cpp; do
    local flags=()
    case "$f" in
      *kernels_avx2.cpp) [ "$(uname -m)" = x86_64 ] || continue; flags=(-mavx2 -mfma -mf16c -mpopcnt) ;;
      *kernels_avx512.cpp) [ "$(uname -m)" = x86_64 ] || continue
        flags=(-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c -mpopcnt) ;;
      *kernels_neon.cpp) [ "$(uname -m)" = aarch64 ] || continue ;;
    esac
    g++ -O3 -std=c++17 -Iinclude "${defs[@]}" "${flags[@]}" -c "$f" -o "$obj/$(basename "$f" .cpp).o" &
    srcs+=("$obj/$(basename "$f" .cpp).o")
  done
  "$NVCC" -O3 -std=c++17 -gencode "arch=compute_$ARCH,code=sm_$ARCH" -Iinclude -c src/device/cuda_backend.cu -o "$obj/cuda_backend.o" &
  wait
  local root
  # nvcc may be a wrapper script: ask it where the toolkit is.
  root=$("$NVCC" --dryrun -c -x cu /dev/null -o /dev/null 2>&1 | sed -n 's/^#\$ TOP=//p' | head -1)
  [ -n "$root" ] || root=$(dirname "$(dirname "$(readlink -f "$NVCC")")")
  g++ -o "$BUILD/ragwire_device_check" "${srcs[@]}" "$obj/cuda_backend.o" -L"$root/lib64" -L"$root/lib" -lcudart_static -ldl -lrt -lpthread \
    -static-libstdc++ -static-libgcc && BIN=$BUILD/ragwire_device_check
}

echo
echo "== build"
if [ "$PREBUILT" = 1 ] && [ -x "$CARRIED" ]; then
  BIN=$CARRIED
elif [ -n "$NVCC" ] && command -v g++ >/dev/null 2>&1; then
  if command -v cmake >/dev/null 2>&1 && [ -z "${RAGWIRE_DIRECT_BUILD:-}" ]; then
    stamp "cmake build (sm_$ARCH) into $BUILD"
    build_with_cmake || { echo "cmake build failed:"; tail -30 "$OUT/build.log"; }
  fi
  if [ -z "$BIN" ]; then
    stamp "direct g++/nvcc build (sm_$ARCH) into $BUILD"
    build_direct >"$OUT/build-direct.log" 2>&1
    [ -n "$BIN" ] || { echo "direct build failed:"; tail -30 "$OUT/build-direct.log"; }
  fi
fi
if [ -z "$BIN" ] && [ -x "$CARRIED" ]; then
  stamp "using the carried binary $CARRIED"
  BIN=$CARRIED
fi
if [ -z "$BIN" ]; then
  echo "FAILED: no ragwire_device_check (no nvcc + g++ here, and no carried native/build/device-check/ragwire_device_check)"
  exit 1
fi
stamp "binary: $BIN"

echo
echo "== run: correctness against the CPU engine; 1M x 768 batched exact search (f32, f16), 10,000 queries, k 10;"
echo "        HNSW 200k x 768 built on the device vs on the CPU (build time, recall@10)"
timeout 420 "$BIN" --device "$DEVICE" --json "$OUT/device-check.json" "${EXTRA[@]}" 2>&1 | tee "$OUT/device-check.txt"
rc=${PIPESTATUS[0]}
echo
if [ "$rc" = 0 ]; then stamp "device check PASSED ($OUT/device-check.json)"
elif [ "$rc" = 124 ]; then stamp "device check FAILED: timed out after 420 s"
else stamp "device check FAILED (exit $rc)"; fi
exit "$rc"
