// Crash recovery: eight SDK clients add tasks (collections of 100 and single adds) while the
// scheduler is killed with SIGKILL; after a restart on the same data directory every task
// whose add was acknowledged is listed, none twice, and nothing that was never sent appears.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';

import { listAll, removeDir, sleep, startScheduler, until } from './lib/harness.mjs';

const CLIENTS = 8;
const POOL = 'crash-pool';
const JOB = 'crash-job';

let sched;
after(async () => {
  if (sched) {
    await sched.kill();
    removeDir(sched.dataDir);
  }
});

function sdkClient(s) {
  // No retry policy: a request cut by the kill must fail at once, not be resent to the
  // restarted server (an unacknowledged add may or may not have been committed).
  return new BatchServiceClient(new BatchSharedKeyCredentials(s.account, s.key), s.url,
    { noRetryPolicy: true });
}

// One client: alternates a collection of 100 and a single add until `state.killed`.
// Acknowledged ids go to `state.acked`, every id sent to `state.sent`; failures before the
// kill (other than 503 ServerBusy) go to `state.unexpected`.
async function addLoop(client, n, state) {
  for (let round = 0; !state.killed; round++) {
    const prefix = `c${n}-r${round}`;
    try {
      if (round % 2 === 0) {
        const ids = Array.from({ length: 100 }, (_, i) => `${prefix}-${i}`);
        ids.forEach((id) => state.sent.add(id));
        const result = await client.task.addCollection(JOB,
          ids.map((id) => ({ id, commandLine: `/bin/sh -c "echo ${id}"` })));
        for (const r of result.value) {
          if (r.status === 'success') state.acked.push(r.taskId);
          else if (!state.killed) state.unexpected.push(`${r.taskId}: ${JSON.stringify(r)}`);
        }
      } else {
        const id = `${prefix}-single`;
        state.sent.add(id);
        await client.task.add(JOB, { id, commandLine: 'true' });
        state.acked.push(id);
      }
    } catch (err) {
      if (state.killed) return;
      if (err.statusCode !== 503) state.unexpected.push(`${prefix}: ${err.statusCode} ${err.code} ${err.message}`);
    }
  }
}

test('SIGKILL during concurrent task adds loses no acknowledged task', { timeout: 60000 }, async (t) => {
  sched = await startScheduler();
  const { account, key, dataDir } = sched;
  let client = sdkClient(sched);
  await client.pool.add({
    id: POOL, vmSize: 'STANDARD_NC6', targetDedicatedNodes: 0,
    virtualMachineConfiguration: {
      imageReference: { publisher: 'canonical', offer: '0001-com-ubuntu-server-focal',
        sku: '20_04-lts', version: 'latest' },
      nodeAgentSKUId: 'batch.node.ubuntu 20.04',
    },
  });
  await client.job.add({ id: JOB, poolInfo: { poolId: POOL } });

  const state = { killed: false, acked: [], sent: new Set(), unexpected: [] };
  const clients = Array.from({ length: CLIENTS }, (_, n) => addLoop(sdkClient(sched), n, state));
  await until(() => state.acked.length > 0 || state.unexpected.length > 0,
    { timeoutMs: 20000, what: 'the first acknowledged add' });
  await sleep(1000 + Math.floor(Math.random() * 1000));  // let adds run; the kill lands mid-stream
  assert.equal(sched.exited, undefined, `the scheduler is still up before the kill: ${sched.describe()}`);
  // Kill and raise the flag in the same tick: every client has a request in flight, and any
  // failure it sees from here on is the kill's.
  sched.child.kill('SIGKILL');
  state.killed = true;
  const ackedAtKill = state.acked.length;
  const status = await sched.exit;
  assert.equal(status.signal, 'SIGKILL', `the scheduler died of the kill: ${sched.describe()}`);
  await Promise.all(clients);
  assert.deepEqual(state.unexpected, [], 'no refusal before the kill');
  assert.ok(state.acked.length >= 100, `${state.acked.length} adds acknowledged before the kill`);

  sched = await startScheduler({ account, key, dataDir });
  client = sdkClient(sched);
  assert.equal((await client.pool.exists(POOL)).body, true, 'the pool survived');
  assert.equal((await client.job.get(JOB)).id, JOB, 'the job survived');

  const { items } = await listAll(
    () => client.task.list(JOB, { taskListOptions: { maxResults: 1000 } }),
    (link) => client.task.listNext(link));
  const listed = items.map((t) => t.id);
  const seen = new Set();
  const twice = [];
  for (const id of listed) {
    if (seen.has(id.toLowerCase())) twice.push(id);
    seen.add(id.toLowerCase());
  }
  assert.deepEqual(twice, [], 'no task listed twice');
  const missing = state.acked.filter((id) => !seen.has(id.toLowerCase()));
  assert.deepEqual(missing.slice(0, 20), [],
    `${missing.length} of ${state.acked.length} acknowledged tasks are missing`);
  t.diagnostic(`${state.sent.size} tasks sent, ${state.acked.length} acknowledged ` +
    `(${state.acked.length - ackedAtKill} of them answered as the kill landed), ` +
    `${listed.length} listed after the restart`);
  const unknown = listed.filter((id) => !state.sent.has(id));
  assert.deepEqual(unknown, [], 'only tasks that were sent exist');

  // The restarted scheduler accepts new work and still knows the old ids.
  await client.task.add(JOB, { id: 'after-restart', commandLine: 'true' });
  await assert.rejects(client.task.add(JOB, { id: state.acked[0], commandLine: 'true' }),
    (err) => err.statusCode === 409 && err.code === 'TaskExists');
});
