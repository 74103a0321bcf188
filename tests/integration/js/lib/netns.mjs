// The namespace test bed (tests/netns/testbed.sh) for the Node integration tests: K "hosts" on
// this machine, each its own network and UTS namespace (hostname NAME-node-i, 10.x.y.(10+i) on
// eth0), all on one bridge, with the root namespace -- where the scheduler runs -- reachable at
// 10.x.y.1. Needs root; `testbedAvailable()` says why not. Every bed created here is torn down
// by `teardown()`, and, failing that, when this process exits.
//
//   const bed = await createTestbed(3);
//   const { stdout } = await bed.execIn(1, ['hostname']);            // '<name>-node-1\n'
//   const run = await directMpirun(bed, { np: 3, program: '.../mpi_hello' });
//   await bed.teardown();

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { Agent, REPO_DIR, removeDir, tempDir } from './harness.mjs';

export const TESTBED_SH = path.join(REPO_DIR, 'tests/netns/testbed.sh');

const liveBeds = new Set();  // state dirs of beds not torn down yet
process.on('exit', () => {
  for (const stateDir of liveBeds) {
    spawnSync(TESTBED_SH, ['down', stateDir], { stdio: 'ignore' });
  }
});

// Runs argv[0] with argv[1..]; resolves {code, signal, stdout, stderr} (never rejects on a
// nonzero exit; rejects when it cannot be started).
function collect(argv, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

// {ok: true} when network namespaces can be made here (root, iproute2, util-linux), else
// {ok: false, reason}.
export async function testbedAvailable() {
  let res;
  try {
    res = await collect([TESTBED_SH, 'check']);
  } catch (err) {
    return { ok: false, reason: `cannot run ${TESTBED_SH}: ${err.message}` };
  }
  if (res.code === 0) return { ok: true };
  const line = `${res.stdout}${res.stderr}`.trim().split('\n').pop() ?? '';
  return { ok: false, reason: line.replace(/^SKIP: /, '') || `testbed.sh check exited ${res.code}` };
}

// A bed name unique to this call: the host-side interface is NAME + 'h0', so it stays <= 13
// characters. Subnets are picked by testbed.sh under a machine-wide lock.
let beds = 0;
function uniqueName() {
  const pid = (process.pid % 46656).toString(36);  // <= 3 characters
  const count = (beds++ % 1296).toString(36);  // <= 2
  return `ob${pid}${count}${randomBytes(3).toString('hex').slice(0, 5)}`;  // <= 12
}

// The nsenter argv that runs `argv` in node `holderPid`'s network and UTS namespaces. nsenter
// execs in place (no new PID namespace), so the spawned child's pid is the command's.
function nsenterArgv(holderPid, argv) {
  return ['nsenter', '-t', String(holderPid), '-n', '-u', '--', ...argv];
}

// Brings up a bed of `nodes` hosts. `name` ([a-z][a-z0-9]{0,23}) is generated when absent.
export async function createTestbed(nodes, { name, stateDir } = {}) {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 200) {
    throw new Error(`createTestbed: nodes must be 1..200, got ${nodes}`);
  }
  let up;
  let dir;
  for (let attempt = 0; attempt < 3; attempt++) {
    const bedName = name ?? uniqueName();
    dir = stateDir ?? tempDir(`testbed-${bedName}`);
    up = await collect([TESTBED_SH, 'up', bedName, String(nodes), dir]);
    if (up.code === 0) break;
    if (!stateDir) removeDir(dir);
    // A generated name that someone else holds: try another one.
    if (name || !/already exists/.test(up.stderr)) break;
  }
  if (up.code !== 0) {
    throw new Error(`testbed.sh up failed (${up.code}): ${up.stderr.trim()}`);
  }
  liveBeds.add(dir);
  const state = JSON.parse(readFileSync(path.join(dir, 'testbed.json'), 'utf8'));
  const bed = {
    name: state.name,
    stateDir: state.stateDir,
    subnet: state.subnet,
    hostAddress: state.hostAddress,
    hostLink: state.hostLink,
    nodes: state.nodes.map(({ index, namespace, hostname, ip, holderPid }) =>
      ({ index, namespace, hostname, ip, holderPid })),
    // For a direct mpirun: OMPI_MCA_plm_rsh_agent = rshAgent, with rshEnv in the environment.
    // (OpenMPI splits the agent on spaces: the repository path must not contain any.)
    rshAgent: `${TESTBED_SH} rsh`,
    rshEnv: { OPENBATCH_TESTBED_STATE: state.stateDir },

    node(i) {
      const n = this.nodes[i];
      if (!n) throw new Error(`test bed ${this.name} has no node ${i}`);
      return n;
    },

    // child_process.spawn of argv in node i (options as spawn's).
    spawnIn(i, argv, options = {}) {
      const full = nsenterArgv(this.node(i).holderPid, argv);
      return spawn(full[0], full.slice(1), options);
    },

    // Runs argv in node i; resolves {code, signal, stdout, stderr}.
    execIn(i, argv, options = {}) {
      return collect(nsenterArgv(this.node(i).holderPid, argv), options);
    },

    // Kills everything in the bed's namespaces and removes them; safe to call twice.
    async teardown() {
      if (!liveBeds.has(dir)) return;
      const res = await collect([TESTBED_SH, 'down', dir]);
      liveBeds.delete(dir);
      removeDir(dir);
      if (res.code !== 0) throw new Error(`testbed.sh down failed (${res.code}): ${res.stderr.trim()}`);
    },
  };
  return bed;
}

