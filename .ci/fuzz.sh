#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang in their own build directory (build-fuzz/:
# only the targets and the libraries they use, instrumented with ASan, UBSan and libFuzzer
# coverage) and runs each over its seed corpus. Prints a line per target and
# "fuzz: N passed, M failed"; the exit status is 1 when any target found something.
#
#   .ci/fuzz.sh                 every target, FUZZ_SECONDS each (default 20)
#   .ci/fuzz.sh odata_filter    only the named targets (fuzz_<name>)
#   FUZZ_SECONDS=0 FUZZ_RUNS=10000000 .ci/fuzz.sh    a long run: 10^7 executions per target
#   FUZZ_JOBS                   targets run at once (default: the number of cores)
#   OPENBATCH_FUZZ_BUILD_DIR    build directory instead of build-fuzz/
#   CC / CXX                    the clang to use (default clang / clang++)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
build=${OPENBATCH_FUZZ_BUILD_DIR:-build-fuzz}
export FUZZ_SECONDS=${FUZZ_SECONDS:-20}

.ci/install-deps.sh

echo "== configure + build the fuzz targets ($build/, clang, address,undefined,fuzzer-no-link)"
launcher=()
command -v ccache >/dev/null 2>&1 &&
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S . -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPENBATCH_BUILD_FUZZ=ON -DOPENBATCH_BUILD_TESTS=OFF \
  -DOPENBATCH_BUILD_BENCH=OFF -DOPENBATCH_SANITIZE=address,undefined,fuzzer-no-link \
  "${launcher[@]+"${launcher[@]}"}" >/dev/null
cmake --build "$build" -j"$(nproc)" --target openbatch_fuzzers

targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in fuzz/fuzz_*.cpp; do
    n=$(basename "$f" .cpp)
    targets+=("${n#fuzz_}")
  done
fi

# Each libFuzzer run uses one core: FUZZ_JOBS of them at once (each prints one line when done).
fuzz_jobs=${FUZZ_JOBS:-$(nproc)}
echo "== run each target (FUZZ_SECONDS=$FUZZ_SECONDS${FUZZ_RUNS:+, FUZZ_RUNS=$FUZZ_RUNS}, $fuzz_jobs at once)"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= fuzz_jobs)); do wait -n || true; done
  (if fuzz/run_fuzzer.sh "$build/fuzz/fuzz_$t" "fuzz/corpus/$t" "$build/fuzz/work/$t"; then
     echo passed >>"$results"
   else
     echo failed >>"$results"
   fi) &
done
wait
passed=$(grep -c '^passed' "$results" || true)
failed=$(grep -c '^failed' "$results" || true)
echo "fuzz: $passed passed, $failed failed"
((failed == 0))
