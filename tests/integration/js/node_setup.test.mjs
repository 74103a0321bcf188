// Node setup, the seed scenario: "upload GPUDriver 411.82 as an application package, reference it
// from the pool, and let an elevated start task install it on every node before any task runs".
// Real scheduler and agents (static provisioning: each agent has its own root and its own GPU
// inventory fixture, which the stand-in NVIDIA installer rewrites, as a real one changes what
// NVML reports). Also: a pinned driver that differs makes the nodes unusable; a failing start task
// gives starttaskfailed and no task runs there; waitForSuccess=false makes the node idle at once;
// nonadmin tasks run under a non-root uid and admin ones as root.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  Agent, REPO_DIR, cpuPool, rawRequest, removeDir, sdkClientFor, startScheduler, taskFileText, tempDir, until,
  waitForNodes, waitForTask,
} from './lib/harness.mjs';

const TEST_TIMEOUT = 120000;
const DRIVER = '411.82';

let sched;
let client;
let work;
let zipPath;
const agents = [];

before(async () => {
  sched = await startScheduler({ extraArgs: ['--provisioner', 'static', '--heartbeat-seconds', '1'] });
  client = await sdkClientFor(sched);
  work = tempDir('setup');
  chmodSync(work, 0o755);
  // The package: the stand-in NVIDIA-Linux-x86_64-411.82.run plus the start task script.
  zipPath = path.join(work, 'gpudriver.zip');
  execFileSync(path.join(REPO_DIR, 'tests/fixtures/packages/make-gpudriver-zip.sh'), [DRIVER, zipPath]);
  execFileSync('zip', ['-q', '-j', zipPath, path.join(REPO_DIR, 'start_tasks/install-nvidia-driver.sh')]);
  const app = await rawRequest(sched, { method: 'PUT', path: '/applications/GPUDriver', body: { displayName: 'NVIDIA driver' } });
  assert.ok([200, 201].includes(app.status), app.text);
  const upload = await rawRequest(sched, {
    method: 'PUT', path: `/applications/GPUDriver/versions/${DRIVER}`, query: { activate: 'true' },
    body: readFileSync(zipPath), headers: { 'content-type': 'application/zip' },
  });
  assert.ok([200, 201].includes(upload.status), upload.text);
});

after(async () => {
  for (const agent of agents) await agent.kill('SIGKILL');
  if (sched) await sched.stop().catch((e) => console.error(e.message));
  if (sched) removeDir(sched.dataDir);
  removeDir(work);
});

// A pool of `nodes` static nodes with this setup; starts one agent per node, each with a GPU
// inventory fixture that says driver 535.104.05 until something installs another.
async function poolWithAgents(id, { nodes = 2, startTask, metadata = [], packages = [] }) {
  const pool = cpuPool(id, { nodes, slots: 2, provisioner: 'static' });
  pool.metadata.push(...metadata);
  if (startTask) pool.startTask = startTask;
  if (packages.length) pool.applicationPackageReferences = packages;
  const created = await rawRequest(sched, { method: 'POST', path: '/pools', body: pool });
  assert.equal(created.status, 201, created.text);
  const token = await rawRequest(sched, { method: 'POST', path: `/pools/${id}/jointoken` });
  assert.equal(token.status, 200, token.text);
  const tokenFile = path.join(work, `${id}.token`);
  writeFileSync(tokenFile, token.json.joinToken, { mode: 0o600 });
  const started = [];
  for (let i = 0; i < nodes; i++) {
    const dir = path.join(work, `${id}-${i}`);
    const inventory = path.join(work, `${id}-${i}-gpus.json`);
    copyFileSync(path.join(REPO_DIR, 'tests/fixtures/gpu/8x_h100.json'), inventory);
    const agent = new Agent({
      schedulerUrl: sched.url, poolId: id, tokenFile, root: path.join(dir, 'root'), stateDir: path.join(dir, 'state'),
      extraArgs: ['--gpu-inventory', inventory, '--hostname', `${id}-${i}`],
    });
    agents.push(agent);
    started.push(agent);
  }
  return started;
}

