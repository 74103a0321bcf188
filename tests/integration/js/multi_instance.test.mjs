// Multi-instance tasks on agents that share this machine's network (static provisioning, one
// agent per "node", each with its own root): gang placement and its pending reasons, the
// coordination -> application sequence, the MPI transport chosen from each node's InfiniBand
// ports (sysfs fixtures stand in for the hardware), a failed coordination command and a lost
// node each retrying the whole task, and what subtasksinfo and the node file API show.
// MPI across separate network namespaces is in mpi_netns.test.mjs.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  Agent, REPO_DIR, cpuPool, rawRequest, removeDir, sdkClientFor, sleep, startScheduler, taskFileText, tempDir, until,
  waitForNodes, waitForTask,
} from './lib/harness.mjs';

const TEST_TIMEOUT = 90000;
const SYSFS = path.join(REPO_DIR, 'tests/fixtures/sysfs');

let sched;
let client;
let work;
const agents = [];

function mpiPool(id, nodes, { interNode = true, slots = 1 } = {}) {
  return { ...cpuPool(id, { nodes, slots, provisioner: 'static' }), enableInterNodeCommunication: interNode };
}

async function joinToken(poolId) {
  const res = await rawRequest(sched, { method: 'POST', path: `/pools/${poolId}/jointoken` });
  assert.equal(res.status, 200, res.text);
  const file = path.join(work, `${poolId}.token`);
  writeFileSync(file, res.json.joinToken, { mode: 0o600 });
  return file;
}

// Starts one agent per entry of `sysfs` (a fixture folder name, or null for the real /sys)
// and waits for the pool's nodes to be idle.
async function poolWithAgents(poolId, sysfs, options = {}) {
  await client.pool.add(mpiPool(poolId, sysfs.length, options));
  const tokenFile = await joinToken(poolId);
  const started = sysfs.map((fixture, i) => {
    const name = `${poolId}-${i}`;
    const extraArgs = fixture ? ['--sysfs-root', path.join(SYSFS, fixture)] : [];
    const agent = new Agent({
      schedulerUrl: sched.url, poolId, tokenFile, extraArgs,
      root: path.join(work, name, 'root'), stateDir: path.join(work, name, 'state'),
    });
    agents.push(agent);
    return agent;
  });
  await waitForNodes(client, poolId, sysfs.length);
  return started;
}

function multiInstanceTask(id, { instances, commandLine, coordination = '/bin/true', ...rest }) {
  return {
    id,
    commandLine,
    multiInstanceSettings: { numberOfInstances: instances, coordinationCommandLine: coordination },
    ...rest,
  };
}

