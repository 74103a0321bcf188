#!/usr/bin/env bash
# CI test entry (the README's test command): installs dependencies, checks the layer rules
# (.ci/check-deps) and the formatting (.ci/check-format) and stops there if either fails, then
# configures and builds OpenBatch in build/ (Ninja, RelWithDebInfo), installs the Node test
# dependencies, runs ctest, then the fuzz targets (.ci/fuzz.sh, FUZZ_SECONDS per target,
# default 10 here) unless the build is clang's. The exit status is ctest's, else the fuzz run's.
#
#   .ci/test.sh            default build and test
#   .ci/test.sh --asan     also build build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer
#                          and run ctest there (same as OPENBATCH_ASAN=1 .ci/test.sh)
#   extra args after --    are passed to both ctest runs (e.g. -- -L unit)
#   OPENBATCH_BUILD_DIR    build directory instead of build/ (the ASan one gets an -asan suffix)
#   FUZZ_SECONDS           seconds per fuzz target (default 10; a long run: FUZZ_SECONDS=600)
set -euo pipefail

script=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
repo=$(dirname "$(dirname "$script")")
cd "$repo"

asan=${OPENBATCH_ASAN:-0}
ctest_args=()
while (($#)); do
  case $1 in
    --asan) asan=1 ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$script" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

jobs=$(nproc)
build=${OPENBATCH_BUILD_DIR:-build}

.ci/install-deps.sh

# Seconds, before any build: a broken layer or an unformatted file fails CI at once.
echo "== layer rules (.ci/check-deps)"
python3 .ci/check-deps
echo "== formatting (.ci/check-format)"
.ci/check-format

launcher=()
command -v ccache >/dev/null 2>&1 &&
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
echo "== configure + build ($build/, RelWithDebInfo)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPENBATCH_BUILD_TESTS=ON \
  "${launcher[@]+"${launcher[@]}"}"
cmake --build "$build" -j"$jobs"

echo "== npm ci (tests/integration/js)"
(cd tests/integration/js && npm ci --no-audit --no-fund)

echo "== ctest ($build/)"
status=0
ctest --test-dir "$build" --output-on-failure -j2 "${ctest_args[@]+"${ctest_args[@]}"}" || status=$?

# The fuzz targets need clang: a clang build ran them above (CTest label fuzz); otherwise
# .ci/fuzz.sh builds them in build-fuzz/ and runs each for FUZZ_SECONDS (10 here: the run is a
# smoke test that the targets build and survive their corpus; long runs set FUZZ_SECONDS).
if ! grep -q '^OPENBATCH_BUILD_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
  echo "== fuzz (.ci/fuzz.sh)"
  fuzz_status=0
  FUZZ_SECONDS=${FUZZ_SECONDS:-10} .ci/fuzz.sh || fuzz_status=$?
  ((status != 0)) || status=$fuzz_status
fi

if [[ $asan == 1 ]]; then
  echo "== configure + build ($build-asan/, address,undefined)"
  cmake -S . -B "$build-asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DOPENBATCH_SANITIZE=address,undefined -DOPENBATCH_BUILD_BENCH=OFF \
    "${launcher[@]+"${launcher[@]}"}"
  cmake --build "$build-asan" -j"$jobs"
  echo "== ctest ($build-asan/)"
  asan_status=0
  ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_stack_use_after_return=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    ctest --test-dir "$build-asan" --output-on-failure -j2 "${ctest_args[@]+"${ctest_args[@]}"}" \
    || asan_status=$?
  ((status != 0)) || status=$asan_status
fi

exit "$status"