// The environment of a direct mpirun across `testbed` (see tests/netns/testbed.sh): run as
// root, daemons started through the bed's rsh, TCP on the bed's subnet. mpi_yield_when_idle:
// with busy-polling ranks on a machine with few cores the veths' softirq work is starved and
// every message waits for a scheduler tick (~4 ms); yielding ranks avoid that.
export function directMpirunEnv(testbed, env = {}) {
  return {
    ...process.env,
    ...testbed.rshEnv,
    OMPI_ALLOW_RUN_AS_ROOT: '1',
    OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1',
    OMPI_MCA_plm_rsh_agent: testbed.rshAgent,
    OMPI_MCA_pml: 'ob1',
    OMPI_MCA_btl: 'self,vader,tcp',
    OMPI_MCA_btl_tcp_if_include: testbed.subnet,
    OMPI_MCA_oob_tcp_if_include: testbed.subnet,
    OMPI_MCA_mpi_yield_when_idle: '1',
    ...env,
  };
}

// Runs `mpirun -np NP -host HOSTS --map-by node PROGRAM ARGS...` from node 0 across the bed
// (no OpenBatch). `hosts`: node indices or addresses ("ip" or "ip:slots"); by default the first
// `np` nodes, one slot each. `env` is added to (and overrides) directMpirunEnv's. Resolves
// {code, signal, stdout, stderr, ms} (ms: wall time from spawn to exit).
export async function directMpirun(testbed, { np, hosts, program, args = [], env = {},
  mpirunArgs = [], timeoutMs = 120000 } = {}) {
  if (!program) throw new Error('directMpirun: program is required');
  np ??= hosts?.length ?? testbed.nodes.length;
  hosts ??= testbed.nodes.slice(0, np).map((n) => n.ip);
  const hostList = hosts.map((h) => (typeof h === 'number' ? testbed.node(h).ip : String(h)));
  const argv = ['mpirun', '-np', String(np), '-host', hostList.join(','), '--map-by', 'node',
    ...mpirunArgs, program, ...args];
  const started = performance.now();
  const child = testbed.spawnIn(0, argv, {
    env: directMpirunEnv(testbed, env), stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => { stdout += c; });
  child.stderr.on('data', (c) => { stderr += c; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const { code, signal } = await new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c, s) => resolve({ code: c, signal: s }));
    });
    return { code, signal, stdout, stderr, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

// `url` (e.g. a scheduler's http://0.0.0.0:PORT) with its host replaced by the bed's host
// address, so that the nodes can reach it.
export function schedulerUrlFor(testbed, url) {
  const u = new URL(url);
  u.hostname = testbed.hostAddress;
  return u.href.replace(/\/$/, '');
}

// An openbatch-agent running in node i, with the surface of harness.mjs's Agent (child,
// output, exit, exited, nodeId(), kill()). The scheduler must listen where the nodes reach it
// (startScheduler({listen: '0.0.0.0:0'}), or testbed.hostAddress); `schedulerUrl`'s host is
// replaced by testbed.hostAddress.
export class NamespacedAgent extends Agent {
  constructor(testbed, i, options) {
    super({ ...options, schedulerUrl: schedulerUrlFor(testbed, options.schedulerUrl),
      spawnWith: (argv, spawnOptions) => testbed.spawnIn(i, argv, spawnOptions) });
    Object.assign(this, { testbed, index: i });
  }
}

export function startAgentInNamespace(testbed, i, options) {
  return new NamespacedAgent(testbed, i, options);
}
