#!/usr/bin/env bash
# Runs one libFuzzer target over its seed corpus for a while and prints one summary line.
#
#   fuzz/run_fuzzer.sh BINARY SEED_CORPUS WORK_DIR [libFuzzer flags...]
#
#   FUZZ_SECONDS   how long to fuzz (default 20); 0 = no time limit (then set FUZZ_RUNS)
#   FUZZ_RUNS      stop after this many executions (default: no limit)
#
# New inputs the fuzzer finds go to WORK_DIR/corpus (the checked-in seeds are only read);
# a crashing input is saved as WORK_DIR/artifacts/crash-<sha1> (rerun it with
# `BINARY FILE`). Exit status: the fuzzer's (0 = no finding).
set -euo pipefail

if (($# < 3)); then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
binary=$1 seeds=$2 work=$3
shift 3
name=$(basename "$binary")
seconds=${FUZZ_SECONDS:-20}
flags=(-print_final_stats=1 -timeout=10 -rss_limit_mb=2048)
((seconds > 0)) && flags+=(-max_total_time="$seconds")
[[ -n ${FUZZ_RUNS:-} ]] && flags+=(-runs="$FUZZ_RUNS")

mkdir -p "$work/corpus" "$work/artifacts"
log=$work/fuzz.log
status=0
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  "$binary" "${flags[@]}" -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" "$seeds" \
  >"$log" 2>&1 || status=$?

stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
runs=$(stat number_of_executed_units)
rate=$(stat average_exec_per_sec)
elapsed=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 | grep -o '[0-9]* second' | grep -o '[0-9]*' || true)
if ((status == 0)); then
  echo "$name: ok, ${runs:-?} executions in ${elapsed:-?} s (${rate:-?} exec/s), corpus $(find "$work/corpus" -type f | wc -l) new inputs"
else
  echo "$name: FAILED (exit $status) after ${runs:-?} executions; log $log; the last 40 lines:"
  tail -40 "$log"
  find "$work/artifacts" -type f -printf '  artifact: %p\n'
fi
exit "$status"
