#!/usr/bin/env bash
# profile_api.sh: samples a fresh scheduler with `perf record` (user-space call graphs, DWARF)
# while api_bench adds tasks, then prints the hottest symbols and the cost buckets of
# bench/perf_buckets.py (where the scheduler's CPU goes per added task). Builds nothing.
#
# Usage: bench/profile_api.sh [BUILD_DIR]       (default $BUILD_DIR, else build/)
# Knobs: CLIENTS=8 TASKS=100000 FREQ=499 SCHEDULER_FLAGS="--no-fsync-full" KEEP=1 (keep perf.data)
set -euo pipefail

BUILD_DIR=$(realpath "${1:-${BUILD_DIR:-build}}")
SCHEDULER=$BUILD_DIR/scheduler/openbatch-scheduler
BENCH=$BUILD_DIR/bench/openbatch-bench-api_bench
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENTS=${CLIENTS:-8}
TASKS=${TASKS:-100000}
FREQ=${FREQ:-499}
command -v perf >/dev/null || { echo "profile_api: perf is not installed" >&2; exit 2; }
for exe in "$SCHEDULER" "$BENCH"; do
  [[ -x $exe ]] || { echo "profile_api: $exe is missing; build it first" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/openbatch-profile.XXXXXX")
PID=""
PERF_PID=""
cleanup() {
  [[ -z $PERF_PID ]] || { kill -INT "$PERF_PID" 2>/dev/null || true; wait "$PERF_PID" 2>/dev/null || true; }
  [[ -z $PID ]] || { kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
  if [[ ${KEEP:-0} == 1 ]]; then echo "kept $WORK/perf.data"; rm -rf "$WORK/data"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

KEY=$(head -c 32 /dev/urandom | base64 -w0)
# shellcheck disable=SC2086  # SCHEDULER_FLAGS is a word list
OPENBATCH_ACCOUNT_KEY="$KEY" "$SCHEDULER" --listen 127.0.0.1:0 --data-dir "$WORK/data" --account benchaccount \
  --ready-file "$WORK/ready" --log-level warn ${SCHEDULER_FLAGS:-} >"$WORK/scheduler.log" 2>&1 &
PID=$!
for _ in $(seq 200); do [[ -s $WORK/ready ]] && break; sleep 0.1; done
[[ -s $WORK/ready ]] || { cat "$WORK/scheduler.log" >&2; exit 1; }

perf record -F "$FREQ" --call-graph dwarf,16384 -p "$PID" -o "$WORK/perf.data" >"$WORK/perf.log" 2>&1 &
PERF_PID=$!
sleep 0.5
kill -0 "$PERF_PID" 2>/dev/null || { echo "profile_api: perf record failed:" >&2; cat "$WORK/perf.log" >&2; exit 2; }
OPENBATCH_ACCOUNT_KEY="$KEY" timeout 300 "$BENCH" --url "$(cat "$WORK/ready")" --account benchaccount --clients "$CLIENTS" \
  --tasks "$TASKS" --no-readback --scheduler-pid "$PID" --job-prefix profile
kill -INT "$PERF_PID"
wait "$PERF_PID" || true
PERF_PID=""

echo
echo "== hottest symbols (self time, scheduler process)"
perf report -i "$WORK/perf.data" --stdio --no-children --sort sym -g none 2>/dev/null |
  python3 -c 'import re, sys
rows = [l for l in sys.stdin if "%" in l and not l.startswith("#")]
for l in rows[:25]:
    l = re.sub(r"nlohmann::json_abi_v3_11_2::basic_json<std::map, .*?adl_serializer, std::vector<unsigned char, std::allocator<unsigned char> > >", "json", l)
    print(l.rstrip()[:160])'
echo
echo "== cost buckets (inclusive, first matching rule; see bench/perf_buckets.py)"
perf script -i "$WORK/perf.data" -F tid,ip,sym 2>/dev/null | python3 "$HERE/perf_buckets.py" "$PID"
