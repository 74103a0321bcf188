#!/usr/bin/env bash
# run_e2e_bench.sh: OpenBatch and Slurm side by side on this machine, in one sitting.
#   1. For each (K nodes, S slots) in CONFIGS: a fresh openbatch-scheduler (local provisioner:
#      one openbatch-agent per node on this machine), openbatch-bench-e2e_bench: N trivial tasks
#      end to end (tasks/s, CPU per 1,000 tasks) and L single tasks on the idle pool (submit ->
#      start latency); then SIGTERM (the scheduler stops its agents).
#   2. Slurm with the shared scripts (/work/shared/bench/slurm) in its best configuration
#      (4 nodes x 16 CPUs, batch_sched_delay=0): setup.sh, start.sh --clean, bench.py tests b
#      (N jobs end to end, loop of sbatch and one array) and c (submit -> start), stop.sh.
#   3. A side-by-side table with ratios.
# Builds nothing. Must run as root (Slurm's daemons). Temp dirs under /tmp, removed at the end.
#
# Usage: bench/run_e2e_bench.sh [BUILD_DIR]     (default $BUILD_DIR, else build-bench)
# Knobs (environment): CONFIGS="2x4 4x4 4x8 4x16@STANDARD_D4S_V3" (KxS[@vmSize]; default size
#   STANDARD_D2S_V3, which allows S <= 8) TASKS=5000 LAT_TASKS=100 CLIENTS=4
#   POLL_MS=100 SKIP_SLURM=1 SLURM_DIR=/work/shared/bench/slurm SLURM_N=$TASKS SLURM_REPS=1
#   SLURM_LAT_JOBS=50 PHASE_TIMEOUT=600 (seconds per e2e_bench run) QUIET_WAIT=120 (seconds to
#   wait for >= 80% idle cores before each system's run) SCHED_ARGS="..." (extra scheduler
#   arguments, e.g. "--agent-arg=--task-shims --agent-arg=off" to run tasks without shims)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=$(realpath "${1:-${BUILD_DIR:-$HERE/../build-bench}}")
SCHEDULER=$BUILD_DIR/scheduler/openbatch-scheduler
AGENT=$BUILD_DIR/node_agent/openbatch-agent
BENCH=$BUILD_DIR/bench/openbatch-bench-e2e_bench
# KxS[@VMSIZE]: Azure allows taskSlotsPerNode <= 4 x vCPUs, so S=16 needs a 4-vCPU size
CONFIGS=${CONFIGS:-"2x4 4x4 4x8 4x16@STANDARD_D4S_V3"}
TASKS=${TASKS:-5000}
LAT_TASKS=${LAT_TASKS:-100}
CLIENTS=${CLIENTS:-4}
POLL_MS=${POLL_MS:-100}
PHASE_TIMEOUT=${PHASE_TIMEOUT:-600}
SLURM_DIR=${SLURM_DIR:-/work/shared/bench/slurm}
SLURM_N=${SLURM_N:-$TASKS}
SLURM_REPS=${SLURM_REPS:-1}
SLURM_LAT_JOBS=${SLURM_LAT_JOBS:-50}
ACCOUNT=benchaccount
read -r -a SCHED_ARGS_ARRAY <<<"${SCHED_ARGS:-}"

[[ $EUID -eq 0 ]] || { echo "run_e2e_bench: must run as root (Slurm's daemons, task users)" >&2; exit 2; }
for exe in "$SCHEDULER" "$AGENT" "$BENCH"; do
  [[ -x $exe ]] || { echo "run_e2e_bench: $exe is missing; build it first (see bench/README.md)" >&2; exit 2; }
done

KEY=$(head -c 32 /dev/urandom | base64 -w0)
WORK=$(mktemp -d /tmp/openbatch-e2e.XXXXXX)
# mktemp makes it 0700; tasks run as a non-admin user that must reach its working directory
chmod 0755 "$WORK"
PID=""
URL=""
DATA=""
SLURM_STARTED=0
SLURM_RUN_EXISTED=1
SLURMBENCH_EXISTED=1
[[ -d $SLURM_DIR/run ]] || SLURM_RUN_EXISTED=0
[[ -d /tmp/slurmbench ]] || SLURMBENCH_EXISTED=0
ETC_BACKUP=$WORK/etc-slurm
ETC_SAVED=0

# Agents of the current data dir still alive (pids from agents/<pool>/<node>/agent.pid).
live_agents() {
  local f pid
  [[ -n $DATA && -d $DATA/agents ]] || return 0
  for f in "$DATA"/agents/*/*/agent.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && grep -q openbatch-agent "/proc/$pid/cmdline" 2>/dev/null; then
      echo "$pid"
    fi
  done
}

