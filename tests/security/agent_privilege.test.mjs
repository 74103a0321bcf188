// Least privilege on the agent side (issue 10, item 5): what a node's credentials and a
// node's tasks can reach. A real scheduler with local agents and three pools:
//   A  references application package "secretapp" (pool level), 1 node, 2 slots;
//   B  references nothing, no inter-node communication, 1 node;
//   M  enableInterNodeCommunication, 2 nodes, runs a two-instance multi-instance task.
// Attacks, each of which must fail:
//   - pool B's node token (read where its local agent keeps it) downloads pool A's package, or
//     the package of a task running on another node;
//   - an unauthenticated join tells an existing pool id from an unknown one (404 vs 401);
//   - the remote-launch server listens on a node whose pool has no inter-node communication,
//     or on every interface;
//   - a forged rsh request learns which tasks a node runs from the refusal;
//   - a nonadmin task reads a node token, the join token, the account key or another task's
//     rsh token (state directories, /proc/*/environ, /proc/*/cmdline, its own environment), or
//     another job's task files (wd, stdout) through the filesystem.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  API_VERSION, cpuPool, rawRequest, removeDir, sdkClientFor, startScheduler, taskFileText, tempDir, until, waitForNodes,
  waitForTask,
} from '../integration/js/lib/harness.mjs';

const TEST_TIMEOUT = 120000;
const IS_ROOT = process.getuid?.() === 0;
const TASK_SCOPE = { autoUser: { scope: 'task', elevationLevel: 'nonadmin' } };

let sched;
let client;
let work;
const packages = {};  // application id -> sha256 of its 1.0 package
let joinTokenA;

// A real zip (the agents extract what they install) holding one file with random content.
function makeZip(name) {
  const dir = path.join(work, name);
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(path.join(dir, 'payload.txt'), `${name} ${randomBytes(16).toString('hex')}\n`);
  const zip = path.join(work, `${name}.zip`);
  execFileSync('zip', ['-q', '-j', zip, path.join(dir, 'payload.txt')]);
  return readFileSync(zip);
}

async function uploadApp(id) {
  const created = await rawRequest(sched, { method: 'PUT', path: `/applications/${id}`, body: {} });
  assert.ok([200, 201].includes(created.status), created.text);
  const zip = makeZip(id);
  const up = await rawRequest(sched, {
    method: 'PUT', path: `/applications/${id}/versions/1.0`, query: { activate: 'true' }, body: zip,
    headers: { 'content-type': 'application/zip' },
  });
  assert.ok([200, 201].includes(up.status), up.text);
  packages[id] = createHash('sha256').update(zip).digest('hex');
}

// The local agents of this scheduler, found as an attacker on the host would: their command
// lines, and node.json in their state directories (as root, or as the agents' own user).
function localAgents() {
  const found = [];
  for (const pid of readdirSync('/proc').filter((d) => /^[0-9]+$/.test(d))) {
    let argv;
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!argv[0]?.endsWith('openbatch-agent') || argv[1] !== 'run') continue;
    const flag = (name) => {
      const i = argv.indexOf(name);
      return i >= 0 ? argv[i + 1] : undefined;
    };
    if (flag('--scheduler') !== sched.url) continue;
    const stateDir = flag('--state-dir');
    try {
      const identity = JSON.parse(readFileSync(path.join(stateDir, 'node.json'), 'utf8'));
      found.push({ pid: Number(pid), stateDir, ...identity });
    } catch {
      // not joined yet
    }
  }
  return found;
}

function agentOf(poolId) {
  const agent = localAgents().find((a) => a.poolId === poolId);
  assert.ok(agent, `the local agent of pool ${poolId} (with node.json) was not found`);
  return agent;
}

function ipv4(hex) {
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

// The TCP sockets process `pid` listens on: its socket fds matched against /proc/PID/net/tcp*.
function listeningSockets(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[([0-9]+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const sockets = [];
  for (const [file, v6] of [['tcp', false], ['tcp6', true]]) {
    let text;
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== '0A' || !inodes.has(f[9])) continue;  // 0A: LISTEN
      const [address, port] = f[1].split(':');
      sockets.push({ address: v6 ? `[${address}]` : ipv4(address), port: parseInt(port, 16) });
    }
  }
  return sockets;
}

// One rsh request (agent-protocol.md section 7); resolves to the frames until the close.
function rsh(port, request) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    socket.setTimeout(15000, () => socket.destroy(new Error('rsh: no answer')));
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const data = Buffer.concat(chunks);
      const frames = [];
      for (let at = 0; at + 5 <= data.length;) {
        const length = data.readUInt32BE(at + 1);
        frames.push({ type: String.fromCharCode(data[at]), payload: data.subarray(at + 5, at + 5 + length).toString() });
        at += 5 + length;
      }
      resolve(frames);
    });
  });
}

