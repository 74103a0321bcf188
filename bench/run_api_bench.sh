#!/usr/bin/env bash
# run_api_bench.sh: runs openbatch-bench-api_bench against fresh schedulers and reports the
# scheduler's RSS and CPU -- 8 clients x 200,000 tasks with synchronous=FULL and with
# --no-fsync-full side by side, then one 1,000,000-task job (RSS, deep list pages, single-task
# GETs, again after a restart). Builds nothing.
#
# Usage: bench/run_api_bench.sh [BUILD_DIR]     (default $BUILD_DIR, else build/)
# Knobs (environment): CLIENTS=8 TASKS=200000 BIG_TASKS=1000000 DEEP_PAGES=500
#                      PHASE_TIMEOUT=300 (seconds per api_bench run) SKIP_BIG=1 (no 1M phase)
set -euo pipefail

BUILD_DIR=$(realpath "${1:-${BUILD_DIR:-build}}")
SCHEDULER=$BUILD_DIR/scheduler/openbatch-scheduler
BENCH=$BUILD_DIR/bench/openbatch-bench-api_bench
CLIENTS=${CLIENTS:-8}
TASKS=${TASKS:-200000}
BIG_TASKS=${BIG_TASKS:-1000000}
DEEP_PAGES=${DEEP_PAGES:-500}
PHASE_TIMEOUT=${PHASE_TIMEOUT:-300}
ACCOUNT=benchaccount
for exe in "$SCHEDULER" "$BENCH"; do
  [[ -x $exe ]] || { echo "run_api_bench: $exe is missing; build it first (see bench/README.md)" >&2; exit 2; }
done

KEY=$(head -c 32 /dev/urandom | base64 -w0)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/openbatch-api-bench.XXXXXX")
PID=""
URL=""
DATA=""
HZ=$(getconf CLK_TCK)

