// A nonadmin task fills the disk the scheduler's database shares (a 20 MiB tmpfs holding the
// data directory and the local node roots). Asserts: the task fails with a DiskFull
// failureInfo (and completes: its report commits, the agent link does not flap); deletes
// succeed; new adds get 507 InsufficientDiskSpace saying disk space is low; a scheduler
// restarted on the full disk writes a whole ready file, never an empty one; once the task's
// output is deleted, space comes back and adds succeed again; and every acknowledged write is
// still there, also after another restart. Needs root (mount); skips (exit 77) otherwise.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';

import {
  AGENT_BIN, SCHEDULER_BIN, Scheduler, cpuPool, listAll, rawRequest, removeDir, sdkClientFor, sleep,
  startScheduler, tempDir, until, waitForNodes,
} from '../integration/js/lib/harness.mjs';

const POOL = 'disk-pool';
const JOB = 'disk-job';
const KEEP_JOB = 'disk-keep';
const DOOMED_JOB = 'disk-doomed';
const NONADMIN = { autoUser: { scope: 'task', elevationLevel: 'nonadmin' } };
const ARGS = ['--heartbeat-seconds', '1', '--agent-arg=--reconnect-min-ms', '--agent-arg=100',
  '--agent-arg=--reconnect-max-ms', '--agent-arg=500'];

// A 20 MiB tmpfs, or the reason there cannot be one.
function mountSmallFilesystem() {
  const dir = tempDir('diskfull');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=20m,mode=0755', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    removeDir(dir);
    return { reason: `cannot mount a tmpfs (${(r.stderr || r.error?.message || '').trim()}); needs root` };
  }
  return { dir };
}

const mounted = mountSmallFilesystem();
if (mounted.reason && process.env.OPENBATCH_SKIP_FILE) writeFileSync(process.env.OPENBATCH_SKIP_FILE, mounted.reason);
const mnt = mounted.dir;
const dataDir = mnt && path.join(mnt, 'data');
let sched;

after(async () => {
  if (sched) await sched.stop().catch((e) => console.error(e.message));
  if (mnt) {
    spawnSync('pkill', ['-KILL', '-f', `${dataDir}/[a]gents`]);
    await sleep(200);
    const r = spawnSync('umount', ['-l', mnt], { encoding: 'utf8' });
    if (r.status !== 0) console.error(`umount ${mnt}: ${r.stderr}`);
    removeDir(mnt);
  }
});

// Node roots must sit on the small filesystem too: beside the data dir when the scheduler
// takes --nodes-dir, inside it otherwise.
function nodesArgs() {
  const help = spawnSync(SCHEDULER_BIN, ['--help'], { encoding: 'utf8' }).stdout ?? '';
  return help.includes('--nodes-dir') ? ['--nodes-dir', path.join(mnt, 'nodes')] : [];
}

// Starts the scheduler on `dataDir` with its ready file on the small filesystem too, watching
// that file the whole time: it must never be seen empty or partial.
async function startOnSmallDisk(prev) {
  const readyFile = path.join(mnt, `ready-${Date.now()}.url`);
  const args = ['--listen', '127.0.0.1:0', '--data-dir', dataDir, '--account', prev.account,
    '--ready-file', readyFile, '--agent-binary', AGENT_BIN, ...ARGS, ...nodesArgs()];
  const child = spawn(SCHEDULER_BIN, args, {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENBATCH_ACCOUNT_KEY: prev.key },
  });
  const s = new Scheduler({ dataDir, account: prev.account, key: prev.key, child, readyFile });
  try {
    s.url = await until(() => {
      if (s.exited) throw new Error(`scheduler exited early (${JSON.stringify(s.exited)})`);
      if (!existsSync(readyFile)) return undefined;
      const text = readFileSync(readyFile, 'utf8');
      assert.match(text, /^http:\/\/127\.0\.0\.1:[1-9][0-9]*$/, `the ready file holds ${JSON.stringify(text)}`);
      return text;
    }, { intervalMs: 5, timeoutMs: 20000, what: `ready file ${readyFile}` });
  } catch (err) {
    await s.kill();
    throw new Error(`${err.message}\n${s.describe()}`);
  }
  return s;
}

function free() {
  const s = statfsSync(mnt);
  return s.bavail * s.bsize;
}

const addTask = (id) => rawRequest(sched, { method: 'POST', path: `/jobs/${JOB}/tasks`, body: { id, commandLine: '/bin/true' } });
const addJob = (id) => rawRequest(sched, { method: 'POST', path: '/jobs', body: { id, poolInfo: { poolId: POOL } } });

function assertLowDisk(res, what) {
  assert.equal(res.status, 507, `${what}: ${res.status} ${res.text}`);
  assert.equal(res.json?.code, 'InsufficientDiskSpace', `${what}: ${res.text}`);
  assert.match(res.json.message.value, /disk space/i, what);
}

