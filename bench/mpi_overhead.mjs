#!/usr/bin/env node
// mpi_overhead.mjs: what OpenBatch adds to a 2-node MPI hello. On a 2-node network-namespace
// test bed (tests/netns/testbed.sh: each node its own network and hostname, traffic over veths)
// it times, alternately, in one sitting:
//   direct     mpirun -np 2 -host ip0,ip1 mpi_hello, run in node 0, remote daemon through the
//              test bed's nsenter "rsh" (the floor: no scheduler at all)
//   openbatch  a multi-instance task (2 instances, coordination /bin/true, the same mpirun as
//              its application command; the remote daemon starts through openbatch-agent rsh
//              and the peer agent), from POST .../tasks to the task read back completed
//              (polled every POLL_MS)
// and prints each run, the medians and their ratio. Both use the same MCA settings (ob1/tcp on
// the bed's subnet, yield when idle). Needs root, iproute2, built binaries and mpi_hello.
//
// Usage: node bench/mpi_overhead.mjs [BUILD_DIR]   (default: build)
// Knobs (environment): RUNS=20 WARMUP=2 POLL_MS=5
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const build = path.resolve(process.argv[2] ?? path.join(repo, 'build'));
process.env.OPENBATCH_SCHEDULER ??= path.join(build, 'scheduler/openbatch-scheduler');
process.env.OPENBATCH_AGENT ??= path.join(build, 'node_agent/openbatch-agent');
const { cpuPool, rawRequest, removeDir, sleep, startScheduler, tempDir, until } =
  await import('../tests/integration/js/lib/harness.mjs');
const { createTestbed, directMpirun, startAgentInNamespace, testbedAvailable } =
  await import('../tests/integration/js/lib/netns.mjs');

const RUNS = Number(process.env.RUNS ?? 20);
const WARMUP = Number(process.env.WARMUP ?? 2);
const POLL_MS = Number(process.env.POLL_MS ?? 5);
const HELLO = path.join(build, 'mpi_examples/mpi_hello');
const MCA = { OMPI_MCA_mpi_yield_when_idle: '1' };

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const available = await testbedAvailable();
if (!available.ok) {
  console.log(`SKIP: ${available.reason}`);
  process.exit(77);
}
for (const file of [process.env.OPENBATCH_SCHEDULER, process.env.OPENBATCH_AGENT, HELLO]) {
  if (!existsSync(file)) throw new Error(`not built: ${file}`);
}