function download(sha, token) {
  return fetch(`${sched.url}/agent/v1/packages/${sha}`, { headers: { authorization: `Bearer ${token}` } });
}

function join(poolId, token) {
  return fetch(`${sched.url}/agent/v1/join`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ poolId, hostname: 'intruder', inventory: {} }),
  });
}

// An Azure error body without its per-response Time line.
async function errorOf(res) {
  const body = await res.json();
  return { status: res.status, code: body.code, message: body.message?.value?.replace(/\nTime:.*$/s, '') };
}

before(async () => {
  // Node roots may live in the data directory: the tasks' users must reach them.
  const dataDir = tempDir('leastpriv-data');
  chmodSync(dataDir, 0o755);
  sched = await startScheduler({ dataDir, extraArgs: ['--heartbeat-seconds', '1',
    '--agent-arg=--reconnect-min-ms', '--agent-arg=100', '--agent-arg=--reconnect-max-ms', '--agent-arg=1000'] });
  client = await sdkClientFor(sched);
  work = tempDir('leastpriv');
  chmodSync(work, 0o755);
  await uploadApp('secretapp');
  await uploadApp('taskapp');
  await client.pool.add({ ...cpuPool('A', { nodes: 1, slots: 2 }),
    applicationPackageReferences: [{ applicationId: 'secretapp', version: '1.0' }] });
  await client.pool.add(cpuPool('B', { nodes: 1, slots: 2 }));
  await client.pool.add({ ...cpuPool('M', { nodes: 2, slots: 1 }), enableInterNodeCommunication: true });
  const token = await rawRequest(sched, { method: 'POST', path: '/pools/A/jointoken' });
  assert.equal(token.status, 200, token.text);
  joinTokenA = token.json.joinToken;
  for (const [pool, nodes] of [['A', 1], ['B', 1], ['M', 2]]) {
    await waitForNodes(client, pool, nodes, { timeoutMs: 60000 });
  }
  for (const pool of ['A', 'B', 'M']) await client.job.add({ id: `job${pool}`, poolInfo: { poolId: pool } });
  // A multi-instance task that keeps running on M's nodes: its instances are what a forged
  // rsh request names, and their rsh token is what a spying task looks for.
  await client.task.add('jobM', {
    id: 'mpi-sleeper', commandLine: "/bin/sh -c 'sleep 100'",
    multiInstanceSettings: { numberOfInstances: 2, coordinationCommandLine: 'true' },
  });
});

after(async () => {
  if (sched) await sched.stop().catch((e) => console.error(e.message));
  if (sched) removeDir(sched.dataDir);
  removeDir(work);
});

test('a node token downloads only its own pool\'s and its tasks\' packages', { timeout: TEST_TIMEOUT }, async () => {
  const a = agentOf('A');
  const b = agentOf('B');
  const own = await download(packages.secretapp, a.nodeToken);
  assert.equal(own.status, 200, 'pool A\'s node downloads pool A\'s package');
  await own.arrayBuffer();
  const unknown = await errorOf(await download('0'.repeat(64), b.nodeToken));
  assert.equal(unknown.status, 404);
  const stolen = await download(packages.secretapp, b.nodeToken);
  const stolenError = stolen.status === 200 ? (await stolen.arrayBuffer(), { status: 200 }) : await errorOf(stolen);
  assert.deepEqual(stolenError, unknown, 'pool B\'s node token gets pool A\'s package, or learns that it exists');

  // Nor does a node token open the client API: another node's files stay out of reach.
  const files = await fetch(`${sched.url}/pools/A/nodes/${a.nodeId}/files?api-version=${API_VERSION}&recursive=true`,
    { headers: { authorization: `Bearer ${b.nodeToken}` } });
  const filesBody = await files.text();
  // Azure's answer to a scheme other than SharedKey: 400 InvalidAuthenticationInfo.
  assert.ok([400, 401, 403].includes(files.status) && /Authentication/.test(filesBody),
    `a node token lists another node's files: ${files.status} ${filesBody}`);

  // A task's own package: downloadable by the node that runs it, while it runs, and no other.
  await client.task.add('jobB', {
    id: 'uses-taskapp', commandLine: "/bin/sh -c 'sleep 5'",
    applicationPackageReferences: [{ applicationId: 'taskapp', version: '1.0' }],
  });
  await until(async () => (await client.task.get('jobB', 'uses-taskapp')).state === 'running',
    { timeoutMs: 30000, what: 'uses-taskapp running' });
  const whileRunning = await download(packages.taskapp, b.nodeToken);
  assert.equal(whileRunning.status, 200, 'the node running the task downloads its package');
  await whileRunning.arrayBuffer();
  assert.deepEqual(await errorOf(await download(packages.taskapp, a.nodeToken)), unknown,
    'another node gets the package of a task it does not run');
  const done = await waitForTask(client, 'jobB', 'uses-taskapp');
  assert.equal(done.executionInfo.result, 'success', JSON.stringify(done.executionInfo));
  assert.deepEqual(await errorOf(await download(packages.taskapp, b.nodeToken)), unknown,
    'once the task is off the node, its package is not the node\'s any more');
});