stop_scheduler() {
  [[ -n $PID ]] || return 0
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$PID" 2>/dev/null; then
    echo "run_e2e_bench: scheduler $PID ignored SIGTERM for 30 s; killing it" >&2
    kill -KILL "$PID" 2>/dev/null || true
  fi
  wait "$PID" 2>/dev/null || true
  PID=""
  # The scheduler stops its agents on SIGTERM; any left over (it was killed) go by pid.
  local left
  left=$(live_agents)
  if [[ -n $left ]]; then
    echo "run_e2e_bench: agents still running after the scheduler stopped: $left; stopping them" >&2
    for pid in $left; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 2
    for pid in $(live_agents); do kill -KILL "$pid" 2>/dev/null || true; done
  fi
}

stop_slurm() {
  [[ $SLURM_STARTED == 1 ]] || return 0
  SLURM_STARTED=0
  echo "== slurm: stop.sh"
  (cd "$SLURM_DIR" && ./stop.sh) || true
}

cleanup() {
  stop_scheduler
  stop_slurm
  if [[ $ETC_SAVED == 1 ]]; then
    # put back the Slurm configuration we found
    for f in slurm.conf gres.conf cgroup.conf bench_nodes; do
      if [[ -f $ETC_BACKUP/$f ]]; then cp -p "$ETC_BACKUP/$f" "/etc/slurm/$f"; else rm -f "/etc/slurm/$f"; fi
    done
  fi
  [[ $SLURM_RUN_EXISTED == 1 ]] || rm -rf "$SLURM_DIR/run"
  [[ $SLURMBENCH_EXISTED == 1 ]] || rm -rf /tmp/slurmbench
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_scheduler() {
  local name=$1
  rm -f "$WORK/ready"
  DATA=$WORK/$name
  OPENBATCH_ACCOUNT_KEY="$KEY" "$SCHEDULER" --listen 127.0.0.1:0 --data-dir "$DATA" --account "$ACCOUNT" \
    --ready-file "$WORK/ready" --agent-binary "$AGENT" --log-level warn "${SCHED_ARGS_ARRAY[@]+"${SCHED_ARGS_ARRAY[@]}"}" >>"$WORK/$name.log" 2>&1 &
  PID=$!
  for _ in $(seq 200); do
    [[ -s $WORK/ready ]] && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/$name.log" >&2; PID=""; exit 1; }
    sleep 0.1
  done
  [[ -s $WORK/ready ]] || { echo "run_e2e_bench: scheduler not ready after 20 s" >&2; exit 1; }
  URL=$(cat "$WORK/ready")
  echo "scheduler: OPENBATCH_ACCOUNT_KEY=\"\$KEY\" $SCHEDULER --listen 127.0.0.1:0 --data-dir \$TMP/$name --account $ACCOUNT" \
    "--ready-file \$TMP/ready --agent-binary $AGENT --log-level warn (pid $PID, $URL)"
}

# wait_quiet: up to QUIET_WAIT seconds for the machine to be >= 80% idle over 2 s (other
# engineers' builds share the 2 cores); prints what it found. The figures still show "others".
wait_quiet() {
  local waited=0 idle
  while :; do
    idle=$(awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; sleep 2
           awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)
    idle=$(echo "$idle" | awk 'NR == 1 {i = $1; t = $2} NR == 2 {printf "%d", 100 * ($1 - i) / ($2 - t)}')
    if ((idle >= 80)); then echo "machine ${idle}% idle (waited ${waited}s)"; return 0; fi
    if ((waited >= ${QUIET_WAIT:-120})); then echo "machine only ${idle}% idle after ${waited}s; going on (see 'others')"; return 0; fi
    waited=$((waited + 2))
  done
}

echo "== machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
  "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== date: $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
echo "== code: HEAD $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$HERE/.." diff --quiet HEAD -- scheduler node_agent common 2>/dev/null || echo ' (+ local changes)');" \
  "binaries built $(date -u -r "$SCHEDULER" '+%H:%M:%SZ') (scheduler), $(date -u -r "$AGENT" '+%H:%M:%SZ') (agent)"

