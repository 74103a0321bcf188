// Static provisioning and node loss: agents started by hand join a pool with its join token;
// when one is killed with SIGKILL mid-task, its node goes offline after the missed heartbeats
// and its task is requeued and completes on the other node. The files of these nodes live
// under the agents' own --root directories (not under the scheduler's data dir): the task- and
// node-file APIs read them through the agents' links, and answer 409 NodeNotReachable once an
// agent is gone.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  Agent, azureError, cpuPool, listAll, rawRequest, removeDir, sdkClientFor, startScheduler, taskFileText, tempDir, until,
  waitForNodes, waitForTask,
} from './lib/harness.mjs';

const POOL = 'static-pool';
const JOB = 'static-job';
const FILES_JOB = 'files-job';
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

test('task and node files of static nodes are read through their agents', { timeout: TEST_TIMEOUT }, async () => {
  for (const agent of agents) assert.ok(!path.resolve(agent.root).startsWith(path.resolve(sched.dataDir)));
  await client.job.add({ id: FILES_JOB, poolInfo: { poolId: POOL } });
  await client.task.add(FILES_JOB, {
    id: 'writer',
    commandLine: "/bin/sh -c 'echo started on $AZ_BATCH_NODE_ID; mkdir -p sub; printf 0123456789 > sub/digits.txt; " +
      "sleep 2; echo finished'",
  });

  // While it runs: its stdout so far, through the official SDK.
  const running = await waitForTask(client, FILES_JOB, 'writer', { state: 'running' });
  const nodeId = running.nodeInfo.nodeId;
  const early = await until(async () => {
    const text = await taskFileText(client, FILES_JOB, 'writer', 'stdout.txt');
    return text.includes('started') ? text : undefined;
  }, { timeoutMs: 10000, intervalMs: 100, what: 'stdout.txt of the running task' });
  assert.equal(early.split('\n')[0], `started on ${nodeId}`);

  // After it ends: the whole stdout, and the task's files listed recursively.
  await waitForTask(client, FILES_JOB, 'writer');
  assert.equal(await taskFileText(client, FILES_JOB, 'writer', 'stdout.txt'), `started on ${nodeId}\nfinished\n`);
  const { items } = await listAll(
    () => client.file.listFromTask(FILES_JOB, 'writer', { recursive: true }),
    (link) => client.file.listFromTaskNext(link));
  const byName = new Map(items.map((f) => [f.name, f]));
  for (const name of ['stdout.txt', 'stderr.txt', 'wd', 'wd/sub', 'wd/sub/digits.txt']) assert.ok(byName.has(name), `${name} in ${[...byName.keys()]}`);
  assert.equal(byName.get('wd/sub/digits.txt').properties.contentLength, 10);
  assert.equal(byName.get('wd').isDirectory, true);

  // The same file as a node file: a byte range, its properties, then a delete.
  const filePath = `/pools/${POOL}/nodes/${nodeId}/files/workitems/${FILES_JOB}/job-1/writer/wd/sub/digits.txt`;
  const ranged = await rawRequest(sched, { path: filePath, headers: { 'ocp-range': 'bytes=2-5' } });
  assert.equal(ranged.status, 200, ranged.text);
  assert.equal(ranged.text, '2345');
  const head = await rawRequest(sched, { method: 'HEAD', path: filePath });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '10');
  assert.equal(head.headers['ocp-batch-file-isdirectory'], 'false');
  azureError(await rawRequest(sched, { path: filePath, headers: { 'ocp-range': 'bytes=10-' } }), 416, 'InvalidRange');
  azureError(await rawRequest(sched, { path: `/pools/${POOL}/nodes/${nodeId}/files/nope.txt` }), 404, 'FileNotFound');
  assert.equal((await rawRequest(sched, { method: 'DELETE', path: filePath })).status, 200);
  azureError(await rawRequest(sched, { path: filePath }), 404, 'FileNotFound');
});

test('an agent killed mid-task goes offline and its task completes elsewhere', { timeout: TEST_TIMEOUT }, async () => {
  await client.job.add({ id: JOB, poolInfo: { poolId: POOL } });
  await client.task.add(JOB, { id: 'survivor', commandLine: "/bin/sh -c 'sleep 3; echo done on $AZ_BATCH_NODE_ID'" });
  const running = await waitForTask(client, JOB, 'survivor', { state: 'running' });
  const lostNode = running.nodeInfo.nodeId;
  const victim = agents.find((a) => a.nodeId() === lostNode);
  assert.ok(victim, `the agent of ${lostNode}`);
  await victim.kill('SIGKILL');

  // Its files cannot be read without its agent.
  const nodeFile = `/pools/${POOL}/nodes/${lostNode}/files/workitems/${JOB}/job-1/survivor/stdout.txt`;
  const refused = await until(async () => {
    const res = await rawRequest(sched, { path: nodeFile });
    return res.status === 409 ? res : undefined;
  }, { timeoutMs: 10000, intervalMs: 100, what: `node ${lostNode} files refused` });
  azureError(refused, 409, 'NodeNotReachable');

  await until(async () => (await client.computeNode.get(POOL, lostNode)).state === 'offline',
    { timeoutMs: 30000, intervalMs: 200, what: `node ${lostNode} offline` });
  const task = await waitForTask(client, JOB, 'survivor', { timeoutMs: 30000 });
  assert.equal(task.executionInfo.result, 'success');
  assert.equal(task.executionInfo.requeueCount, 1);
  assert.notEqual(task.nodeInfo.nodeId, lostNode);
  const counts = await rawRequest(sched, { path: '/nodecounts', query: { $filter: `poolId eq '${POOL}'` } });
  assert.equal(counts.json.value[0].dedicated.offline, 1);
});
