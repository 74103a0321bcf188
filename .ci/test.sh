#!/usr/bin/env bash
# CI test entry (the README's test command): installs dependencies, configures and builds
# OpenBatch in build/ (Ninja, RelWithDebInfo), installs the Node test dependencies, runs ctest,
# then the fuzz targets (.ci/fuzz.sh) unless the build is clang's. The exit status is ctest's,
# else the fuzz run's.
#
#   .ci/test.sh            default build and test
#   .ci/test.sh --asan     also build build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer
#                          and run ctest there (same as OPENBATCH_ASAN=1 .ci/test.sh)
#   extra args after --    are passed to both ctest runs (e.g. -- -L unit)
#   OPENBATCH_BUILD_DIR    build directory instead of build/ (the ASan one gets an -asan suffix)
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
    -h|--help) sed -n '2,10p' "$script" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

jobs=$(nproc)
build=${OPENBATCH_BUILD_DIR:-build}

.ci/install-deps.sh

echo "== configure + build ($build/, RelWithDebInfo)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPENBATCH_BUILD_TESTS=ON
cmake --build "$build" -j"$jobs"

echo "== npm ci (tests/integration/js)"
(cd tests/integration/js && npm ci --no-audit --no-fund)

echo "== ctest ($build/)"
status=0
ctest --test-dir "$build" --output-on-failure -j2 "${ctest_args[@]+"${ctest_args[@]}"}" || status=$?

# The fuzz targets need clang: a clang build ran them above (CTest label fuzz); otherwise
# .ci/fuzz.sh builds them in build-fuzz/ and runs each for FUZZ_SECONDS (default 20).
if ! grep -q '^OPENBATCH_BUILD_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
  echo "== fuzz (.ci/fuzz.sh)"
  fuzz_status=0
  .ci/fuzz.sh || fuzz_status=$?
  ((status != 0)) || status=$fuzz_status
fi

if [[ $asan == 1 ]]; then
  echo "== configure + build ($build-asan/, address,undefined)"
  cmake -S . -B "$build-asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DOPENBATCH_SANITIZE=address,undefined -DOPENBATCH_BUILD_BENCH=OFF
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
