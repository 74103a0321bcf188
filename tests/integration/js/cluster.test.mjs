// A real job end to end on the local provisioner: the scheduler starts one openbatch-agent per
// node; tasks run as real processes and their results and stdout come back through the
// official @azure/batch SDK. Also: AZ_BATCH_* variables, retries, the wall-clock limit,
// terminate, resize down and up, and an agent that dies being restarted.

import assert from 'node:assert/strict';
import { chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  cpuPool, listAll, rawRequest, removeDir, sdkClientFor, startScheduler, taskFileText, tempDir, until, waitForNodes,
  waitForTask,
} from './lib/harness.mjs';

const POOL = 'local-pool';
const JOB = 'local-job';
const TEST_TIMEOUT = 60000;

let sched;
let client;
let marks;  // marks tasks leave for their next run: outside the node roots (a rerun may land elsewhere)

before(async () => {
  // A private (0700) data dir: the node roots, which tasks must reach, live in sched.nodesDir.
  const dataDir = tempDir('cluster');
  sched = await startScheduler({ dataDir, extraArgs: ['--heartbeat-seconds', '1',
    '--agent-arg=--reconnect-min-ms', '--agent-arg=100', '--agent-arg=--reconnect-max-ms', '--agent-arg=1000'] });
  client = await sdkClientFor(sched);
  marks = tempDir('marks');
  chmodSync(marks, 0o777);
  await client.pool.add(cpuPool(POOL, { nodes: 2, slots: 2 }));
  await waitForNodes(client, POOL, 2);
  await client.job.add({ id: JOB, poolInfo: { poolId: POOL },
    commonEnvironmentSettings: [{ name: 'FROM_JOB', value: 'job-value' }, { name: 'BOTH', value: 'job' }] });
});

after(async () => {
  if (sched) {
    const status = await sched.stop().catch((e) => e);
    if (status instanceof Error) console.error(status.message);
    removeDir(sched.dataDir);
  }
  removeDir(marks);
});

test('the pool reaches its target with idle nodes, counted by nodecounts', { timeout: TEST_TIMEOUT }, async () => {
  const pool = await until(async () => {
    const p = await client.pool.get(POOL);
    return p.allocationState === 'steady' && p.currentDedicatedNodes === 2 ? p : undefined;
  }, { what: 'pool steady at 2 nodes' });
  assert.equal(pool.state, 'active');
  const counts = await rawRequest(sched, { path: '/nodecounts', query: { $filter: `poolId eq '${POOL}'` } });
  assert.equal(counts.status, 200);
  assert.equal(counts.json.value[0].dedicated.total, 2);
  assert.equal(counts.json.value[0].dedicated.idle + counts.json.value[0].dedicated.running, 2);
});

test('a task runs, its stdout and AZ_BATCH_* environment come back through the SDK', { timeout: TEST_TIMEOUT }, async () => {
  await client.task.add(JOB, {
    id: 'env',
    commandLine: "/bin/sh -c 'echo hello from $AZ_BATCH_TASK_ID; pwd; env | sort; echo to-stderr >&2'",
    environmentSettings: [{ name: 'FROM_TASK', value: 'task-value' }, { name: 'BOTH', value: 'task' }],
  });
  const task = await waitForTask(client, JOB, 'env');
  assert.equal(task.executionInfo.result, 'success');
  assert.equal(task.executionInfo.exitCode, 0);
  assert.ok(task.executionInfo.startTime && task.executionInfo.endTime);
  const nodeId = task.nodeInfo.nodeId;
  assert.equal(task.nodeInfo.poolId, POOL);
  assert.equal(task.nodeInfo.taskRootDirectory, `workitems/${JOB}/job-1/env`);

  const out = await taskFileText(client, JOB, 'env', 'stdout.txt');
  const env = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => {
    const i = l.indexOf('=');
    return [l.slice(0, i), l.slice(i + 1)];
  }));
  assert.match(out, /^hello from env$/m);
  assert.equal(env.AZ_BATCH_TASK_ID, 'env');
  assert.equal(env.AZ_BATCH_JOB_ID, JOB);
  assert.equal(env.AZ_BATCH_POOL_ID, POOL);
  assert.equal(env.AZ_BATCH_NODE_ID, nodeId);
  assert.equal(env.AZ_BATCH_ACCOUNT_NAME, sched.account);
  const root = env.AZ_BATCH_NODE_ROOT_DIR;
  assert.equal(root, path.join(sched.nodesDir, POOL, nodeId), 'the node root is in the nodes dir');
  assert.equal(env.AZ_BATCH_TASK_DIR, `${root}/workitems/${JOB}/job-1/env`);
  assert.equal(env.AZ_BATCH_TASK_WORKING_DIR, `${root}/workitems/${JOB}/job-1/env/wd`);
  assert.equal(env.AZ_BATCH_NODE_SHARED_DIR, `${root}/shared`);
  assert.match(out, new RegExp(`^${env.AZ_BATCH_TASK_WORKING_DIR}$`, 'm'), 'the task starts in its wd');
  assert.equal(env.FROM_JOB, 'job-value');
  assert.equal(env.FROM_TASK, 'task-value');
  assert.equal(env.BOTH, 'task', 'a task setting wins over the job setting');
  assert.match(await taskFileText(client, JOB, 'env', 'stderr.txt'), /to-stderr/);

  // The same file through the node's file API.
  const nodeFile = await rawRequest(sched, { path: `/pools/${POOL}/nodes/${nodeId}/files/workitems/${JOB}/job-1/env/stdout.txt` });
  assert.equal(nodeFile.status, 200);
  assert.equal(nodeFile.text, out);
  const node = await client.computeNode.get(POOL, nodeId);
  assert.ok(node.totalTasksRun >= 1);
  assert.ok(node.recentTasks.some((t) => t.taskId === 'env' && t.taskState === 'completed'));
});