// Polls the pool's nodes until each is in one of `final`; returns {nodes, seen: id -> [states in order]}.
async function watchStates(poolId, count, final, timeoutMs = 60000) {
  const seen = new Map();
  const nodes = await until(async () => {
    const res = await rawRequest(sched, { path: `/pools/${poolId}/nodes` });
    const list = res.json?.value ?? [];
    for (const n of list) {
      const states = seen.get(n.id) ?? [];
      if (states.at(-1) !== n.state) states.push(n.state);
      seen.set(n.id, states);
    }
    return list.length === count && list.every((n) => final.includes(n.state)) ? list : undefined;
  }, { timeoutMs, intervalMs: 50, what: `${count} nodes of ${poolId} in ${final.join('|')}` });
  return { nodes, seen };
}

const adminStartTask = (command, extra = {}) => ({
  commandLine: `/bin/bash -c '${command}'`,
  userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'admin' } },
  waitForSuccess: true,
  ...extra,
});

const installDriver = adminStartTask(
  `sleep 1; bash "$AZ_BATCH_APP_PACKAGE_GPUDriver_411_82/install-nvidia-driver.sh" ${DRIVER}`);

test('GPUDriver 411.82: starting -> waitingforstarttask -> idle, driver reported, tasks run as asked', { timeout: TEST_TIMEOUT }, async () => {
  await poolWithAgents('gpu-pool', {
    startTask: installDriver,
    packages: [{ applicationId: 'GPUDriver', version: DRIVER }],
    metadata: [{ name: 'openbatch.gpuDriverVersion', value: DRIVER }],
  });
  const { nodes, seen } = await watchStates('gpu-pool', 2, ['idle', 'unusable', 'starttaskfailed']);
  for (const node of nodes) {
    const states = seen.get(node.id);
    assert.equal(node.state, 'idle', `${node.id}: ${JSON.stringify(node.errors)} ${JSON.stringify(node.startTaskInfo)}`);
    // Every node was seen waiting for its start task before it became idle, and never idle before.
    assert.ok(states.includes('waitingforstarttask'), `${node.id} went ${states.join(' -> ')}`);
    assert.ok(states.indexOf('waitingforstarttask') < states.indexOf('idle'), states.join(' -> '));
    assert.ok(!states.slice(0, states.indexOf('waitingforstarttask')).includes('idle'), states.join(' -> '));
    assert.ok(['starting', 'waitingforstarttask'].includes(states[0]), states.join(' -> '));
    assert.equal(node.startTaskInfo.state, 'completed');
    assert.equal(node.startTaskInfo.result, 'success');
    assert.equal(node.startTaskInfo.exitCode, 0);
    assert.equal(node.startTask.waitForSuccess, true);
    assert.equal(node.errors, undefined);
    // The driver the node reports now is the one the start task installed.
    assert.equal(node.openbatch.inventory.gpuDriverVersion, DRIVER);
    // The start task's output is readable through the node file API.
    const out = await rawRequest(sched, { path: `/pools/gpu-pool/nodes/${node.id}/files/startup/stdout.txt` });
    assert.equal(out.status, 200, out.text);
    assert.match(out.text, /411\.82/);
  }
  // The SDK sees the same.
  const viaSdk = await client.computeNode.get('gpu-pool', nodes[0].id);
  assert.equal(viaSdk.startTaskInfo.result, 'success');

  // Tasks run as the identity they ask for; the package's variable is set for them too.
  await client.job.add({ id: 'gpu-job', poolInfo: { poolId: 'gpu-pool' } });
  await client.task.add('gpu-job', { id: 'plain', commandLine: '/bin/sh -c "id -u; echo $AZ_BATCH_APP_PACKAGE_GPUDriver_411_82"' });
  await client.task.add('gpu-job', {
    id: 'admin', commandLine: '/bin/sh -c "id -u"',
    userIdentity: { autoUser: { scope: 'task', elevationLevel: 'admin' } },
  });
  await client.task.add('gpu-job', {
    id: 'nonadmin', commandLine: '/bin/sh -c "id -u; touch $AZ_BATCH_NODE_ROOT_DIR/applications/x 2>/dev/null && echo wrote || echo denied"',
    userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'nonadmin' } },
  });
  for (const id of ['plain', 'admin', 'nonadmin']) {
    const task = await waitForTask(client, 'gpu-job', id);
    assert.equal(task.executionInfo.exitCode, 0, `${id}: ${JSON.stringify(task.executionInfo)}`);
  }
  const [plainUid, packageDir] = (await taskFileText(client, 'gpu-job', 'plain', 'stdout.txt')).trim().split('\n');
  assert.notEqual(plainUid, '0', 'a task without userIdentity runs as the non-admin auto-user');
  assert.match(packageDir, /applications\/GPUDriver_411\.82$/);
  assert.equal((await taskFileText(client, 'gpu-job', 'admin', 'stdout.txt')).trim(), '0');
  const [uid, write] = (await taskFileText(client, 'gpu-job', 'nonadmin', 'stdout.txt')).trim().split('\n');
  assert.notEqual(uid, '0');
  assert.equal(write, 'denied', 'a nonadmin task cannot write the applications folder');

  // Task-scope auto-users: each task its own non-root user, and its directory private to it.
  const taskScope = { autoUser: { scope: 'task', elevationLevel: 'nonadmin' } };
  await client.task.add('gpu-job', {
    id: 'secret', commandLine: '/bin/sh -c "id -u; echo s3cret > secret.txt; sleep 2"', userIdentity: taskScope,
  });
  await until(async () => (await client.task.get('gpu-job', 'secret')).state === 'running', { what: 'secret running' });
  const secretTask = await client.task.get('gpu-job', 'secret');
  const secretPath = `$AZ_BATCH_NODE_ROOT_DIR/${secretTask.nodeInfo.taskRootDirectory}/wd/secret.txt`;
  const peek = `id -u; cat ${secretPath} 2>/dev/null || echo denied; ls $AZ_BATCH_NODE_ROOT_DIR/workitems/gpu-job/job-1/plain >/dev/null 2>&1 || echo denied`;
  for (const [id, identity] of [['peek-task', taskScope], ['peek-pool', undefined]]) {
    await client.task.add('gpu-job', { id, commandLine: `/bin/sh -c "${peek}"`, ...(identity ? { userIdentity: identity } : {}) });
  }
  for (const id of ['secret', 'peek-task', 'peek-pool']) await waitForTask(client, 'gpu-job', id);
  const secretUid = (await taskFileText(client, 'gpu-job', 'secret', 'stdout.txt')).trim();
  const [taskUid, ...taskPeek] = (await taskFileText(client, 'gpu-job', 'peek-task', 'stdout.txt')).trim().split('\n');
  const [, ...poolPeek] = (await taskFileText(client, 'gpu-job', 'peek-pool', 'stdout.txt')).trim().split('\n');
  assert.notEqual(secretUid, '0');
  assert.notEqual(taskUid, '0');
  assert.notEqual(secretUid, plainUid, 'a task-scope user is not the pool user');
  // Another task-scope task cannot read it, nor the pool user's task directory; a pool-scope
  // task cannot read the task-scope task's directory.
  assert.deepEqual(taskPeek, ['denied', 'denied']);
  assert.equal(poolPeek[0], 'denied');
  assert.equal(await taskFileText(client, 'gpu-job', 'secret', 'wd/secret.txt'), 's3cret\n');

  // A task that needs a newer CUDA than the nodes' driver (the fixture's 12.2) is not placed,
  // and its pending reason says why; one that fits runs.
  const needs = (id, cuda) => rawRequest(sched, {
    method: 'POST', path: '/jobs/gpu-job/tasks',
    body: { id, commandLine: '/bin/true', resources: { requests: { gpu: { count: 1, minCudaVersion: cuda } } } },
  });
  assert.equal((await needs('cuda13', '13.0')).status, 201);
  assert.equal((await needs('cuda12', '12.0')).status, 201);
  const bad = await needs('cudaBad', 'twelve');
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.text, /minCudaVersion/);
  assert.equal((await waitForTask(client, 'gpu-job', 'cuda12')).executionInfo.exitCode, 0);
  const pending = await until(async () => {
    const res = await rawRequest(sched, { path: '/jobs/gpu-job/tasks/cuda13' });
    return res.json?.openbatch?.pendingReason ? res.json : undefined;
  }, { timeoutMs: 10000, what: 'a pending reason on cuda13' });
  assert.equal(pending.state, 'active');
  assert.equal(pending.openbatch.pendingReason.code, 'CudaVersionTooOld');
  assert.match(pending.openbatch.pendingReason.message, /CUDA/i);
});

