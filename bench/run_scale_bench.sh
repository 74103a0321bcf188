#!/usr/bin/env bash
# run_scale_bench.sh: the scheduler's cost against many nodes, with simulated agents.
# For each N in NODES: a fresh openbatch-scheduler (temp data dir, account key in a 0600 key
# file, fd limit raised for N links), then openbatch-bench-agent_sim with N simulated nodes in
# one process (bench/sim/sim_node.hpp: the real agent protocol, no task processes):
#   join      N nodes join a static pool and link, until /nodecounts says N idle: wall, CPU-s;
#   idle      IDLE_SECONDS of heartbeats (every HEARTBEAT seconds): % of one core, RSS;
#   dispatch  TASKS plain tasks (addtaskcollection, 100 a request, CLIENTS threads): tasks/s
#             from the first assignment to the last completed report acked, CPU-s;
#   gang      one multi-instance task of INSTANCES instances (skipped when > N): POST ->
#             completed, wall and CPU-s.
# CPU is the scheduler's utime+stime from /proc/<pid>/stat. Builds nothing; temp dirs under
# /tmp, removed at the end (KEEP_WORK=1 keeps them).
#
# Usage: bench/run_scale_bench.sh [BUILD_DIR]     (default $BUILD_DIR, else build)
# Knobs (environment): NODES="1000 10000 50000" IDLE_SECONDS=30 TASKS=20000 INSTANCES=1000
#   CLIENTS=4 CONCURRENCY=256 (joins in flight) SIM_THREADS=1 HEARTBEAT=10 RUN_MS=0
#   PHASE_TIMEOUT=600 (seconds per phase) SCHED_ARGS="..." (extra scheduler arguments)
#   LINK_NODES=K: only K nodes link after joining, the others only POST /agent/v1/join (join
#   cost past the fd limit: 50,000 links need a hard fd limit above 50,000; here it is 20,000)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=$(realpath "${1:-${BUILD_DIR:-$HERE/../build}}")
SCHEDULER=$BUILD_DIR/scheduler/openbatch-scheduler
SIM=$BUILD_DIR/bench/openbatch-bench-agent_sim
NODES=${NODES:-"1000 10000 50000"}
IDLE_SECONDS=${IDLE_SECONDS:-30}
TASKS=${TASKS:-20000}
INSTANCES=${INSTANCES:-1000}
CLIENTS=${CLIENTS:-4}
CONCURRENCY=${CONCURRENCY:-256}
SIM_THREADS=${SIM_THREADS:-1}
HEARTBEAT=${HEARTBEAT:-10}
RUN_MS=${RUN_MS:-0}
PHASE_TIMEOUT=${PHASE_TIMEOUT:-600}
LINK_NODES=${LINK_NODES:-}
ACCOUNT=benchaccount
read -r -a SCHED_ARGS_ARRAY <<<"${SCHED_ARGS:-}"

