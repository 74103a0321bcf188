#!/usr/bin/env bash
# Demo: builds the scheduler, starts it on 127.0.0.1 with a temporary data dir and a generated
# key, creates the GPU pool of examples/pools/gpu-pool.json and lists pools over HTTP with the
# official Azure Batch JS SDK, then stops the scheduler with SIGTERM. No nodes join yet: the
# full demo with nodes comes with the node-agent issue.
# OPENBATCH_BUILD_DIR picks another build directory (default: build).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
build=${OPENBATCH_BUILD_DIR:-build}

.ci/install-deps.sh

echo "== build openbatch-scheduler ($build/)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target openbatch-scheduler

if [[ ! -f tests/integration/js/node_modules/@azure/batch/package.json ]]; then
  echo "== npm ci (tests/integration/js: @azure/batch 10.2.0)"
  (cd tests/integration/js && npm ci --no-audit --no-fund)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/openbatch-demo.XXXXXX")
mkdir -p "$work/data"
account=demo
key=$(head -c 32 /dev/urandom | base64)
pid=

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== start the scheduler (data dir $work/data, account $account, random 256-bit key)"
"$build/scheduler/openbatch-scheduler" --listen 127.0.0.1:0 --data-dir "$work/data" \
  --account "$account" --key "$key" --ready-file "$work/url" >"$work/scheduler.log" 2>&1 &
pid=$!

deadline=$((SECONDS + 30))
until [[ -s $work/url ]]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "demo: the scheduler exited before it was ready; its output:" >&2
    cat "$work/scheduler.log" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "demo: the scheduler was not ready within 30 s; its output:" >&2
    cat "$work/scheduler.log" >&2
    exit 1
  fi
  sleep 0.1
done
url=$(cat "$work/url")
echo "scheduler pid $pid listening on $url"

echo "== create the GPU pool and list pools (official @azure/batch SDK, SharedKey auth)"
client_status=0
OPENBATCH_URL=$url OPENBATCH_ACCOUNT=$account OPENBATCH_KEY=$key \
  node tests/integration/js/demo-client.mjs examples/pools/gpu-pool.json || client_status=$?

echo "== stop the scheduler (SIGTERM)"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
echo "scheduler exited with status $status; its output:"
sed 's/^/  | /' "$work/scheduler.log"
if ((client_status != 0)); then
  echo "demo: the client failed (status $client_status)" >&2
  exit "$client_status"
fi
exit "$status"