test('a task that fills the disk fails with DiskFull; deletes work, adds get 507, space comes back, nothing acknowledged is lost',
  { skip: mounted.reason, timeout: 200000 }, async () => {
    mkdirSync(dataDir, { mode: 0o755 });
    sched = await startScheduler({ dataDir, extraArgs: [...ARGS, ...nodesArgs()] });
    let client = await sdkClientFor(sched, { noRetryPolicy: true });

    // Acknowledged writes: each id below got a success answer and must survive.
    await client.pool.add(cpuPool(POOL, { nodes: 1, slots: 2 }));
    await waitForNodes(client, POOL, 1);
    await client.job.add({ id: JOB, poolInfo: { poolId: POOL } });
    await client.job.add({ id: KEEP_JOB, poolInfo: { poolId: POOL } });
    await client.job.add({ id: DOOMED_JOB, poolInfo: { poolId: POOL } });
    const acked = [];
    for (let i = 0; i < 5; ++i) {
      await client.task.add(JOB, { id: `acked-${i}`, commandLine: '/bin/sh -c "echo hi"', userIdentity: NONADMIN });
      acked.push(`acked-${i}`);
    }
    await client.task.add(DOOMED_JOB, { id: 'doomed', commandLine: '/bin/true' });
    await until(async () => (await client.job.getTaskCounts(JOB)).taskCounts.completed === 5,
      { what: 'the acknowledged tasks done', timeoutMs: 30000 });

    // The attack: a nonadmin task writes stdout until the filesystem is full.
    await client.task.add(JOB, { id: 'filler', commandLine: '/bin/sh -c "head -c 40M /dev/zero"', userIdentity: NONADMIN });
    acked.push('filler');
    const filler = await until(async () => {
      const t = await client.task.get(JOB, 'filler');
      return t.state === 'completed' ? t : undefined;
    }, { what: 'the filling task completed', timeoutMs: 40000 });
    assert.equal(filler.executionInfo.result, 'failure');
    const failure = filler.executionInfo.failureInfo;
    assert.equal(failure?.code, 'DiskFull', JSON.stringify(filler.executionInfo));
    assert.equal(failure.category, 'usererror');
    assert.match(failure.message, /disk is full.*MiB free of/s);
    assert.ok(free() < 2 * 1024 * 1024, `the filesystem is full (${free()} bytes free)`);
    assert.doesNotMatch(sched.output, /could not be committed|could not record a report/,
      'the report committed without closing the agent link');

    // Adds are refused with the clear error; deletes go through.
    assertLowDisk(await addTask('refused-task'), 'task add on a full disk');
    assertLowDisk(await addJob('refused-job'), 'job add on a full disk');
    const del = await rawRequest(sched, { method: 'DELETE', path: `/jobs/${DOOMED_JOB}` });
    assert.equal(del.status, 202, `job delete on a full disk: ${del.status} ${del.text}`);
    await until(async () => (await rawRequest(sched, { path: `/jobs/${DOOMED_JOB}` })).status === 404,
      { what: 'the deleted job gone', timeoutMs: 20000 });

    // A restart on the full disk: the ready file is whole, the state is there, still low.
    await sched.stop();
    sched = await startOnSmallDisk(sched);
    client = await sdkClientFor(sched, { noRetryPolicy: true });
    await waitForNodes(client, POOL, 1, { timeoutMs: 30000 });
    assertLowDisk(await addTask('refused-again'), 'task add after a restart on a full disk');

    // Deleting the task's output (a file delete) gives the space back; adds work again.
    const delFile = await rawRequest(sched, { method: 'DELETE', path: `/jobs/${JOB}/tasks/filler/files/stdout.txt` });
    assert.ok(delFile.status >= 200 && delFile.status < 300, `file delete: ${delFile.status} ${delFile.text}`);
    assert.ok(free() > 10 * 1024 * 1024, `space came back (${free()} bytes free)`);
    const later = await until(async () => {
      const res = await addTask('after-space');
      return res.status === 201 ? res : (assertLowDisk(res, 'add while space comes back'), undefined);
    }, { what: 'adds accepted again', timeoutMs: 10000, intervalMs: 200 });
    assert.equal(later.status, 201);
    acked.push('after-space');
    assert.equal((await addJob('after-space-job')).status, 201);
    const delTask = await rawRequest(sched, { method: 'DELETE', path: `/jobs/${JOB}/tasks/filler` });
    assert.ok(delTask.status >= 200 && delTask.status < 300, `task delete: ${delTask.status} ${delTask.text}`);
    acked.splice(acked.indexOf('filler'), 1);

    // Every acknowledged write is there, also after another restart.
    for (const phase of ['before restart', 'after restart']) {
      if (phase === 'after restart') {
        await sched.stop();
        sched = await startOnSmallDisk(sched);
        client = await sdkClientFor(sched, { noRetryPolicy: true });
      }
      const { items } = await listAll(() => client.task.list(JOB), (link) => client.task.listNext(link));
      const ids = items.map((t) => t.id);
      assert.deepEqual(ids.sort(), [...acked].sort(), phase);
      for (const job of [JOB, KEEP_JOB, 'after-space-job']) assert.equal((await client.job.get(job)).id, job, phase);
      assert.equal((await client.pool.get(POOL)).id, POOL, phase);
    }
  });