async function getTask(jobId, taskId) {
  const res = await rawRequest(sched, { path: `/jobs/${jobId}/tasks/${taskId}` });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

async function subtasks(jobId, taskId) {
  const res = await rawRequest(sched, { path: `/jobs/${jobId}/tasks/${taskId}/subtasksinfo` });
  assert.equal(res.status, 200, res.text);
  return res.json.value;
}

async function nodeFileText(poolId, nodeId, filePath) {
  const res = await rawRequest(sched, { path: `/pools/${poolId}/nodes/${nodeId}/files/${filePath}` });
  assert.equal(res.status, 200, `${filePath}: ${res.text}`);
  return res.text;
}

// "name=value" lines of a command's output as a map.
function settings(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

const SHOW_ENV = "/bin/sh -c 'echo pml=$OMPI_MCA_pml; echo ucx=$UCX_NET_DEVICES; echo btl=$OMPI_MCA_btl; " +
  'echo hosts=$AZ_BATCH_HOST_LIST; echo master=$AZ_BATCH_IS_CURRENT_NODE_MASTER; ' +
  "echo shared=$AZ_BATCH_TASK_SHARED_DIR; echo rsh=$OMPI_MCA_plm_rsh_agent; echo hostfile=$OPENBATCH_HOSTFILE'";

const SCHEDULER_ARGS = ['--provisioner', 'static', '--heartbeat-seconds', '1'];

before(async () => {
  sched = await startScheduler({ extraArgs: SCHEDULER_ARGS });
  client = await sdkClientFor(sched);
  work = tempDir('multi');
  chmodSync(work, 0o755);
});

after(async () => {
  for (const agent of agents) await agent.kill('SIGKILL');
  if (sched) await sched.stop().catch((e) => console.error(e.message));
  if (sched) removeDir(sched.dataDir);
  removeDir(work);
});

test('a gang that cannot fit says why instead of waiting silently', { timeout: TEST_TIMEOUT }, async () => {
  await poolWithAgents('two-nodes', [null, null]);
  await client.job.add({ id: 'too-wide', poolInfo: { poolId: 'two-nodes' } });
  await client.task.add('too-wide', multiInstanceTask('three', { instances: 3, commandLine: '/bin/true' }));
  const pending = await until(async () => {
    const task = await getTask('too-wide', 'three');
    return task.openbatch?.pendingReason ? task : undefined;
  }, { timeoutMs: 10000, what: 'a pending reason on the 3-instance task' });
  assert.equal(pending.state, 'active');
  assert.equal(pending.openbatch.pendingReason.code, 'NotEnoughNodesForGang');
  assert.match(pending.openbatch.pendingReason.message, /3/);

  await poolWithAgents('no-internode', [null], { interNode: false });
  await client.job.add({ id: 'no-internode', poolInfo: { poolId: 'no-internode' } });
  await client.task.add('no-internode', multiInstanceTask('two', { instances: 2, commandLine: '/bin/true' }));
  const refused = await until(async () => {
    const task = await getTask('no-internode', 'two');
    return task.openbatch?.pendingReason ? task : undefined;
  }, { timeoutMs: 10000, what: 'a pending reason on the task of a pool without inter-node communication' });
  assert.equal(refused.openbatch.pendingReason.code, 'InterNodeCommunicationDisabled');

  // A narrow task of the same job still runs: the gang that can never fit holds nothing.
  await client.task.add('too-wide', { id: 'narrow', commandLine: '/bin/true' });
  const narrow = await waitForTask(client, 'too-wide', 'narrow');
  assert.equal(narrow.executionInfo.result, 'success');
  await client.job.terminate('too-wide');
  await client.job.terminate('no-internode');
});

test('every node with an active InfiniBand port: UCX on its devices; otherwise TCP', { timeout: TEST_TIMEOUT }, async () => {
  await poolWithAgents('ib-all', ['ib_2port_active', 'ib_2hca_edr']);
  await client.job.add({ id: 'ib-all', poolInfo: { poolId: 'ib-all' } });
  const coordination = "/bin/sh -c 'echo sub-pml=$OMPI_MCA_pml; echo sub-ucx=$UCX_NET_DEVICES'";
  await client.task.add('ib-all', multiInstanceTask('env', { instances: 2, commandLine: SHOW_ENV, coordination }));
  const done = await waitForTask(client, 'ib-all', 'env');
  assert.equal(done.executionInfo.exitCode, 0, JSON.stringify(done.executionInfo));
  const primary = settings(await taskFileText(client, 'ib-all', 'env', 'stdout.txt'));
  assert.equal(primary.get('pml'), 'ucx');
  assert.equal(primary.get('master'), 'true');
  assert.equal(primary.get('hosts').split(',').length, 2);
  assert.match(primary.get('rsh'), /openbatch-agent rsh$/);
  const primaryNode = done.nodeInfo.nodeId;
  // Each node gets its own active ports: the 2-port ConnectX-6 has only port 1 up.
  const record = await getTask('ib-all', 'env');
  assert.equal(record.openbatch.mpiTransport.kind, 'ucx');
  const devices = record.openbatch.mpiTransport.devices;
  assert.equal(primary.get('ucx'), devices[primaryNode]);
  assert.deepEqual(new Set(Object.values(devices)), new Set(['mlx5_0:1', 'mlx5_0:1,mlx5_1:1']));
  // The task's transport log, beside its stdout.
  const log = await taskFileText(client, 'ib-all', 'env', 'mpi-transport.txt');
  assert.match(log, /^MPI transport chosen by the scheduler: ucx$/m);
  assert.match(log, new RegExp(`^UCX_NET_DEVICES=${devices[primaryNode]}$`, 'm'));
  // The subtask's view, through subtasksinfo and the node file API.
  const [sub] = await subtasks('ib-all', 'env');
  assert.equal(sub.id, 1);
  assert.equal(sub.state, 'completed');
  assert.equal(sub.exitCode, 0, JSON.stringify(sub));
  assert.equal(sub.result, 'success', JSON.stringify(sub));
  assert.notEqual(sub.nodeInfo.nodeId, primaryNode);
  const subOut = settings(await nodeFileText('ib-all', sub.nodeInfo.nodeId, `${sub.nodeInfo.taskRootDirectory}/stdout.txt`));
  assert.equal(subOut.get('sub-pml'), 'ucx');
  assert.equal(subOut.get('sub-ucx'), devices[sub.nodeInfo.nodeId]);
  // The hostfile the instances share lists every host.
  const hostfile = await nodeFileText('ib-all', primaryNode, `workitems/ib-all/job-1/env/hostfile`);
  assert.equal(hostfile.trim().split('\n').length, 2);

  // The user's own settings win, and the record says so.
  await client.task.add('ib-all', multiInstanceTask('override', {
    instances: 2, commandLine: SHOW_ENV, environmentSettings: [{ name: 'OMPI_MCA_pml', value: 'ob1' }],
  }));
  await waitForTask(client, 'ib-all', 'override');
  assert.equal(settings(await taskFileText(client, 'ib-all', 'override', 'stdout.txt')).get('pml'), 'ob1');
  const overridden = (await getTask('ib-all', 'override')).openbatch.mpiTransport;
  assert.equal(overridden.kind, 'tcp');
  assert.ok(overridden.overriddenBy.includes('OMPI_MCA_pml'), JSON.stringify(overridden));
  assert.match(await taskFileText(client, 'ib-all', 'override', 'mpi-transport.txt'),
    /^OMPI_MCA_pml=ob1 {4}\(the task's own setting; the scheduler chose ucx\)$/m);

  // One node without InfiniBand: TCP for all.
  await poolWithAgents('ib-some', ['ib_2port_active', 'no_ib']);
  await client.job.add({ id: 'ib-some', poolInfo: { poolId: 'ib-some' } });
  await client.task.add('ib-some', multiInstanceTask('env', { instances: 2, commandLine: SHOW_ENV }));
  await waitForTask(client, 'ib-some', 'env');
  const tcp = settings(await taskFileText(client, 'ib-some', 'env', 'stdout.txt'));
  assert.equal(tcp.get('pml'), 'ob1');
  assert.equal(tcp.get('ucx'), '');
  assert.match(tcp.get('btl'), /tcp/);
  const chosen = (await getTask('ib-some', 'env')).openbatch.mpiTransport;
  assert.equal(chosen.kind, 'tcp');
  assert.match(chosen.reason, /InfiniBand/i);
});

test('a coordination command failing on one node fails the whole task, which is retried as a unit', { timeout: TEST_TIMEOUT }, async () => {
  await poolWithAgents('coord', [null, null, null]);
  await client.job.add({ id: 'coord', poolInfo: { poolId: 'coord' } });
  // A marker every node sees (they share this machine): the first non-primary instance to
  // coordinate fails once; the retry finds the marker and passes.
  const markers = path.join(work, 'markers');
  mkdirSync(markers);
  chmodSync(markers, 0o777);
  const coordination = `/bin/sh -c 'if [ "$AZ_BATCH_IS_CURRENT_NODE_MASTER" = false ] && ` +
    `mkdir ${markers}/failed 2>/dev/null; then echo failing on purpose >&2; exit 7; fi; echo coordinated'`;
  await client.task.add('coord', multiInstanceTask('retried', {
    instances: 3, coordination, commandLine: "/bin/sh -c 'echo application ran'",
    constraints: { maxTaskRetryCount: 1 },
  }));
  const done = await waitForTask(client, 'coord', 'retried');
  assert.equal(done.executionInfo.result, 'success', JSON.stringify(done.executionInfo));
  assert.equal(done.executionInfo.retryCount, 1);
  assert.match(await taskFileText(client, 'coord', 'retried', 'stdout.txt'), /application ran/);
  // The subtasks complete once the task's end has stopped them (just after the task itself).
  const subs = await until(async () => {
    const list = await subtasks('coord', 'retried');
    return list.every((s) => s.state === 'completed') ? list : undefined;
  }, { timeoutMs: 10000, intervalMs: 100, what: 'subtasks of coord/retried completed' });
  assert.deepEqual(subs.map((s) => s.id), [1, 2]);

  // Without a retry left, the failure is the task's: the subtask's exit code and why.
  await client.task.add('coord', multiInstanceTask('failed', {
    instances: 2, coordination: "/bin/sh -c '[ \"$AZ_BATCH_IS_CURRENT_NODE_MASTER\" = true ] || exit 9'",
    commandLine: "/bin/sh -c 'echo never'",
  }));
  const failed = await waitForTask(client, 'coord', 'failed');
  assert.equal(failed.executionInfo.result, 'failure');
  assert.equal(failed.executionInfo.exitCode, 9);
  assert.equal(failed.executionInfo.failureInfo.code, 'FailureExitCode');
  assert.match(failed.executionInfo.failureInfo.message, /Subtask 1 on node/);
  assert.doesNotMatch(await taskFileText(client, 'coord', 'failed', 'stdout.txt'), /never/);
});

test('a node lost mid-run requeues the whole task, which completes on other nodes', { timeout: TEST_TIMEOUT }, async () => {
  const lostAgents = await poolWithAgents('lost', [null, null, null]);
  await client.job.add({ id: 'lost', poolInfo: { poolId: 'lost' } });
  await client.task.add('lost', multiInstanceTask('survivor', {
    instances: 2, commandLine: "/bin/sh -c 'sleep 10; echo finished on $AZ_BATCH_NODE_ID'",
  }));
  const running = await waitForTask(client, 'lost', 'survivor', { state: 'running' });
  const [sub] = await until(async () => {
    const list = await subtasks('lost', 'survivor');
    return list.length === 1 && list[0].state === 'running' ? list : undefined;
  }, { timeoutMs: 10000, what: 'the subtask running' });
  const lostNode = sub.nodeInfo.nodeId;
  const victim = lostAgents.find((a) => a.nodeId() === lostNode);
  assert.ok(victim, `the agent of ${lostNode}`);
  await victim.kill('SIGKILL');

  const done = await waitForTask(client, 'lost', 'survivor', { timeoutMs: 40000 });
  assert.equal(done.executionInfo.result, 'success', JSON.stringify(done.executionInfo));
  assert.equal(done.executionInfo.requeueCount, 1);
  assert.notEqual(done.nodeInfo.nodeId, lostNode);
  const [again] = await subtasks('lost', 'survivor');
  assert.notEqual(again.nodeInfo.nodeId, lostNode);
  assert.match(await taskFileText(client, 'lost', 'survivor', 'stdout.txt'), new RegExp(`finished on ${done.nodeInfo.nodeId}`));
  assert.ok(running.nodeInfo.nodeId);
});

test('a wide task is not starved by 500 narrow ones submitted after it', { timeout: TEST_TIMEOUT }, async () => {
  await poolWithAgents('stream', [null, null, null]);
  await client.job.add({ id: 'stream', poolInfo: { poolId: 'stream' } });
  // Two nodes busy for a while, then the 3-node task, then a stream of narrow tasks that could
  // each take the third node at once.
  await client.task.add('stream', { id: 'busy-1', commandLine: "/bin/sh -c 'sleep 2'" });
  await client.task.add('stream', { id: 'busy-2', commandLine: "/bin/sh -c 'sleep 2'" });
  await waitForTask(client, 'stream', 'busy-1', { state: 'running' });
  await waitForTask(client, 'stream', 'busy-2', { state: 'running' });
  await client.task.add('stream', multiInstanceTask('wide', { instances: 3, commandLine: '/bin/true' }));
  for (let batch = 0; batch < 5; batch++) {
    const value = Array.from({ length: 100 }, (_, i) => ({
      id: `narrow-${String(batch * 100 + i).padStart(3, '0')}`, commandLine: '/bin/true',
    }));
    await client.task.addCollection('stream', value);
  }
  const wide = await waitForTask(client, 'stream', 'wide', { timeoutMs: 30000 });
  assert.equal(wide.executionInfo.result, 'success');
  const wideStart = Date.parse(wide.executionInfo.startTime);
  const narrow = await until(async () => {
    const res = await rawRequest(sched, {
      path: '/jobs/stream/tasks', query: { $filter: "startswith(id,'narrow-')", $select: 'id,state,executionInfo', maxresults: 1000 },
    });
    assert.equal(res.status, 200, res.text);
    const tasks = res.json.value;
    return tasks.length === 500 && tasks.every((t) => t.state === 'completed') ? tasks : undefined;
  }, { timeoutMs: 60000, intervalMs: 250, what: '500 narrow tasks completed' });
  const startedFirst = narrow.filter((t) => Date.parse(t.executionInfo.startTime) < wideStart);
  assert.deepEqual(startedFirst.map((t) => t.id), [], 'no narrow task started before the wide one');
});

// Last: it restarts the scheduler the other tests share.
test('a gang keeps its coordination across a scheduler SIGKILL and runs once', { timeout: TEST_TIMEOUT }, async () => {
  await poolWithAgents('restart', [null, null]);
  await client.job.add({ id: 'restart', poolInfo: { poolId: 'restart' } });
  const ledger = path.join(work, 'gang-ledger.txt');
  writeFileSync(ledger, '');
  chmodSync(ledger, 0o666);
  await client.task.add('restart', multiInstanceTask('survives', {
    instances: 2, coordination: "/bin/sh -c 'sleep 2'",
    commandLine: `/bin/sh -c 'echo "application on $AZ_BATCH_NODE_ID" >> ${ledger}'`,
  }));
  await waitForTask(client, 'restart', 'survives', { state: 'running' });
  // Killed while both instances coordinate; their "coordinated" reports wait in the agents'
  // outboxes and reach the restarted scheduler, which must start the application once.
  await sched.kill();
  await sleep(2500);
  const listen = new URL(sched.url).host;
  sched = await startScheduler({ dataDir: sched.dataDir, account: sched.account, key: sched.key,
    extraArgs: SCHEDULER_ARGS, listen });
  client = await sdkClientFor(sched);
  const done = await waitForTask(client, 'restart', 'survives', { timeoutMs: 30000 });
  assert.equal(done.executionInfo.result, 'success', JSON.stringify(done.executionInfo));
  assert.equal(done.executionInfo.retryCount, 0);
  assert.equal(done.executionInfo.requeueCount, 0);
  const runs = readFileSync(ledger, 'utf8').split('\n').filter(Boolean);
  assert.deepEqual(runs, [`application on ${done.nodeInfo.nodeId}`]);
  const [sub] = await until(async () => {
    const list = await subtasks('restart', 'survives');
    return list[0]?.state === 'completed' ? list : undefined;
  }, { timeoutMs: 10000, what: 'the subtask completed' });
  assert.equal(sub.result, 'success', JSON.stringify(sub));
});

