// The scheduler killed with SIGKILL mid-run: the local agents keep running their tasks; the
// restarted scheduler adopts them, they reconnect and report, and every task completes
// exactly once -- each task appends its id to a shared file, and every id appears once.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';

import {
  cpuPool, listAll, removeDir, sdkClientFor, sleep, startScheduler, tempDir, until, waitForNodes,
} from './lib/harness.mjs';

const POOL = 'restart-pool';
const JOB = 'restart-job';
const TASKS = 60;

let sched;
let work;
const args = ['--heartbeat-seconds', '1', '--agent-arg=--reconnect-min-ms', '--agent-arg=100',
  '--agent-arg=--reconnect-max-ms', '--agent-arg=500'];

after(async () => {
  if (sched) await sched.stop().catch((e) => console.error(e.message));
  if (sched) {
    // The agents outlive a killed scheduler by design; if the test failed before a restarted
    // scheduler stopped them, they must not outlive the test.
    spawnSync('pkill', ['-KILL', '-f', `${sched.dataDir}/[a]gents`]);
    removeDir(sched.dataDir);
  }
  removeDir(work);
});

test('every task completes exactly once across a scheduler SIGKILL', { timeout: 120000 }, async () => {
  work = tempDir('restart-out');
  chmodSync(work, 0o777);
  const ledger = path.join(work, 'ledger.txt');
  writeFileSync(ledger, '', { mode: 0o666 });
  chmodSync(ledger, 0o666);
  const dataDir = tempDir('restart');
  sched = await startScheduler({ dataDir, extraArgs: args });
  let client = await sdkClientFor(sched, { noRetryPolicy: true });
  await client.pool.add(cpuPool(POOL, { nodes: 2, slots: 2 }));
  await waitForNodes(client, POOL, 2);
  await client.job.add({ id: JOB, poolInfo: { poolId: POOL } });
  const tasks = Array.from({ length: TASKS }, (_, i) => ({
    id: `t${i}`, commandLine: `/bin/sh -c 'sleep 0.2; echo $AZ_BATCH_TASK_ID >> ${ledger}'`,
  }));
  for (let i = 0; i < TASKS; i += 30) await client.task.addCollection(JOB, tasks.slice(i, i + 30));

  // Kill it while tasks are running and others are waiting.
  await until(async () => (await client.job.getTaskCounts(JOB)).taskCounts.completed >= 8,
    { what: 'some tasks done', timeoutMs: 30000 });
  await sched.kill();
  await sleep(1500);  // agents finish tasks while the scheduler is away; their reports wait

  // The same address: the agents that outlived the kill reconnect to it.
  const listen = new URL(sched.url).host;
  sched = await startScheduler({ dataDir, account: sched.account, key: sched.key, extraArgs: args, listen });
  client = await sdkClientFor(sched);
  await until(async () => {
    const c = await client.job.getTaskCounts(JOB);
    return c.taskCounts.completed === TASKS ? c : undefined;
  }, { timeoutMs: 60000, intervalMs: 200, what: `${TASKS} tasks completed after the restart` });

  const { items } = await listAll(() => client.task.list(JOB), (link) => client.task.listNext(link));
  assert.equal(items.length, TASKS);
  for (const t of items) {
    assert.equal(t.state, 'completed', t.id);
    assert.equal(t.executionInfo.result, 'success', `${t.id}: ${JSON.stringify(t.executionInfo)}`);
  }
  const lines = readFileSync(ledger, 'utf8').split('\n').filter(Boolean);
  const seen = new Map();
  for (const id of lines) seen.set(id, (seen.get(id) ?? 0) + 1);
  const twice = [...seen].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'no task ran twice');
  assert.equal(seen.size, TASKS, 'every task ran');
  // No node was lost: the agents kept their tasks across the restart.
  const nodes = await waitForNodes(client, POOL, 2);
  assert.equal(nodes.length, 2);
});