test('a failing task is retried per maxTaskRetryCount and ends with its exit code', { timeout: TEST_TIMEOUT }, async () => {
  await client.task.add(JOB, { id: 'fails', commandLine: "/bin/sh -c 'exit 3'", constraints: { maxTaskRetryCount: 1 } });
  const task = await waitForTask(client, JOB, 'fails');
  assert.equal(task.executionInfo.exitCode, 3);
  assert.equal(task.executionInfo.result, 'failure');
  assert.equal(task.executionInfo.retryCount, 1);
  assert.equal(task.executionInfo.failureInfo.code, 'FailureExitCode');
  assert.equal(task.executionInfo.failureInfo.category, 'usererror');
});

test('a launch error completes the task with a failure, not a hang', { timeout: TEST_TIMEOUT }, async () => {
  await client.task.add(JOB, { id: 'missing', commandLine: '/no/such/program' });
  const task = await waitForTask(client, JOB, 'missing');
  assert.equal(task.executionInfo.result, 'failure');
  assert.ok(task.executionInfo.failureInfo.code, JSON.stringify(task.executionInfo));
});

test('a task over its maxWallClockTime is killed and reported', { timeout: TEST_TIMEOUT }, async () => {
  const started = Date.now();
  await client.task.add(JOB, { id: 'slow', commandLine: "/bin/sh -c 'sleep 60'", constraints: { maxWallClockTime: 'PT2S' } });
  const task = await waitForTask(client, JOB, 'slow', { timeoutMs: 30000 });
  assert.ok(Date.now() - started < 20000, 'killed near its limit, not at the end of the sleep');
  assert.equal(task.executionInfo.result, 'failure');
  assert.equal(task.executionInfo.failureInfo.code, 'MaxWallClockTimeExpiry');
});

test('terminate stops a running task and frees its node', { timeout: TEST_TIMEOUT }, async () => {
  await client.task.add(JOB, { id: 'terminated', commandLine: "/bin/sh -c 'sleep 60'" });
  await waitForTask(client, JOB, 'terminated', { state: 'running' });
  await client.task.terminate(JOB, 'terminated');
  const task = await waitForTask(client, JOB, 'terminated');
  assert.equal(task.executionInfo.failureInfo.code, 'TaskEnded');
  await waitForNodes(client, POOL, 2, { states: ['idle'] });
});

test('a collection of 200 tasks all complete, each exactly once', { timeout: TEST_TIMEOUT }, async () => {
  const ids = Array.from({ length: 200 }, (_, i) => `many-${i}`);
  for (let i = 0; i < ids.length; i += 100) {
    const result = await client.task.addCollection(JOB, ids.slice(i, i + 100).map((id) => ({ id, commandLine: '/bin/true' })));
    assert.ok(result.value.every((r) => r.status === 'success'));
  }
  const counts = await until(async () => {
    const c = await client.job.getTaskCounts(JOB);
    return c.taskCounts.active === 0 && c.taskCounts.running === 0 ? c : undefined;
  }, { what: 'all tasks done' });
  assert.ok(counts.taskCounts.succeeded >= 200);
  for (const id of ['many-0', 'many-199']) {
    const t = await client.task.get(JOB, id);
    assert.equal(t.executionInfo.result, 'success');
    assert.equal(t.executionInfo.retryCount, 0);
    assert.equal(t.executionInfo.requeueCount, 0);
  }
});

test('resize down removes idle nodes and resize up adds new ones', { timeout: TEST_TIMEOUT }, async () => {
  await client.pool.resize(POOL, { targetDedicatedNodes: 1 });
  await waitForNodes(client, POOL, 1);
  await until(async () => (await client.pool.get(POOL)).allocationState === 'steady', { what: 'steady after down' });
  await client.pool.resize(POOL, { targetDedicatedNodes: 3 });
  const nodes = await waitForNodes(client, POOL, 3);
  assert.equal(new Set(nodes.map((n) => n.id)).size, 3);
  await client.task.add(JOB, { id: 'after-resize', commandLine: '/bin/true' });
  assert.equal((await waitForTask(client, JOB, 'after-resize')).executionInfo.result, 'success');
});

