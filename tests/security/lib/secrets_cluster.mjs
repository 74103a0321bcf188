// Shared by the secrets tests (key_leak, db_readable, mktemp_datadir): a local pool whose
// nonadmin tasks scan for secrets, and the scan itself.
//
// The scan (scan.sh, run by a nonadmin task) prints every /proc/*/cmdline and /proc/*/environ
// it can read, then every file it can read under the directories it is given, and tries the
// files it is told about by name (a directory it cannot list may still be traversable). The
// tests search that output for the secrets they planted.

import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import {
  cpuPool, removeDir, taskFileText, tempDir, waitForNodes, waitForTask,
} from '../../integration/js/lib/harness.mjs';

export const NONADMIN = { autoUser: { scope: 'task', elevationLevel: 'nonadmin' } };

// False when these tests can run; else why not (node:test's `skip`).
export function needsRoot() {
  return process.getuid?.() === 0 ? false
    : 'needs root: the agent runs nonadmin tasks as another user only when it is root';
}

// The node roots of a local scheduler: sched.nodesDir, or <data-dir>/nodes before there was one.
export function nodesDirOf(sched) {
  return sched.nodesDir ?? path.join(sched.dataDir, 'nodes');
}

const SCAN = `#!/bin/sh
# usage: scan.sh DIR... -- FILE...: what a nonadmin task can read (see secrets_cluster.mjs).
echo "uid=$(id -u)"
for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do
  [ -r "$f" ] || continue
  data=$(tr '\\000' ' ' < "$f" 2>/dev/null) || continue
  printf '%s: %s\\n' "$f" "$data"
done
dump() {
  if head -c 1 "$1" >/dev/null 2>&1; then
    echo "read: $1"
    head -c 8388608 "$1" | tr -c '[:print:]\\n' '.'
    echo
  else
    echo "denied: $1"
  fi
}
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  echo "scan: $1"
  ls -la "$1" 2>&1
  # Not this task's own directory: its stdout.txt is this very output.
  find "$1" -path "$AZ_BATCH_TASK_DIR" -prune -o -type f -print 2>&1 | while IFS= read -r f; do
    case $f in find:*) echo "$f" ;; *) dump "$f" ;; esac
  done
  shift
done
[ "$1" = "--" ] && shift
for f in "$@"; do dump "$f"; done
echo "scan done"
`;

// Writes scan.sh into a fresh directory every user can read; returns {dir, script}.
export function writeScanScript() {
  const dir = tempDir('scan');
  chmodSync(dir, 0o755);
  const script = path.join(dir, 'scan.sh');
  writeFileSync(script, SCAN, { mode: 0o755 });
  chmodSync(script, 0o755);
  return { dir, script };
}

// Runs scan.sh as a nonadmin task of `jobId` and returns its stdout, after checking that it
// ran to the end as a non-root user.
export async function scanAsNonadmin(client, jobId, taskId, script, { dirs = [], files = [] } = {}) {
  const args = [...dirs, '--', ...files].map((a) => `'${a}'`).join(' ');
  await client.task.add(jobId, { id: taskId, commandLine: `/bin/sh ${script} ${args}`, userIdentity: NONADMIN });
  const task = await waitForTask(client, jobId, taskId, { timeoutMs: 60000 });
  const out = await taskFileText(client, jobId, taskId, 'stdout.txt');
  if (task.executionInfo.result !== 'success' || !out.includes('scan done')) {
    throw new Error(`the scan task did not run to its end: ${JSON.stringify(task.executionInfo)}\n${out.slice(-2000)}`);
  }
  const uid = Number(/^uid=(\d+)$/m.exec(out)?.[1]);
  if (!(uid > 0)) throw new Error(`the scan task ran as uid ${uid}, not as a nonadmin user`);
  return out;
}

// `text` as a RegExp source that matches it literally.
export function literal(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// A local pool of `nodes` idle nodes.
export async function localPool(client, poolId, { nodes = 1, slots = 2 } = {}) {
  await client.pool.add(cpuPool(poolId, { nodes, slots }));
  return waitForNodes(client, poolId, nodes, { timeoutMs: 60000 });
}

export function cleanup(...dirs) {
  for (const dir of dirs) removeDir(dir);
}
