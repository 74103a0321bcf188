// Static provisioning and node loss: agents started by hand join a pool with its join token;
// when one is killed with SIGKILL mid-task, its node goes offline after the missed heartbeats
// and its task is requeued and completes on the other node.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  Agent, cpuPool, rawRequest, removeDir, sdkClientFor, startScheduler, tempDir, until, waitForNodes, waitForTask,
} from './lib/harness.mjs';

const POOL = 'static-pool';
const JOB = 'static-job';
const TEST_TIMEOUT = 90000;

let sched;
let client;
let work;
const agents = [];

function startAgent(name, tokenFile) {
  const agent = new Agent({
    schedulerUrl: sched.url, poolId: POOL, tokenFile,
    root: path.join(work, name, 'root'), stateDir: path.join(work, name, 'state'),
  });
  agents.push(agent);
  return agent;
}

before(async () => {
  sched = await startScheduler({ extraArgs: ['--provisioner', 'static', '--heartbeat-seconds', '1'] });
  client = await sdkClientFor(sched);
  work = tempDir('static');
  chmodSync(work, 0o755);
});

after(async () => {
  for (const agent of agents) await agent.kill('SIGKILL');
  if (sched) await sched.stop().catch((e) => console.error(e.message));
  if (sched) removeDir(sched.dataDir);
  removeDir(work);
});

test('a join needs the pool join token, shown once to an authorised client', { timeout: TEST_TIMEOUT }, async () => {
  await client.pool.add(cpuPool(POOL, { nodes: 2, slots: 1 }));
  const unsigned = await rawRequest(sched, { method: 'POST', path: `/pools/${POOL}/jointoken`, sign: false });
  assert.equal(unsigned.status, 403);
  const res = await rawRequest(sched, { method: 'POST', path: `/pools/${POOL}/jointoken` });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.poolId, POOL);
  assert.match(res.json.joinToken, /^static-pool\../);

  // A wrong token is refused with 401 and creates nothing.
  const wrong = await fetch(`${sched.url}/agent/v1/join`, {
    method: 'POST', headers: { authorization: 'Bearer static-pool.wrong', 'content-type': 'application/json' },
    body: JSON.stringify({ poolId: POOL, hostname: 'x', inventory: {} }),
  });
  assert.equal(wrong.status, 401);
  assert.equal((await wrong.json()).code, 'AuthenticationFailed');

  const tokenFile = path.join(work, 'join-token');
  mkdirSync(work, { recursive: true });
  writeFileSync(tokenFile, res.json.joinToken, { mode: 0o600 });
  startAgent('a', tokenFile);
  startAgent('b', tokenFile);
  const nodes = await waitForNodes(client, POOL, 2);
  assert.equal(new Set(nodes.map((n) => n.id)).size, 2);
  assert.ok(nodes.every((n) => n.id.startsWith('tvmps_')));
});

test('an agent killed mid-task goes offline and its task completes elsewhere', { timeout: TEST_TIMEOUT }, async () => {
  await client.job.add({ id: JOB, poolInfo: { poolId: POOL } });
  await client.task.add(JOB, { id: 'survivor', commandLine: "/bin/sh -c 'sleep 3; echo done on $AZ_BATCH_NODE_ID'" });
  const running = await waitForTask(client, JOB, 'survivor', { state: 'running' });
  const lostNode = running.nodeInfo.nodeId;
  const victim = agents.find((a) => a.nodeId() === lostNode);
  assert.ok(victim, `the agent of ${lostNode}`);
  await victim.kill('SIGKILL');

  await until(async () => (await client.computeNode.get(POOL, lostNode)).state === 'offline',
    { timeoutMs: 30000, intervalMs: 200, what: `node ${lostNode} offline` });
  const task = await waitForTask(client, JOB, 'survivor', { timeoutMs: 30000 });
  assert.equal(task.executionInfo.result, 'success');
  assert.equal(task.executionInfo.requeueCount, 1);
  assert.notEqual(task.nodeInfo.nodeId, lostNode);
  const counts = await rawRequest(sched, { path: '/nodecounts', query: { $filter: `poolId eq '${POOL}'` } });
  assert.equal(counts.json.value[0].dedicated.offline, 1);
});