test('reactivate runs a failed task again as a new attempt', { timeout: TEST_TIMEOUT }, async () => {
  await client.task.add(JOB, { id: 'flaky', commandLine: `/bin/sh -c 'test -f ${marks}/flag || { touch ${marks}/flag; exit 4; }'` });
  const failed = await waitForTask(client, JOB, 'flaky');
  assert.equal(failed.executionInfo.exitCode, 4);
  await client.task.reactivate(JOB, 'flaky');
  const again = await waitForTask(client, JOB, 'flaky');
  assert.equal(again.executionInfo.result, 'success');
  assert.equal(again.executionInfo.exitCode, 0);
});

test('a task terminated and reactivated at once runs again', { timeout: TEST_TIMEOUT }, async () => {
  // The first run sleeps; the second (after reactivate) finds its mark and exits 0. The
  // reactivate comes before the agent has reported the terminated attempt.
  await client.task.add(JOB, { id: 'again', commandLine: `/bin/sh -c 'test -f ${marks}/once && exit 0; touch ${marks}/once; sleep 60'` });
  await until(() => existsSync(`${marks}/once`), { what: 'the first run started' });
  await client.task.terminate(JOB, 'again');
  await client.task.reactivate(JOB, 'again');
  let last;
  const task = await until(async () => {
    last = await client.task.get(JOB, 'again');
    return last.state === 'completed' && last.executionInfo.result === 'success' ? last : undefined;
  }, { what: 'the reactivated task succeeded' }).catch((err) => {
    throw new Error(`${err.message}\nlast: ${JSON.stringify(last)}`);
  });
  assert.equal(task.executionInfo.exitCode, 0);
});

test('onAllTasksComplete terminatejob ends the job when its last task completes', { timeout: TEST_TIMEOUT }, async () => {
  const job = 'auto-end';
  await client.job.add({ id: job, poolInfo: { poolId: POOL }, onAllTasksComplete: 'noaction' });
  await client.task.addCollection(job, [1, 2, 3].map((i) => ({ id: `t${i}`, commandLine: '/bin/sh -c "sleep 0.5"' })));
  await client.job.patch(job, { onAllTasksComplete: 'terminatejob' });
  const done = await until(async () => {
    const j = await client.job.get(job);
    return j.state === 'completed' ? j : undefined;
  }, { what: 'job completed' });
  assert.equal(done.executionInfo.terminateReason, 'AllTasksComplete');
  const counts = await client.job.getTaskCounts(job);
  assert.equal(counts.taskCounts.succeeded, 3);
});

test('terminating a job stops its running tasks and leaves its active ones unrun', { timeout: TEST_TIMEOUT }, async () => {
  const job = 'to-terminate';
  await client.job.add({ id: job, poolInfo: { poolId: POOL } });
  await client.task.addCollection(job, Array.from({ length: 30 }, (_, i) => ({ id: `s${i}`, commandLine: "/bin/sh -c 'sleep 60'" })));
  await until(async () => (await client.job.getTaskCounts(job)).taskCounts.running > 0, { what: 'tasks running' });
  await client.job.terminate(job);
  await until(async () => (await client.job.get(job)).state === 'completed', { what: 'job completed', timeoutMs: 30000 });
  const counts = await client.job.getTaskCounts(job);
  assert.equal(counts.taskCounts.running, 0);
  assert.ok(counts.taskCounts.active > 0, 'tasks that never started stay active');
  const { items } = await listAll(() => client.task.list(job), (link) => client.task.listNext(link));
  for (const t of items.filter((x) => x.state === 'completed')) {
    assert.equal(t.executionInfo.failureInfo.code, 'TaskEnded', t.id);
  }
  await waitForNodes(client, POOL, 3, { states: ['idle'] });
});

test('deleting the pool removes its nodes and stops their agents', { timeout: TEST_TIMEOUT }, async () => {
  await client.pool.deleteMethod(POOL);
  await until(async () => {
    try {
      await client.pool.get(POOL);
      return false;
    } catch (err) {
      return err.statusCode === 404;
    }
  }, { what: 'pool gone', timeoutMs: 30000 });
  const counts = await rawRequest(sched, { path: '/nodecounts' });
  assert.equal(counts.json.value.length, 0);
  const agentsLeft = await until(async () => {
    const { execSync } = await import('node:child_process');
    // [a]: the pattern must not match the shell that runs pgrep.
    const out = execSync(`pgrep -f '${sched.dataDir}/[a]gents' || true`).toString().trim();
    return out === '' ? 'none' : undefined;
  }, { what: 'local agents stopped', timeoutMs: 20000 });
  assert.equal(agentsLeft, 'none');
});