test('the same pool pinned to another driver: every node unusable, the mismatch in errors', { timeout: TEST_TIMEOUT }, async () => {
  await poolWithAgents('pinned-pool', {
    startTask: installDriver,
    packages: [{ applicationId: 'GPUDriver', version: DRIVER }],
    metadata: [{ name: 'openbatch.gpuDriverVersion', value: '470.57' }],
  });
  const { nodes } = await watchStates('pinned-pool', 2, ['idle', 'unusable', 'starttaskfailed']);
  for (const node of nodes) {
    assert.equal(node.state, 'unusable');
    assert.equal(node.startTaskInfo.result, 'success');
    assert.equal(node.errors.length, 1);
    assert.equal(node.errors[0].code, 'GpuDriverVersionMismatch');
    assert.equal(node.errors[0].message, `driver ${DRIVER} found, pool requires 470.57`);
  }
  // No task runs on an unusable node.
  await client.job.add({ id: 'pinned-job', poolInfo: { poolId: 'pinned-pool' } });
  await client.task.add('pinned-job', { id: 't', commandLine: '/bin/true' });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await client.task.get('pinned-job', 't')).state, 'active');
});

test('a failing start task gives starttaskfailed after its retries, and no task runs there', { timeout: TEST_TIMEOUT }, async () => {
  await poolWithAgents('failing-pool', {
    nodes: 1,
    startTask: adminStartTask('echo trying; exit 3', { maxTaskRetryCount: 1 }),
  });
  const { nodes } = await watchStates('failing-pool', 1, ['idle', 'unusable', 'starttaskfailed']);
  const [node] = nodes;
  assert.equal(node.state, 'starttaskfailed');
  assert.equal(node.startTaskInfo.state, 'completed');
  assert.equal(node.startTaskInfo.result, 'failure');
  assert.equal(node.startTaskInfo.exitCode, 3);
  assert.equal(node.startTaskInfo.retryCount, 1);
  assert.equal(node.startTaskInfo.failureInfo.code, 'FailureExitCode');
  await client.job.add({ id: 'failing-job', poolInfo: { poolId: 'failing-pool' } });
  await client.task.add('failing-job', { id: 't', commandLine: '/bin/true' });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await client.task.get('failing-job', 't')).state, 'active');
});

test('waitForSuccess=false: the node is idle at once and runs tasks while the start task runs', { timeout: TEST_TIMEOUT }, async () => {
  await poolWithAgents('nowait-pool', {
    nodes: 1,
    startTask: adminStartTask('sleep 30', { waitForSuccess: false }),
  });
  const [node] = await waitForNodes(client, 'nowait-pool', 1, { states: ['idle', 'running'], timeoutMs: 20000 });
  assert.equal(node.startTaskInfo.state, 'running');
  await client.job.add({ id: 'nowait-job', poolInfo: { poolId: 'nowait-pool' } });
  await client.task.add('nowait-job', { id: 't', commandLine: '/bin/sh -c "echo ran"' });
  const task = await waitForTask(client, 'nowait-job', 't', { timeoutMs: 10000 });
  assert.equal(task.executionInfo.exitCode, 0);
});