const testbed = await createTestbed(2);
const work = tempDir('mpi-bench');
chmodSync(work, 0o755);  // the task user walks down to its task directories
const agents = [];
let sched;
try {
  sched = await startScheduler({ listen: '0.0.0.0:0', extraArgs: ['--provisioner', 'static', '--log-level', 'warn'] });
  const pool = { ...cpuPool('mpi', { nodes: 2, slots: 1, provisioner: 'static' }), enableInterNodeCommunication: true };
  let res = await rawRequest(sched, { method: 'POST', path: '/pools', body: pool });
  if (res.status !== 201) throw new Error(`pool: ${res.status} ${res.text}`);
  res = await rawRequest(sched, { method: 'POST', path: '/pools/mpi/jointoken' });
  const tokenFile = path.join(work, 'token');
  writeFileSync(tokenFile, res.json.joinToken, { mode: 0o600 });
  for (let i = 0; i < 2; i++) {
    agents.push(startAgentInNamespace(testbed, i, {
      schedulerUrl: sched.url, poolId: 'mpi', tokenFile, extraArgs: ['--log-level', 'warn'],
      root: path.join(work, `n${i}`, 'root'), stateDir: path.join(work, `n${i}`, 'state'),
    }));
  }
  await until(async () => {
    const r = await rawRequest(sched, { path: '/pools/mpi/nodes' });
    return r.json?.value?.length === 2 && r.json.value.every((n) => n.state === 'idle') ? true : undefined;
  }, { timeoutMs: 30000, what: 'two idle nodes' });
  res = await rawRequest(sched, { method: 'POST', path: '/jobs', body: { id: 'bench', poolInfo: { poolId: 'mpi' } } });
  if (res.status !== 201) throw new Error(`job: ${res.status} ${res.text}`);

  const direct = async () => {
    const r = await directMpirun(testbed, { np: 2, program: HELLO, env: MCA });
    if (r.code !== 0 || (r.stdout.match(/^hello from rank/gm) ?? []).length !== 2) {
      throw new Error(`direct mpirun failed (${r.code}): ${r.stdout}\n${r.stderr}`);
    }
    return r.ms;
  };
  let n = 0;
  const openbatch = async () => {
    const id = `hello-${++n}`;
    const task = {
      id,
      commandLine: `/bin/sh -c 'mpirun -np 2 --map-by node -host $AZ_BATCH_HOST_LIST ${HELLO}'`,
      environmentSettings: Object.entries(MCA).map(([name, value]) => ({ name, value })),
      multiInstanceSettings: { numberOfInstances: 2, coordinationCommandLine: '/bin/true' },
    };
    const started = performance.now();
    const add = await rawRequest(sched, { method: 'POST', path: '/jobs/bench/tasks', body: task });
    if (add.status !== 201) throw new Error(`task add: ${add.status} ${add.text}`);
    for (;;) {
      const r = await rawRequest(sched, { path: `/jobs/bench/tasks/${id}`, query: { $select: 'state,executionInfo' } });
      if (r.json?.state === 'completed') {
        const ms = performance.now() - started;
        if (r.json.executionInfo?.exitCode !== 0) throw new Error(`task ${id}: ${JSON.stringify(r.json.executionInfo)}`);
        // Both instances leave their nodes before the next run (the subtask ends after the task).
        await until(async () => {
          const nodes = await rawRequest(sched, { path: '/pools/mpi/nodes' });
          return nodes.json.value.every((node) => node.state === 'idle') ? true : undefined;
        }, { timeoutMs: 10000, intervalMs: 5, what: 'idle nodes' });
        return ms;
      }
      await sleep(POLL_MS);
    }
  };

  for (let i = 0; i < WARMUP; i++) {
    await direct();
    await openbatch();
  }
  const times = { direct: [], openbatch: [] };
  console.log(' run   direct ms  openbatch ms');
  for (let i = 0; i < RUNS; i++) {
    // Alternate which goes first, so that drift on this noisy machine hits both alike.
    const order = i % 2 ? ['openbatch', 'direct'] : ['direct', 'openbatch'];
    for (const which of order) times[which].push(which === 'direct' ? await direct() : await openbatch());
    console.log(`${String(i + 1).padStart(4)} ${times.direct[i].toFixed(1).padStart(11)} ${times.openbatch[i].toFixed(1).padStart(13)}`);
  }
  const d = median(times.direct);
  const o = median(times.openbatch);
  console.log(`\nmedian of ${RUNS}: direct mpirun ${d.toFixed(1)} ms, OpenBatch multi-instance task ${o.toFixed(1)} ms ` +
    `(submit -> completed, polled every ${POLL_MS} ms)`);
  console.log(`ratio OpenBatch / direct: ${(o / d).toFixed(2)}x  (target <= 1.2x; Slurm here: srun --mpi=pmix 1.4x, sbatch + mpirun 3.2x)`);
  console.log(`overhead: ${(o - d).toFixed(1)} ms per task`);
  console.log(`command: node bench/mpi_overhead.mjs ${path.relative(repo, build) || '.'}  (RUNS=${RUNS} WARMUP=${WARMUP} POLL_MS=${POLL_MS})`);
} finally {
  for (const a of agents) await a.kill('SIGKILL');
  if (sched) await sched.stop().catch(() => {});
  if (sched) removeDir(sched.dataDir);
  await testbed.teardown();
  removeDir(work);
}
