// Multi-instance MPI across separate "hosts": each node agent runs in its own network and UTS
// namespace (tests/netns/testbed.sh: veth pairs on a bridge, one address per node, its own
// hostname), so mpirun's traffic really crosses interfaces, and its remote daemons start
// through `openbatch-agent rsh` and the peer agents -- no sshd. Skips where namespaces cannot
// be made (not root, no iproute2) or the MPI examples were not built.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  AGENT_BIN, cpuPool, rawRequest, removeDir, sdkClientFor, startScheduler, taskFileText, tempDir, until,
  waitForNodes, waitForTask,
} from './lib/harness.mjs';
import { createTestbed, startAgentInNamespace, testbedAvailable } from './lib/netns.mjs';

const TEST_TIMEOUT = 120000;
const POOL = 'mpi';
const EXAMPLES = process.env.OPENBATCH_MPI_EXAMPLES ?? '';
const HELLO = path.join(EXAMPLES, 'mpi_hello');
const PING_PONG = path.join(EXAMPLES, 'mpi_ping_pong');
// Ranks busy-poll by default; on a small shared machine that starves the veths' packet
// processing (milliseconds per message). Real nodes do not need it.
const YIELD = [{ name: 'OMPI_MCA_mpi_yield_when_idle', value: '1' }];

const available = await testbedAvailable();
const skip = !available.ok ? available.reason
  : !existsSync(HELLO) ? `the MPI examples are not built (${HELLO})` : false;

let testbed;
let sched;
let client;
let work;
const agents = [];

before(async () => {
  if (skip) return;
  testbed = await createTestbed(3);
  sched = await startScheduler({ listen: '0.0.0.0:0', extraArgs: ['--provisioner', 'static', '--heartbeat-seconds', '1'] });
  client = await sdkClientFor(sched);
  work = tempDir('mpi');
  chmodSync(work, 0o755);
  await client.pool.add({ ...cpuPool(POOL, { nodes: 3, slots: 1, provisioner: 'static' }), enableInterNodeCommunication: true });
  const token = await rawRequest(sched, { method: 'POST', path: `/pools/${POOL}/jointoken` });
  assert.equal(token.status, 200, token.text);
  const tokenFile = path.join(work, 'join-token');
  writeFileSync(tokenFile, token.json.joinToken, { mode: 0o600 });
  for (let i = 0; i < 3; i++) {
    agents.push(startAgentInNamespace(testbed, i, {
      schedulerUrl: sched.url, poolId: POOL, tokenFile,
      root: path.join(work, `node${i}`, 'root'), stateDir: path.join(work, `node${i}`, 'state'),
    }));
  }
  await waitForNodes(client, POOL, 3);
  await client.job.add({ id: 'mpi', poolInfo: { poolId: POOL } });
});

after(async () => {
  for (const agent of agents) await agent.kill('SIGKILL');
  if (sched) await sched.stop().catch((e) => console.error(e.message));
  if (sched) removeDir(sched.dataDir);
  if (testbed) await testbed.teardown();
  if (work) removeDir(work);
});