test('an unknown pool and a wrong token get the same 401 on join', { timeout: TEST_TIMEOUT }, async () => {
  const wrong = await join('A', `${randomBytes(8).toString('hex')}.${randomBytes(32).toString('base64url')}`);
  const unknown = await join('no-such-pool', `${randomBytes(8).toString('hex')}.${randomBytes(32).toString('base64url')}`);
  const deleted = await join('B-never-existed', joinTokenA);
  assert.equal(wrong.headers.get('www-authenticate'), unknown.headers.get('www-authenticate'));
  const answers = [await errorOf(wrong), await errorOf(unknown), await errorOf(deleted)];
  assert.equal(answers[0].status, 401, JSON.stringify(answers[0]));
  assert.deepEqual(answers[1], answers[0], 'an unknown pool id is told apart from a wrong token');
  assert.deepEqual(answers[2], answers[0], 'a valid token of another pool tells the pool apart');
});

test('the remote-launch server runs only on inter-node pools, on the node\'s address', { timeout: TEST_TIMEOUT }, async () => {
  const b = agentOf('B');
  assert.deepEqual(listeningSockets(b.pid), [],
    'the agent of a pool without inter-node communication listens for nothing');
  for (const m of localAgents().filter((a) => a.poolId === 'M')) {
    const sockets = listeningSockets(m.pid);
    assert.equal(sockets.length, 1, JSON.stringify(sockets));
    // Local agents' nodes have the address 127.0.0.1: their peers reach them there.
    assert.equal(sockets[0].address, '127.0.0.1', `listens on ${sockets[0].address}, not the node's address`);
  }
});

test('a forged rsh request learns nothing of the node\'s tasks', { timeout: TEST_TIMEOUT }, async () => {
  const m = agentOf('M');
  // The instance runs its command (stdout.txt exists) once it passed its setup.
  await until(async () => (await client.task.get('jobM', 'mpi-sleeper')).state === 'running',
    { timeoutMs: 30000, what: 'mpi-sleeper running' });
  await until(async () => {
    try {
      await taskFileText(client, 'jobM', 'mpi-sleeper', 'stdout.txt');
      return true;
    } catch {
      return false;
    }
  }, { timeoutMs: 30000, what: 'mpi-sleeper started' });
  const port = listeningSockets(m.pid)[0]?.port;
  assert.ok(port, 'M\'s agent runs a remote-launch server');
  const forged = { v: 1, jobId: 'jobM', taskId: 'mpi-sleeper', token: 'exec.Zm9yZ2Vk', command: ['id'] };
  const running = await rsh(port, forged);
  const absent = await rsh(port, { ...forged, taskId: 'no-such-task' });
  assert.equal(running.length, 1, JSON.stringify(running));
  assert.equal(running[0].type, 'R', 'a forged token runs nothing');
  assert.deepEqual(absent, running, 'the refusal tells a running task from an absent one');
  for (const word of ['jobM', 'mpi-sleeper', 'no-such-task']) {
    assert.ok(!running[0].payload.includes(word), `the refusal names ${word}: ${running[0].payload}`);
  }
});