for exe in "$SCHEDULER" "$SIM"; do
  [[ -x $exe ]] || { echo "run_scale_bench: $exe is missing; build it first (see bench/README.md)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/openbatch-scale.XXXXXX)
# mktemp makes it 0700; the scheduler warns when its nodes directory is unreachable by tasks
chmod 0755 "$WORK"
KEY_FILE=$WORK/account.key
(umask 077 && head -c 32 /dev/urandom | base64 -w0 >"$KEY_FILE")
PID=""

stop_scheduler() {
  [[ -n $PID ]] || return 0
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$PID" 2>/dev/null; then
    echo "run_scale_bench: scheduler $PID ignored SIGTERM for 10 s; killing it" >&2
    kill -KILL "$PID" 2>/dev/null || true
  fi
  wait "$PID" 2>/dev/null || true
  PID=""
}
cleanup() {
  stop_scheduler
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
  "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== date: $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
echo "== code: HEAD $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$HERE/.." diff --quiet HEAD -- scheduler common 2>/dev/null || echo ' (+ local changes)');" \
  "scheduler built $(date -u -r "$SCHEDULER" '+%H:%M:%SZ')"

: >"$WORK/summary"
for n in $NODES; do
  echo
  echo "== N=$n nodes"
  data=$WORK/n$n
  rm -f "$WORK/ready"
  # Each link is an fd on both sides; the scheduler's connection cap follows its fd limit.
  links=$n
  [[ -n $LINK_NODES ]] && ((LINK_NODES < n)) && links=$LINK_NODES
  fds=$((links * 2 + 4096))
  # Raising the hard limit takes CAP_SYS_RESOURCE; without it, as far as the hard limit goes.
  hard=$(ulimit -Hn)
  if [[ $hard != unlimited ]] && ((fds > hard)); then
    fds=$hard
    ((links + 1024 < hard)) || echo "run_scale_bench: the fd hard limit ($hard) is below N=$n links plus a reserve; expect refused links" >&2
  fi
  (ulimit -n "$fds" && exec "$SCHEDULER" --listen 127.0.0.1:0 --data-dir "$data" --account "$ACCOUNT" \
    --key-file "$KEY_FILE" --ready-file "$WORK/ready" --heartbeat-seconds "$HEARTBEAT" --log-level warn \
    "${SCHED_ARGS_ARRAY[@]+"${SCHED_ARGS_ARRAY[@]}"}") >>"$WORK/n$n.log" 2>&1 &
  PID=$!
  for _ in $(seq 200); do
    [[ -s $WORK/ready ]] && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/n$n.log" >&2; PID=""; exit 1; }
    sleep 0.1
  done
  [[ -s $WORK/ready ]] || { echo "run_scale_bench: scheduler not ready after 20 s" >&2; exit 1; }
  url=$(cat "$WORK/ready")
  echo "scheduler: (ulimit -n $fds; $SCHEDULER --listen 127.0.0.1:0 --data-dir \$TMP/n$n --account $ACCOUNT" \
    "--key-file \$TMP/account.key --ready-file \$TMP/ready --heartbeat-seconds $HEARTBEAT --log-level warn ${SCHED_ARGS:-})" \
    "(pid $PID, $url)"
  rc=0
  OPENBATCH_ACCOUNT_KEY=$(cat "$KEY_FILE") "$SIM" --url "$url" --account "$ACCOUNT" --scheduler-pid "$PID" \
    --nodes "$n" --concurrency "$CONCURRENCY" --threads "$SIM_THREADS" --idle-seconds "$IDLE_SECONDS" \
    --tasks "$TASKS" --clients "$CLIENTS" --instances "$INSTANCES" --run-ms "$RUN_MS" \
    --timeout-s "$PHASE_TIMEOUT" ${LINK_NODES:+--link-nodes "$LINK_NODES"} | tee "$WORK/n$n.out" || rc=$?
  ((rc == 0)) || echo "FAILED: agent_sim exited with $rc"
  grep '^SUMMARY' "$WORK/n$n.out" >>"$WORK/summary" || true
  warnings=$(grep -c -iE '\] \[(warning|error|critical)\]' "$WORK/n$n.log" || true)
  echo "scheduler log: $warnings warning/error lines$( ((warnings == 0)) || { echo ':'; grep -iE '\] \[(warning|error|critical)\]' "$WORK/n$n.log" | head -5; })"
  stop_scheduler
done

echo
echo "== results ($(date -u '+%Y-%m-%dT%H:%M:%SZ'), load $(cut -d' ' -f1-3 /proc/loadavg))"
python3 - "$WORK/summary" <<'EOF'
import sys
rows = [dict(x.split("=", 1) for x in line.split()[1:]) for line in open(sys.argv[1])]
head = ("nodes", "linked", "join s", "join CPU-s", "idle %core", "RSS MiB", "tasks", "tasks/s",
        "disp CPU-s", "gang inst", "gang s", "gang CPU-s", "ok")
keys = ("nodes", "linked", "join_s", "join_cpu_s", "idle_pct", "idle_rss_mib", "tasks", "tasks_per_s",
        "dispatch_cpu_s", "instances", "gang_s", "gang_cpu_s", "ok")
print(" ".join(f"{h:>11}" for h in head))
for r in rows:
    print(" ".join(f"{r.get(k, '-'):>11}" for k in keys))
print("targets (issue 11): 10,000 join < 10 s using < 2 CPU-s; 50,000 join linear; idle at 10,000 "
      "< 3% of a core; 1,000-instance gang < 2 s; dispatch to 10,000 >= 2,000 tasks/s")
EOF
echo "== done"