async function record(taskId) {
  const res = await rawRequest(sched, { path: `/jobs/mpi/tasks/${taskId}` });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

async function subtasks(taskId) {
  const res = await rawRequest(sched, { path: `/jobs/mpi/tasks/${taskId}/subtasksinfo` });
  assert.equal(res.status, 200, res.text);
  return res.json.value;
}

function describeFailure(task) {
  return `${JSON.stringify(task.executionInfo)}\n${agents.map((a) => a.output.slice(-3000)).join('\n---\n')}`;
}

test('mpirun of hello across 3 namespaced nodes: three ranks on three hosts', { skip, timeout: TEST_TIMEOUT }, async () => {
  await client.task.add('mpi', {
    id: 'hello',
    commandLine: `/bin/sh -c 'mpirun -np 3 --map-by node -host $AZ_BATCH_HOST_LIST ${HELLO}'`,
    environmentSettings: YIELD,
    multiInstanceSettings: { numberOfInstances: 3, coordinationCommandLine: "/bin/sh -c 'hostname'" },
  });
  const done = await waitForTask(client, 'mpi', 'hello', { timeoutMs: 60000 });
  const out = await taskFileText(client, 'mpi', 'hello', 'stdout.txt');
  assert.equal(done.executionInfo.exitCode, 0, `${describeFailure(done)}\n${out}\n` +
    await taskFileText(client, 'mpi', 'hello', 'stderr.txt'));
  const ranks = [...out.matchAll(/^hello from rank (\d+) of 3 on (\S+)$/gm)];
  assert.equal(ranks.length, 3, out);
  assert.deepEqual(ranks.map((m) => Number(m[1])).sort(), [0, 1, 2]);
  const hosts = new Set(ranks.map((m) => m[2]));
  assert.deepEqual(hosts, new Set(testbed.nodes.map((n) => n.hostname)));
  assert.match(out, /ranks: 3, distinct hosts: 3/);

  const transport = (await record('hello')).openbatch.mpiTransport;
  assert.equal(transport.kind, 'tcp');
  assert.equal(transport.network, testbed.subnet);
  const subs = await subtasks('hello');
  assert.equal(subs.length, 2);
  for (const s of subs) {
    assert.equal(s.state, 'completed');
    assert.equal(s.result, 'success');
    // The coordination command's output, through the node file API.
    const file = await rawRequest(sched, {
      path: `/pools/${POOL}/nodes/${s.nodeInfo.nodeId}/files/${s.nodeInfo.taskRootDirectory}/stdout.txt`,
    });
    assert.equal(file.status, 200, file.text);
    assert.ok(hosts.has(file.text.trim()), file.text);
  }
});

test('ping-pong between two nodes over TCP', { skip, timeout: TEST_TIMEOUT }, async () => {
  await client.task.add('mpi', {
    id: 'ping-pong',
    commandLine: `/bin/sh -c 'mpirun -np 2 --map-by node -host $AZ_BATCH_HOST_LIST ${PING_PONG} --iterations 20'`,
    environmentSettings: YIELD,
    multiInstanceSettings: { numberOfInstances: 2, coordinationCommandLine: '/bin/true' },
  });
  const done = await waitForTask(client, 'mpi', 'ping-pong', { timeoutMs: 60000 });
  const out = await taskFileText(client, 'mpi', 'ping-pong', 'stdout.txt');
  assert.equal(done.executionInfo.exitCode, 0, `${describeFailure(done)}\n${out}`);
  assert.match(out, /bytes\s+latency_us\s+bandwidth_MBps/);
  const rows = out.split('\n').filter((l) => /^\s*\d+\s+[\d.]+\s+[\d.]+\s*$/.test(l));
  assert.ok(rows.length >= 5, out);
  const transport = (await record('ping-pong')).openbatch.mpiTransport;
  assert.equal(transport.kind, 'tcp');
  assert.match(transport.reason, /TCP|InfiniBand/);
});

// Runs `openbatch-agent rsh` from the root namespace (it reaches the nodes over the bridge).
function rsh(env, host, command) {
  return new Promise((resolve) => {
    const child = spawn(AGENT_BIN, ['rsh', host, ...command], { env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the launcher works with the task token while it runs; a forged or expired token is refused', { skip, timeout: TEST_TIMEOUT }, async () => {
  await client.task.add('mpi', {
    id: 'probe',
    commandLine: "/bin/sh -c 'echo \"peers=$OPENBATCH_RSH_PEERS\"; echo \"token=$OPENBATCH_RSH_TOKEN\"; " +
      'set -- $(echo $AZ_BATCH_HOST_LIST | tr , " "); echo "remote=$($OMPI_MCA_plm_rsh_agent $2 hostname)"; ' +
      "echo ready; sleep 8'",
    multiInstanceSettings: { numberOfInstances: 2, coordinationCommandLine: '/bin/true' },
  });
  const out = await until(async () => {
    const task = await client.task.get('mpi', 'probe');
    if (task.state !== 'running') return undefined;
    const text = await taskFileText(client, 'mpi', 'probe', 'stdout.txt');
    return text.includes('ready') ? text : undefined;
  }, { timeoutMs: 30000, what: 'the probe task printing its launcher settings' });
  const values = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => {
    const eq = l.indexOf('=');
    return [l.slice(0, eq), l.slice(eq + 1)];
  }));
  const [sub] = await subtasks('probe');
  const subHost = testbed.nodes.find((n) => values.peers.includes(`${n.ip}=`) && n.hostname === values.remote);
  assert.ok(subHost, `the primary ran hostname on the subtask's node through the launcher: ${out}`);
  const env = { OPENBATCH_RSH_PEERS: values.peers, AZ_BATCH_JOB_ID: 'mpi', AZ_BATCH_TASK_ID: 'probe' };

  const forged = await rsh({ ...env, OPENBATCH_RSH_TOKEN: `${values.token.slice(0, -4)}AAAA` }, subHost.ip, ['id']);
  assert.equal(forged.code, 255, JSON.stringify(forged));
  // The refusal says nothing of the node's tasks (the reason is in the peer agent's log).
  assert.match(forged.stderr, /refused: not authorized$/m);
  assert.doesNotMatch(forged.stderr, /probe|token/);
  assert.equal(forged.stdout, '');
  const otherTask = await rsh({ ...env, AZ_BATCH_TASK_ID: 'hello', OPENBATCH_RSH_TOKEN: values.token }, subHost.ip, ['id']);
  assert.equal(otherTask.code, 255, JSON.stringify(otherTask));
  assert.equal(otherTask.stderr, forged.stderr, 'a running and an absent task are refused alike');

  await waitForTask(client, 'mpi', 'probe', { timeoutMs: 30000 });
  await until(async () => (await subtasks('probe'))[0].state === 'completed' || undefined,
    { timeoutMs: 10000, what: 'the subtask completed' });
  const expired = await rsh({ ...env, OPENBATCH_RSH_TOKEN: values.token }, subHost.ip, ['id']);
  assert.equal(expired.code, 255, JSON.stringify(expired));
  assert.match(expired.stderr, /refused: not authorized$/m);
  const peerAgent = agents[testbed.nodes.indexOf(subHost)];
  assert.match(peerAgent.output, /rsh refused: job mpi task probe .*token/);
  assert.equal(sub.nodeInfo.nodeId, peerAgent.nodeId());
});
