#!/usr/bin/env bash
# The README's demo: builds the scheduler, the node agent and the CLI; starts the scheduler
# with the local provisioner (it starts one openbatch-agent per node on this machine); creates
# the pool of examples/pools/cpu-pool.json and waits for its nodes; submits a job of 1,000
# tasks with the `openbatch` CLI and follows it with `openbatch job wait` (live progress);
# prints a summary and a sample of outputs; then stops the scheduler (and its agents) cleanly.
# OPENBATCH_BUILD_DIR picks another build directory (default: build); DEMO_TASKS the count.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
build=${OPENBATCH_BUILD_DIR:-build}
tasks=${DEMO_TASKS:-1000}

.ci/install-deps.sh

echo "== build openbatch-scheduler, openbatch-agent and openbatch ($build/)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target openbatch-scheduler openbatch-agent openbatch

work=$(mktemp -d "${TMPDIR:-/tmp}/openbatch-demo.XXXXXX")
# The data dir ($work/data) is private (the scheduler makes it 0700); the local node roots are
# beside it ($work/data.nodes), where tasks running as the unprivileged task user must reach.
chmod 755 "$work"
mkdir -p "$work/data"
export OPENBATCH_ACCOUNT=demo
# The key reaches the scheduler and the CLI through the environment, never a command line.
OPENBATCH_ACCOUNT_KEY=$(head -c 32 /dev/urandom | base64)
export OPENBATCH_ACCOUNT_KEY
cli="$build/cli/openbatch"
pid=

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== start the scheduler (local provisioner; data dir $work/data)"
"$build/scheduler/openbatch-scheduler" --listen 127.0.0.1:0 --data-dir "$work/data" \
  --account "$OPENBATCH_ACCOUNT" --ready-file "$work/url" \
  >"$work/scheduler.log" 2>&1 &
pid=$!
deadline=$((SECONDS + 30))
until [[ -s $work/url ]]; do
  if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
    echo "demo: the scheduler did not start; its output:" >&2
    cat "$work/scheduler.log" >&2
    exit 1
  fi
  sleep 0.1
done
OPENBATCH_URL=$(cat "$work/url")
export OPENBATCH_URL
echo "scheduler pid $pid listening on $OPENBATCH_URL"

echo "== openbatch pool create -f examples/pools/cpu-pool.json"
"$cli" pool create -f examples/pools/cpu-pool.json
nodes=$(grep -o '"targetDedicatedNodes": *[0-9]*' examples/pools/cpu-pool.json | grep -o '[0-9]*$')
echo "waiting for $nodes nodes to join (one openbatch-agent each)..."
deadline=$((SECONDS + 60))
until (( $("$cli" node list cpu-pool | grep -c -w idle || true) == nodes )); do
  if ((SECONDS >= deadline)); then
    echo "demo: the nodes did not become idle; scheduler output:" >&2
    cat "$work/scheduler.log" >&2
    exit 1
  fi
  sleep 0.2
done
"$cli" node list cpu-pool

echo "== openbatch job create -f examples/jobs/cpu-job.json; $tasks tasks"
"$cli" job create -f examples/jobs/cpu-job.json
{
  echo '['
  for ((i = 1; i <= tasks; i++)); do
    sep=','
    ((i == tasks)) && sep=''
    # Each task does a little real work: hashes its own id, then reports where it ran.
    printf '{"id":"task-%04d","commandLine":"/bin/sh -c \\"echo task $AZ_BATCH_TASK_ID on $AZ_BATCH_NODE_ID: $(printf %%s $AZ_BATCH_TASK_ID | sha256sum | cut -c1-16) $DEMO\\""}%s\n' "$i" "$sep"
  done
  echo ']'
} >"$work/tasks.json"
start=$(date +%s.%N)
"$cli" task add demo-job -f "$work/tasks.json"
"$cli" job wait demo-job --interval 0.5
end=$(date +%s.%N)

echo "== summary"
"$cli" job show demo-job
failed=$("$cli" task list demo-job --filter "executionInfo/result eq 'failure'" | grep -c task- || true)
echo "failed tasks: $failed"
awk -v s="$start" -v e="$end" -v n="$tasks" 'BEGIN { printf "%d tasks submitted and completed in %.2f s (%.0f tasks/s)\n", n, e - s, n / (e - s) }'
"$cli" node list cpu-pool

echo "== a sample of outputs (openbatch file get demo-job TASK stdout.txt)"
for t in task-0001 "task-$(printf %04d $(((tasks + 1) / 2)))" "task-$(printf %04d "$tasks")"; do
  "$cli" file get demo-job "$t" stdout.txt
done

echo "== stop the scheduler (SIGTERM; it stops its agents)"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
echo "scheduler exited with status $status"
if pgrep -f "$work/data/agents" >/dev/null; then
  echo "demo: agents still running after the scheduler stopped" >&2
  exit 1
fi
echo "no agent left running"
exit "$status"