test('a nonadmin task reads no agent secret and no other job\'s files', {
  timeout: TEST_TIMEOUT, skip: IS_ROOT ? false : 'needs root: the agents run nonadmin tasks as other users only as root',
}, async () => {
  const agents = localAgents();
  assert.equal(agents.length, 4, JSON.stringify(agents.map((a) => a.poolId)));
  await until(async () => (await client.task.get('jobM', 'mpi-sleeper')).state === 'running',
    { timeoutMs: 30000, what: 'mpi-sleeper running' });
  // The victim: another job's task on the same node, keeping a secret (made by the task, so
  // that no record holds it) in its wd and its stdout.
  await client.job.add({ id: 'victims', poolInfo: { poolId: 'A' } });
  await client.task.add('victims', {
    id: 'victim', userIdentity: TASK_SCOPE,
    commandLine: "/bin/sh -c 'od -An -N16 -tx1 /dev/urandom | tr -d \" \\n\" > secret.txt; cat secret.txt; sleep 60'",
  });
  let secret;
  const victim = await until(async () => {
    const t = await client.task.get('victims', 'victim');
    if (t.state !== 'running') return undefined;
    try {
      secret = (await taskFileText(client, 'victims', 'victim', 'wd/secret.txt')).trim();
      return secret.length === 32 ? t : undefined;
    } catch {
      return undefined;
    }
  }, { timeoutMs: 30000, what: 'victim running with its secret' });
  const victimDir = victim.nodeInfo.taskRootDirectory;

  const scanDirs = [sched.dataDir, ...agents.map((a) => a.stateDir)].join(' ');
  const spy = [
    'for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr "\\0" "\\n" < "$f" 2>/dev/null; echo; done > proc.txt',
    'env > env.txt',
    'for d in $SCAN_DIRS; do',
    '  find "$d" -path "$AZ_BATCH_TASK_DIR" -prune -o -type f -readable -size -4096k -print 2>/dev/null',
    'done > readable.txt',
    'while read -r f; do cat "$f" 2>/dev/null; done < readable.txt > files.txt',
    'for f in wd/secret.txt stdout.txt; do',
    '  if cat "$AZ_BATCH_NODE_ROOT_DIR/$VICTIM_DIR/$f" > /dev/null 2>&1; then echo "read $f"; else echo "denied $f"; fi',
    'done > victim.txt',
    'ls "$AZ_BATCH_NODE_ROOT_DIR/$VICTIM_DIR/wd" > /dev/null 2>&1 && echo "listed wd" >> victim.txt',
    'id -u',
  ].join('\n');
  await client.job.add({ id: 'spies', poolInfo: { poolId: 'A' } });
  await client.task.add('spies', {
    id: 'spy', userIdentity: TASK_SCOPE, commandLine: '/bin/sh -c \'eval "$SPY"\'',
    environmentSettings: [{ name: 'SPY', value: spy }, { name: 'SCAN_DIRS', value: scanDirs },
      { name: 'VICTIM_DIR', value: victimDir }, { name: 'SPY_MARKER', value: 'spy-was-here' }],
  });
  const done = await waitForTask(client, 'spies', 'spy', { timeoutMs: 60000 });
  assert.equal(done.executionInfo.exitCode, 0, JSON.stringify(done.executionInfo));
  const read = async (name) => taskFileText(client, 'spies', 'spy', `wd/${name}`);
  const proc = await read('proc.txt');
  const env = await read('env.txt');
  const files = await read('files.txt');
  const uid = (await taskFileText(client, 'spies', 'spy', 'stdout.txt')).trim();
  assert.notEqual(uid, '0', 'the spy runs as a nonadmin user');
  // The scans worked: the spy saw its own environment and every process's command line.
  assert.ok(proc.includes('SPY_MARKER=spy-was-here'), 'the spy read its own /proc/PID/environ');
  assert.ok(proc.includes('openbatch-agent'), 'the spy read the agents\' command lines');

  const secrets = [
    ...agents.map((a) => [`node token of ${a.poolId}`, a.nodeToken]),
    ['join token of A', joinTokenA],
    ['account key', sched.key],
  ];
  for (const [what, value] of secrets) {
    assert.ok(value && value.length >= 16, `${what} is known to the test`);
    assert.ok(!env.includes(value), `the task's environment holds the ${what}`);
    if (what === 'account key') continue;  // the scheduler's command line: see secrets tests
    assert.ok(!proc.includes(value), `/proc/*/environ or /proc/*/cmdline shows the ${what}`);
    assert.ok(!files.includes(value), `a file the task can read holds the ${what}`);
  }
  assert.equal(env.split('\n').filter((l) => l.startsWith('OPENBATCH_')).join('\n'), '',
    'the agent passes OPENBATCH_* variables to a plain task');
  // mpi-sleeper's instance runs as another user: its rsh token is not readable.
  assert.ok(!/^OPENBATCH_RSH_TOKEN=/m.test(proc), 'the spy read another task\'s rsh token');
  assert.deepEqual((await read('victim.txt')).trim().split('\n'), ['denied wd/secret.txt', 'denied stdout.txt']);
  assert.ok(!files.includes(secret) && !proc.includes(secret), 'the victim\'s secret leaked');
  await client.task.terminate('victims', 'victim');
});
