// Tasks outlive their agent (issue finding 8): every task runs under its own shim, so an agent
// killed with SIGKILL (or upgraded) and started again on the same state directory takes its
// running tasks back instead of killing them: 100 nonadmin tasks of 10 s each complete once,
// with success, requeueCount 0 and retryCount 0, and each ran exactly once (it leaves one
// marker file per run). Only a lost node -- an agent that does not come back within the
// liveness timeout -- requeues its task.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  Agent, cpuPool, listAll, rawRequest, removeDir, sdkClientFor, sleep, startScheduler, tempDir, until, waitForNodes,
  waitForTask,
} from '../integration/js/lib/harness.mjs';

const POOL = 'restart-pool';
const TASKS = 100;
const SLOTS = 50;
const TEST_TIMEOUT = 180000;
const NONADMIN = { autoUser: { scope: 'pool', elevationLevel: 'nonadmin' } };

let sched;
let client;
let work;
let markers;
let tokenFile;
const agents = new Map();  // name -> Agent (the latest process of that node)

function startAgent(name) {
  const agent = new Agent({
    schedulerUrl: sched.url, poolId: POOL, tokenFile,
    root: path.join(work, name, 'root'), stateDir: path.join(work, name, 'state'),
  });
  agents.set(name, agent);
  return agent;
}

// One file per run of a task: `marks(id)` is how many times it started.
function marks(taskId) {
  return readdirSync(markers).filter((f) => f.startsWith(`${taskId}.`)).length;
}

function markingTask(id, seconds) {
  return {
    id,
    commandLine: `/bin/sh -c 'mktemp ${markers}/$AZ_BATCH_TASK_ID.XXXXXX >/dev/null && sleep ${seconds} && echo done'`,
    userIdentity: NONADMIN,
  };
}

async function allTasks(jobId) {
  const { items } = await listAll(() => client.task.list(jobId), (link) => client.task.listNext(link));
  return items;
}

before(async () => {
  sched = await startScheduler({ extraArgs: ['--provisioner', 'static', '--heartbeat-seconds', '1'] });
  client = await sdkClientFor(sched);
  work = tempDir('restart');
  chmodSync(work, 0o755);
  markers = path.join(work, 'markers');
  mkdirSync(markers);
  chmodSync(markers, 0o1777);  // nonadmin tasks leave their markers here
  await client.pool.add({ ...cpuPool(POOL, { nodes: 2, slots: SLOTS }), vmSize: 'STANDARD_D16S_V3' });
  const res = await rawRequest(sched, { method: 'POST', path: `/pools/${POOL}/jointoken` });
  assert.equal(res.status, 200, res.text);
  tokenFile = path.join(work, 'join-token');
  writeFileSync(tokenFile, res.json.joinToken, { mode: 0o600 });
  startAgent('a');
  startAgent('b');
  await waitForNodes(client, POOL, 2);
});

after(async () => {
  for (const agent of agents.values()) await agent.kill('SIGKILL');
  if (sched) await sched.stop().catch((e) => console.error(e.message));
  if (sched) removeDir(sched.dataDir);
  // Tasks of the lost node may still be finishing under their shims.
  await sleep(200);
  removeDir(work);
});

test('SIGKILL of every agent while 100 tasks run: each completes once, none reruns', { timeout: TEST_TIMEOUT }, async () => {
  const JOB = 'restart-job';
  await client.job.add({ id: JOB, poolInfo: { poolId: POOL } });
  const ids = Array.from({ length: TASKS }, (_, i) => `t${String(i).padStart(3, '0')}`);
  await client.task.addCollection(JOB, ids.map((id) => markingTask(id, 10)));

  // Every task has started (its marker is there) and the scheduler says it runs.
  await until(async () => ids.every((id) => marks(id) === 1), { timeoutMs: 60000, intervalMs: 200, what: 'every task started' });
  await until(async () => (await allTasks(JOB)).every((t) => t.state === 'running'),
    { timeoutMs: 20000, intervalMs: 200, what: 'every task running' });

  // Both agents die mid-task and come back on the same state directories.
  for (const name of ['a', 'b']) {
    const { signal } = await agents.get(name).kill('SIGKILL');
    assert.equal(signal, 'SIGKILL');
  }
  await sleep(1000);
  const restarted = [startAgent('a'), startAgent('b')];

  await until(async () => (await allTasks(JOB)).every((t) => t.state === 'completed'),
    { timeoutMs: 60000, intervalMs: 250, what: 'every task completed' });
  const tasks = await allTasks(JOB);
  assert.equal(tasks.length, TASKS);
  const wrong = [];
  for (const t of tasks) {
    const info = t.executionInfo;
    const runs = marks(t.id);
    if (info.result !== 'success' || info.exitCode !== 0 || info.requeueCount !== 0 || info.retryCount !== 0 || runs !== 1) {
      wrong.push(`${t.id}: result ${info.result} exit ${info.exitCode} requeue ${info.requeueCount} retry ${info.retryCount} ` +
        `runs ${runs} ${JSON.stringify(info.failureInfo ?? {})}`);
    }
  }
  assert.deepEqual(wrong, [], `tasks that did not complete exactly once:\n${wrong.join('\n')}\n` +
    `agent a: ${restarted[0].output.slice(-3000)}`);
});

test('node loss still requeues: an agent that does not come back loses its task to another node', { timeout: TEST_TIMEOUT }, async () => {
  const JOB = 'lost-job';
  await client.job.add({ id: JOB, poolInfo: { poolId: POOL } });
  await client.task.add(JOB, markingTask('lost', 3));
  const running = await waitForTask(client, JOB, 'lost', { state: 'running' });
  await until(async () => marks('lost') === 1, { timeoutMs: 20000, intervalMs: 100, what: 'the task started' });
  const lostNode = running.nodeInfo.nodeId;
  const [victimName, victim] = [...agents.entries()].find(([, a]) => a.nodeId() === lostNode);
  assert.ok(victim, `the agent of ${lostNode}`);
  await victim.kill('SIGKILL');
  agents.delete(victimName);

  await until(async () => (await client.computeNode.get(POOL, lostNode)).state === 'offline',
    { timeoutMs: 30000, intervalMs: 200, what: `node ${lostNode} offline` });
  const task = await waitForTask(client, JOB, 'lost', { timeoutMs: 30000 });
  assert.equal(task.executionInfo.result, 'success');
  assert.equal(task.executionInfo.requeueCount, 1);
  assert.notEqual(task.nodeInfo.nodeId, lostNode);
  assert.equal(marks('lost'), 2, 'it ran again on the other node');
});
