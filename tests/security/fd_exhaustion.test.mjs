// An API client that opens far more connections than the scheduler has fds: 1,000 idle TCP
// connections against a scheduler limited to 128 fds (RLIMIT_NOFILE). The scheduler must not
// spin on accept() failing with EMFILE, nor log a line per failure; it keeps under 5% of a
// core, answers new signed requests (200, or 503 ServerBusy in Azure's shape, never a hang or a
// reset), keeps its agents' links (a node stays idle and a new pool's agent still joins), and
// works normally once the idle connections are gone.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, test } from 'node:test';

import { cpuPool, rawRequest, sleep, startScheduler, until } from '../integration/js/lib/harness.mjs';

const FD_LIMIT = 128;
const IDLE_CONNECTIONS = 1000;
const WINDOW_MS = 5000;
const MAX_CPU_SHARE = 0.05;
const MAX_LOG_LINES = 50;

function skip(reason) {
  console.log(`SKIPPED: ${reason}`);
  process.exit(77);
}

// This process needs an fd per idle connection: raise its own soft limit (up to the hard one).
function raiseOwnFdLimit(wanted) {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const [soft, hard] = line.trim().split(/\s+/).slice(3, 5).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  if (soft >= wanted) return;
  if (hard < wanted) skip(`this process may open ${hard} fds; ${wanted} are needed`);
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${wanted}:${hard === Infinity ? 'unlimited' : hard}`]);
}

if (!existsSync('/usr/bin/prlimit') && !existsSync('/bin/prlimit')) skip('prlimit (util-linux) is not installed');
raiseOwnFdLimit(IDLE_CONNECTIONS + 512);

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

// utime + stime of a process, in seconds (/proc/PID/stat fields 14 and 15).
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

let sched;
let lines = 0;  // lines the scheduler has written (stdout and stderr) since the test began
const idle = [];

before(async () => {
  sched = await startScheduler({ launcher: ['prlimit', `--nofile=${FD_LIMIT}:${FD_LIMIT}`, '--'] });
  const limits = readFileSync(`/proc/${sched.child.pid}/limits`, 'utf8');
  assert.match(limits, new RegExp(`Max open files\\s+${FD_LIMIT}\\s+${FD_LIMIT}`), 'the scheduler runs under the fd limit');
  const count = (chunk) => { lines += chunk.toString().split('\n').length - 1; };
  sched.child.stdout.on('data', count);
  sched.child.stderr.on('data', count);
});

after(async () => {
  for (const socket of idle) socket.destroy();
  if (sched) {
    const status = await sched.stop().catch((e) => e);
    if (status instanceof Error) console.error(status.message);
  }
});

// A signed request that must be answered: 200, or 503 ServerBusy in Azure's error shape.
async function answered(what) {
  let res;
  try {
    res = await rawRequest(sched, { path: '/pools', timeoutMs: 4000 });
  } catch (err) {
    return `${what}: no answer (${err.message})`;
  }
  if (res.status === 200) return 'ok';
  if (res.status === 503 && res.json?.code === 'ServerBusy' && res.json?.message?.value) return 'busy';
  return `${what}: ${res.status} ${res.text.slice(0, 200)}`;
}

async function nodeStates(poolId) {
  const res = await rawRequest(sched, { path: `/pools/${poolId}/nodes`, timeoutMs: 4000 });
  assert.equal(res.status, 200, res.text);
  return res.json.value.map((n) => n.state);
}

async function poolWithIdleNode(poolId) {
  const add = await rawRequest(sched, { method: 'POST', path: '/pools', body: cpuPool(poolId, { nodes: 1, slots: 1 }) });
  assert.equal(add.status, 201, add.text);
  await until(async () => {
    const states = await nodeStates(poolId);
    return states.length === 1 && states[0] === 'idle';
  }, { timeoutMs: 30000, intervalMs: 250, what: `the node of ${poolId} idle` });
}

test('1,000 idle connections at a 128-fd limit: little CPU, bounded log, requests answered', { timeout: 120000 }, async () => {
  await poolWithIdleNode('before');
  const fdsBefore = readdirSync(`/proc/${sched.child.pid}/fd`).length;
  const linesBefore = lines;

  const { hostname, port } = new URL(sched.url);
  let refused = 0;
  await Promise.all(Array.from({ length: IDLE_CONNECTIONS }, () => new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.on('connect', resolve);
    socket.on('error', () => { refused++; resolve(); });
    socket.setNoDelay(true);
    idle.push(socket);
  })));
  assert.ok(refused < IDLE_CONNECTIONS / 10, `${refused} of ${IDLE_CONNECTIONS} connections failed to open`);
  await sleep(1000);  // let the scheduler take in the whole backlog

  const cpuStart = cpuSeconds(sched.child.pid);
  const started = Date.now();
  const outcomes = [];
  while (Date.now() - started < WINDOW_MS) {
    outcomes.push(await answered(`request ${outcomes.length}`));
    await sleep(200);
  }
  const elapsed = (Date.now() - started) / 1000;
  const cpu = cpuSeconds(sched.child.pid) - cpuStart;
  const logged = lines - linesBefore;
  const failures = outcomes.filter((o) => o !== 'ok' && o !== 'busy');
  console.log(`scheduler: ${cpu.toFixed(2)} CPU-s in ${elapsed.toFixed(1)} s; ${logged} log lines; ` +
    `${outcomes.filter((o) => o === 'ok').length} answered 200, ${outcomes.filter((o) => o === 'busy').length} 503; ` +
    `${fdsBefore} fds open before the flood`);
  assert.deepEqual(failures, [], 'every new request is answered (200 or 503 ServerBusy)');
  assert.ok(outcomes.includes('ok'), 'some requests are served while the idle connections are held');
  assert.ok(cpu < MAX_CPU_SHARE * elapsed, `scheduler used ${cpu.toFixed(2)} CPU-s in ${elapsed.toFixed(1)} s`);
  assert.ok(logged < MAX_LOG_LINES, `scheduler logged ${logged} lines:\n${sched.output.slice(-4000)}`);

  // Agents are not starved: the existing node keeps its link, and a new agent still joins.
  assert.deepEqual(await nodeStates('before'), ['idle']);
  await poolWithIdleNode('during');

  for (const socket of idle) socket.destroy();
  idle.length = 0;
  await sleep(500);
  for (let i = 0; i < 5; ++i) assert.equal(await answered(`after ${i}`), 'ok');
  await poolWithIdleNode('after');
  assert.ok(!sched.exited, 'the scheduler is still running');
});

test('every connection busy at the cap: a new one gets 503 ServerBusy, then service resumes', { timeout: 60000 }, async () => {
  const small = await startScheduler({ extraArgs: ['--max-connections', '4', '--body-timeout-seconds', '3'] });
  const busy = [];
  try {
    const { hostname, port } = new URL(small.url);
    // Four requests whose bodies never come: each holds its connection busy until the deadline.
    for (let i = 0; i < 4; ++i) {
      const socket = net.connect({ host: hostname, port: Number(port) });
      socket.on('error', () => {});
      await new Promise((resolve) => socket.on('connect', resolve));
      socket.write('POST /pools HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{');
      busy.push(socket);
    }
    await sleep(300);
    const res = await rawRequest(small, { path: '/pools', timeoutMs: 4000 });
    assert.equal(res.status, 503, res.text);
    assert.equal(res.json?.code, 'ServerBusy');
    assert.match(res.json?.message?.value ?? '', /RequestId:/);
    // The stalled requests get their 408 and go: the server answers again.
    await until(async () => (await rawRequest(small, { path: '/pools', timeoutMs: 4000 })).status === 200,
      { timeoutMs: 10000, intervalMs: 250, what: 'a 200 once the stalled requests are gone' });
  } finally {
    for (const socket of busy) socket.destroy();
    await small.stop();
  }
});

test('a cap above the fd limit: accept() failing with EMFILE backs off, logs a line per interval', { timeout: 60000 }, async () => {
  const over = await startScheduler({ launcher: ['prlimit', `--nofile=${FD_LIMIT}:${FD_LIMIT}`, '--'],
    extraArgs: ['--max-connections', String(IDLE_CONNECTIONS)] });
  let overLines = 0;
  const count = (chunk) => { overLines += chunk.toString().split('\n').length - 1; };
  over.child.stdout.on('data', count);
  over.child.stderr.on('data', count);
  const sockets = [];
  try {
    const { hostname, port } = new URL(over.url);
    await Promise.all(Array.from({ length: IDLE_CONNECTIONS }, () => new Promise((resolve) => {
      const socket = net.connect({ host: hostname, port: Number(port) });
      socket.on('connect', resolve);
      socket.on('error', resolve);
      sockets.push(socket);
    })));
    await sleep(500);
    const linesStart = overLines;
    const cpuStart = cpuSeconds(over.child.pid);
    const started = Date.now();
    await sleep(WINDOW_MS);
    const elapsed = (Date.now() - started) / 1000;
    const cpu = cpuSeconds(over.child.pid) - cpuStart;
    console.log(`over the fd limit: ${cpu.toFixed(2)} CPU-s in ${elapsed.toFixed(1)} s; ${overLines - linesStart} log lines`);
    assert.match(over.output, /accept failed: Too many open files/, 'the fd table did fill');
    assert.ok(cpu < MAX_CPU_SHARE * elapsed, `scheduler used ${cpu.toFixed(2)} CPU-s in ${elapsed.toFixed(1)} s`);
    assert.ok(overLines - linesStart < MAX_LOG_LINES, `scheduler logged ${overLines - linesStart} lines`);
    for (const socket of sockets) socket.destroy();
    await until(async () => (await rawRequest(over, { path: '/pools', timeoutMs: 4000 }).catch(() => ({}))).status === 200,
      { timeoutMs: 20000, intervalMs: 250, what: 'a 200 once the connections are gone' });
  } finally {
    for (const socket of sockets) socket.destroy();
    await over.stop();
  }
});