: >"$WORK/openbatch.summary"
for cfg in $CONFIGS; do
  vm=STANDARD_D2S_V3
  [[ $cfg == *@* ]] && vm=${cfg#*@}
  cfg=${cfg%@*}
  k=${cfg%x*}
  s=${cfg#*x}
  echo
  echo "== openbatch: K=$k nodes x S=$s slots ($vm), $TASKS tasks, $LAT_TASKS latency tasks"
  wait_quiet
  start_scheduler "k${k}s${s}"
  rc=0
  OPENBATCH_ACCOUNT_KEY="$KEY" timeout --signal=INT "$PHASE_TIMEOUT" "$BENCH" --url "$URL" --account "$ACCOUNT" \
    --scheduler-pid "$PID" --data-dir "$DATA" --nodes "$k" --slots "$s" --vm-size "$vm" --tasks "$TASKS" \
    --clients "$CLIENTS" --poll-ms "$POLL_MS" --latency-tasks "$LAT_TASKS" | tee "$WORK/k${k}s${s}.out" || rc=$?
  ((rc == 0)) || echo "FAILED: e2e_bench exited with $rc (124: over PHASE_TIMEOUT=${PHASE_TIMEOUT}s)"
  grep '^SUMMARY' "$WORK/k${k}s${s}.out" | sed "s/^SUMMARY/SUMMARY config=${k}x${s}/" >>"$WORK/openbatch.summary" || true
  warnings=$(grep -c -iE '\] \[(warning|error|critical)\]' "$WORK/k${k}s${s}.log" || true)
  echo "scheduler log: $warnings warning/error lines$( ((warnings == 0)) || { echo ':'; grep -iE '\] \[(warning|error|critical)\]' "$WORK/k${k}s${s}.log" | head -5; })"
  stop_scheduler
done

SLURM_JSON=$WORK/slurm.json
if [[ ${SKIP_SLURM:-0} != 1 ]]; then
  echo
  echo "== slurm: best configuration (4 nodes x 16 CPUs, SchedulerParameters=batch_sched_delay=0), $SLURM_N jobs"
  if [[ -s $SLURM_DIR/run/pids ]]; then
    echo "run_e2e_bench: $SLURM_DIR/run/pids exists: Slurm is already running (someone else's); skipping Slurm" >&2
  else
    mkdir -p "$ETC_BACKUP"
    for f in slurm.conf gres.conf cgroup.conf bench_nodes; do
      [[ -f /etc/slurm/$f ]] && cp -p "/etc/slurm/$f" "$ETC_BACKUP/$f"
    done
    ETC_SAVED=1
    install=--no-install
    command -v slurmctld >/dev/null && command -v munged >/dev/null || install=""
    (cd "$SLURM_DIR" && ./setup.sh $install --nodes 4 --cpus-per-node 16 --sched-params batch_sched_delay=0) \
      >"$WORK/slurm-setup.log" 2>&1 || { cat "$WORK/slurm-setup.log" >&2; exit 1; }
    echo "setup: $SLURM_DIR/setup.sh $install --nodes 4 --cpus-per-node 16 --sched-params batch_sched_delay=0"
    wait_quiet
    SLURM_STARTED=1
    (cd "$SLURM_DIR" && ./start.sh --clean)
    cmd=(/usr/bin/python3 "$SLURM_DIR/bench.py" --label e2e-4x16 --out "$SLURM_JSON" --tests b,c --n "$SLURM_N"
         --reps "$SLURM_REPS" --lat-jobs "$SLURM_LAT_JOBS")
    echo "bench: ${cmd[*]}"
    "${cmd[@]}" | grep -E '^\[(b|c_latency)\]' || echo "FAILED: bench.py"
    stop_slurm
  fi
fi

echo
echo "== side by side ($(date -u '+%Y-%m-%dT%H:%M:%SZ'))"
python3 - "$WORK/openbatch.summary" "$SLURM_JSON" <<'EOF'
import json, os, statistics, sys
rows = []
for line in open(sys.argv[1]):
    kv = dict(x.split("=", 1) for x in line.split()[1:] if "=" in x)
    rows.append(kv)
sl = None
if os.path.exists(sys.argv[2]):
    sl = json.load(open(sys.argv[2]))

def f(x, nd=1):
    return "-" if x is None else f"{float(x):,.{nd}f}"

print(f"{'system / config':<34} {'tasks/s':>9} {'start p50':>10} {'start p99':>10} {'done p99':>9} "
      f"{'own CPU s/1k':>12} {'+children':>10} {'machine':>8}")
for r in rows:
    print(f"{'OpenBatch K=' + r['nodes'] + ' S=' + r['slots']:<34} {f(r['tasks_per_s'],0):>9} "
          f"{f(r['start_p50_ms'])+' ms':>10} {f(r['start_p99_ms'])+' ms':>10} {f(r['done_p99_ms'])+' ms':>9} "
          f"{f(r['own_cpu_per_1000'],3):>12} {f(r['with_children_per_1000'],3):>10} {f(r['machine_cpu_per_1000'],2):>8}")
slurm = {}
if sl:
    b = sl.get("b_end_to_end", {})
    for mode in ("loop", "array"):
        recs = b.get(mode, [])
        if not recs:
            continue
        def med(fn):
            return statistics.median(fn(x) for x in recs)
        rate = med(lambda x: x["e2e_jobs_per_s"])
        n = recs[0]["n"]
        own = med(lambda x: (x["cpu_seconds"]["slurmctld_proc"] + x["cpu_seconds"]["slurmd_proc"]
                             + x["cpu_seconds"]["munged_proc"]) * 1000 / x["n"])
        tree = None
        if recs[0]["cpu_seconds"].get("cg_ctld") is not None:
            tree = med(lambda x: (x["cpu_seconds"]["cg_ctld"] + x["cpu_seconds"]["cg_slurmd"]
                                  + x["cpu_seconds"]["cg_munge"]) * 1000 / x["n"])
        mach = med(lambda x: x["cpu_seconds"]["sys_busy"] * 1000 / x["n"])
        slurm[mode] = dict(rate=rate, own=own, tree=tree, mach=mach, n=n)
    c = sl.get("summary", {}).get("c_latency", {})
    st, dn = c.get("submit_to_start", {}), c.get("submit_to_done", {})
    for mode, v in slurm.items():
        print(f"{'Slurm 4x16 ' + mode + ' (' + str(v['n']) + ' jobs)':<34} {f(v['rate'],1):>9} "
              f"{f(st.get('p50', 0)*1000)+' ms':>10} {f(st.get('p99', 0)*1000)+' ms':>10} "
              f"{f(dn.get('p99', 0)*1000,0)+' ms':>9} {f(v['own'],3):>12} {f(v['tree'],3):>10} {f(v['mach'],2):>8}")
    slurm["lat"] = (st, dn)
print("columns: tasks/s = N / (first add -> all completed); start = executionInfo.startTime - creationTime "
      "(Slurm: sbatch -> the job's first command); done = client add -> completed observed; own CPU = "
      "scheduler+agents (Slurm: slurmctld+slurmd+munged) utime+stime per 1,000 tasks; +children = with the "
      "reaped task processes (Slurm: the daemons' cgroups incl. slurmstepd and jobs); machine = /proc/stat busy.")
if rows and slurm.get("loop"):
    best = max(rows, key=lambda r: float(r["tasks_per_s"]))
    srate = max(v["rate"] for k, v in slurm.items() if k != "lat")
    sown = min(v["own"] for k, v in slurm.items() if k != "lat")
    st, dn = slurm["lat"]
    p99 = min((float(r["start_p99_ms"]) for r in rows if int(r["lat_n"]) > 0), default=None)
    print()
    print(f"RATIO tasks/s: OpenBatch best (K={best['nodes']} S={best['slots']}) {float(best['tasks_per_s']):.0f} / "
          f"Slurm best {srate:.1f} = {float(best['tasks_per_s']) / srate:.1f}x")
    if st.get("p99") and p99:
        print(f"RATIO submit->start p99: Slurm {st['p99']*1000:.0f} ms / OpenBatch best {p99:.1f} ms = "
              f"{st['p99'] * 1000 / p99:.0f}x")
    print(f"RATIO own CPU per 1,000: Slurm best {sown:.2f} s / OpenBatch (K={best['nodes']} S={best['slots']}) "
          f"{float(best['own_cpu_per_1000']):.3f} s = {sown / float(best['own_cpu_per_1000']):.1f}x")
    trees = [v["tree"] for k, v in slurm.items() if k != "lat" and v.get("tree") is not None]
    if trees:
        print(f"RATIO CPU per 1,000 with children (task processes): Slurm best {min(trees):.2f} s / OpenBatch "
              f"{float(best['with_children_per_1000']):.3f} s = {min(trees) / float(best['with_children_per_1000']):.1f}x")
    smach = min(v["mach"] for k, v in slurm.items() if k != "lat")
    print(f"RATIO machine CPU per 1,000: Slurm best {smach:.2f} s / OpenBatch {float(best['machine_cpu_per_1000']):.3f} s = "
          f"{smach / float(best['machine_cpu_per_1000']):.1f}x")
print()
print("targets: >= 1,000 tasks/s; submit->start p99 <= 50 ms; scheduler+agents <= 2 CPU-s per 1,000 tasks")
for r in rows:
    ok = lambda c: "met" if c else "MISSED"
    print(f"  K={r['nodes']} S={r['slots']}: tasks/s {float(r['tasks_per_s']):.0f} {ok(float(r['tasks_per_s']) >= 1000)}; "
          f"p99 {float(r['start_p99_ms']):.1f} ms {ok(int(r['lat_n']) > 0 and float(r['start_p99_ms']) <= 50)}; "
          f"CPU {float(r['own_cpu_per_1000']):.3f} s {ok(float(r['own_cpu_per_1000']) <= 2)}")
EOF
echo
echo "== done"
