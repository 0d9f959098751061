#!/usr/bin/env bash
# The C++ style check of `pnpm lint`: every tracked C++ file under native/ as clang-format
# (.clang-format at the repository root) would write it. Fix a file with `clang-format -i FILE`.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v clang-format >/dev/null || {
  echo "lint:cpp: clang-format is missing (Debian: apt-get install clang-format; scripts/bootstrap.sh installs it)" >&2
  exit 1
}
git ls-files -z -- 'native/*.cpp' 'native/*.hpp' 'native/*.h' 'native/*.cu' 'native/*.cuh' | xargs -0 clang-format --dry-run -Werror