stop_scheduler() {
  [[ -n $PID ]] || return 0
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$PID" 2>/dev/null; then
    echo "run_api_bench: scheduler $PID ignored SIGTERM for 30 s; killing it" >&2
    kill -KILL "$PID" 2>/dev/null || true
  fi
  wait "$PID" 2>/dev/null || true
  PID=""
}
cleanup() { stop_scheduler; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_scheduler NAME [FLAGS...]: a scheduler on data dir $WORK/NAME; sets PID and URL.
start_scheduler() {
  local name=$1
  shift
  rm -f "$WORK/ready"
  DATA=$WORK/$name
  OPENBATCH_ACCOUNT_KEY="$KEY" "$SCHEDULER" --listen 127.0.0.1:0 --data-dir "$WORK/$name" --account "$ACCOUNT" \
    --ready-file "$WORK/ready" --log-level warn "$@" >>"$WORK/$name.log" 2>&1 &
  PID=$!
  for _ in $(seq 200); do
    [[ -s $WORK/ready ]] && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/$name.log" >&2; PID=""; exit 1; }
    sleep 0.1
  done
  [[ -s $WORK/ready ]] || { echo "run_api_bench: scheduler not ready after 20 s" >&2; exit 1; }
  URL=$(cat "$WORK/ready")
  echo "scheduler: OPENBATCH_ACCOUNT_KEY=\"\$KEY\" $SCHEDULER --listen 127.0.0.1:0 --data-dir \$TMP/$name" \
    "--account $ACCOUNT --ready-file \$TMP/ready --log-level warn $* (pid $PID, $URL)"
}

# CPU seconds (user+system) of a /proc/.../stat file; the fields after "(comm) ".
cpu_seconds() { sed 's/^.*) //' "$1" | awk -v hz="$HZ" '{printf "%.2f", ($12 + $13) / hz}'; }

# report_scheduler LABEL: RSS, peak RSS, CPU split by thread (tid order: main = I/O thread 1,
# then the store writer, then the other I/O threads).
report_scheduler() {
  local rss hwm user sys
  rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$PID/status")
  hwm=$(awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$PID/status")
  read -r user sys < <(sed 's/^.*) //' "/proc/$PID/stat" | awk -v hz="$HZ" '{printf "%.2f %.2f\n", $12 / hz, $13 / hz}')
  echo "SCHEDULER [$1] VmRSS=${rss}MiB VmHWM=${hwm}MiB cpu_s=$(cpu_seconds "/proc/$PID/stat") (user $user, sys $sys)" \
    "data_dir=$(du -sm "$DATA" | cut -f1)MB"
  local line="  threads:" n=0 role tid
  for tid in $(cd "/proc/$PID/task" && printf '%s\n' * | sort -n); do
    if [[ $tid == "$PID" ]]; then role="io-main"; elif ((n == 1)); then role="store-writer"; else role="io"; fi
    line+=" $role=$(cpu_seconds "/proc/$PID/task/$tid/stat")s"
    n=$((n + 1))
  done
  echo "$line"
}

# bench ARGS...: api_bench against $URL, bounded in time; a failure is reported, not fatal.
bench() {
  local rc=0
  OPENBATCH_ACCOUNT_KEY="$KEY" timeout --signal=INT "$PHASE_TIMEOUT" "$BENCH" --url "$URL" --account "$ACCOUNT" --scheduler-pid "$PID" "$@" || rc=$?
  ((rc == 0)) || echo "FAILED: api_bench exited with $rc (124: over PHASE_TIMEOUT=${PHASE_TIMEOUT}s)"
}

summary_value() { sed -n "s/.*SUMMARY.* $2=\([0-9.]*\).*/\1/p" "$1"; }

echo "== machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
  "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== date: $(date -u '+%Y-%m-%dT%H:%M:%SZ')"

echo
echo "== phase 1: $CLIENTS clients x $TASKS tasks, synchronous=FULL (default)"
start_scheduler full
bench --clients "$CLIENTS" --tasks "$TASKS" --job-prefix full | tee "$WORK/full.out"
report_scheduler "$TASKS tasks, FULL"
stop_scheduler

echo
echo "== phase 2: $CLIENTS clients x $TASKS tasks, --no-fsync-full"
start_scheduler normal --no-fsync-full
bench --clients "$CLIENTS" --tasks "$TASKS" --job-prefix normal | tee "$WORK/normal.out"
report_scheduler "$TASKS tasks, NORMAL"
stop_scheduler
full_rate=$(summary_value "$WORK/full.out" tasks_per_s)
normal_rate=$(summary_value "$WORK/normal.out" tasks_per_s)
full_p99=$(summary_value "$WORK/full.out" add_p99_ms)
normal_p99=$(summary_value "$WORK/normal.out" add_p99_ms)
awk -v f="$full_rate" -v n="$normal_rate" -v fp="$full_p99" -v np="$normal_p99" 'BEGIN {
  printf "RATIO FULL/NORMAL tasks/s: %s / %s = %.2f; add p99: %s ms / %s ms = %.2f\n", f, n, f / n, fp, np, fp / np }'

if [[ ${SKIP_BIG:-0} != 1 ]]; then
  echo
  echo "== phase 3: one job of $BIG_TASKS tasks ($CLIENTS clients), synchronous=FULL"
  start_scheduler big
  bench --clients "$CLIENTS" --tasks "$BIG_TASKS" --job-prefix big --single-job --no-readback \
    --deep-pages "$DEEP_PAGES"
  report_scheduler "$BIG_TASKS tasks stored, after fill and probe"
  stop_scheduler

  echo
  echo "== phase 4: the same $BIG_TASKS tasks after a restart (cold caches in the scheduler)"
  start_scheduler big
  report_scheduler "$BIG_TASKS tasks stored, just restarted"
  bench --tasks "$BIG_TASKS" --job-prefix big --probe-only --deep-pages "$DEEP_PAGES"
  report_scheduler "$BIG_TASKS tasks stored, restarted, after probe"
  stop_scheduler
fi
echo
echo "== done"
