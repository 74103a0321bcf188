// Hostile task: a nonadmin task replaces the entries of its task directory (stdout.txt,
// stderr.txt, wd) with symlinks to root-owned targets and fails, so that the agent (root)
// prepares its retry through them: truncating and chown-ing a root file to the task user
// would make that user root. The task directory belongs to the agent (0711), so the task can
// replace nothing there, and the agent opens output files without following links; the
// canaries keep their content, owner and mode, and the retry's own output still comes back.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  cpuPool, removeDir, sdkClientFor, startScheduler, taskFileText, tempDir, waitForNodes, waitForTask,
} from '../integration/js/lib/harness.mjs';

const TEST_TIMEOUT = 90000;
const POOL = 'sec-pool';
const JOB = 'sec-job';
const skip = process.getuid?.() !== 0 ? 'needs root: tasks run as unprivileged task users' : false;

let sched;
let client;
let canaries;  // root's: a file and a directory the task points its links at
let marks;     // where the first attempt leaves a mark for the retry (outside the node roots)

before(async () => {
  if (skip) return;
  const dataDir = tempDir('sec-stdout');
  chmodSync(dataDir, 0o755);  // task users must reach their node root
  sched = await startScheduler({ dataDir });
  client = await sdkClientFor(sched);
  canaries = tempDir('sec-canary');  // 0700 root: the task cannot even look inside
  writeFileSync(path.join(canaries, 'file'), 'canary\n', { mode: 0o644 });
  chmodSync(path.join(canaries, 'file'), 0o644);
  mkdirSync(path.join(canaries, 'dir'), { mode: 0o755 });
  chmodSync(path.join(canaries, 'dir'), 0o755);
  marks = tempDir('sec-marks');
  chmodSync(marks, 0o777);
  await client.pool.add(cpuPool(POOL, { nodes: 1, slots: 1 }));
  await waitForNodes(client, POOL, 1);
  await client.job.add({ id: JOB, poolInfo: { poolId: POOL } });
});

after(async () => {
  if (sched) {
    await sched.stop().catch((e) => console.error(e.message));
    removeDir(sched.dataDir);
  }
  removeDir(canaries);
  removeDir(marks);
});

function facts(p) {
  const st = statSync(p);
  return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
}

test('a task that links its output files and wd to root files gets nothing on its retry', { skip, timeout: TEST_TIMEOUT }, async () => {
  const file = path.join(canaries, 'file');
  const dir = path.join(canaries, 'dir');
  const before = { file: facts(file), dir: facts(dir) };
  const mark = path.join(marks, 'attack');
  // First attempt: every entry of the task directory it can reach goes, replaced by a link;
  // what worked is reported on stderr (which may itself be gone), then it fails. The retry
  // (maxTaskRetryCount 1) just prints.
  const script = [
    `if [ -e ${mark} ]; then echo retry-output; echo retry-error >&2; exit 0; fi`,
    `touch ${mark}`,
    'cd "$AZ_BATCH_TASK_DIR"',
    `for f in stdout.txt stderr.txt; do rm -f $f 2>/dev/null; ln -sT ${file} $f 2>/dev/null && echo linked $f >> ${mark}; done`,
    `mv wd wd.old 2>/dev/null; ln -sT ${dir} wd 2>/dev/null && echo linked wd >> ${mark}`,
    'exit 1',
  ].join('; ');
  await client.task.add(JOB, {
    id: 'links', commandLine: `/bin/sh -c '${script}'`,
    userIdentity: { autoUser: { scope: 'task', elevationLevel: 'nonadmin' } },
    constraints: { maxTaskRetryCount: 1 },
  });
  const task = await waitForTask(client, JOB, 'links');
  console.log(`first attempt: ${readFileSync(mark, 'utf8').trim() || 'replaced nothing'}`);

  // The root-owned targets are untouched: content, owner, mode.
  assert.equal(readFileSync(file, 'utf8'), 'canary\n', 'the agent wrote through the task\'s link');
  assert.deepEqual(facts(file), before.file, 'the agent changed the owner or mode of a root file');
  assert.deepEqual(facts(dir), before.dir, 'the agent changed the owner or mode of a root directory');

  // The retry ran and its output came back (or the task failed clearly, not silently).
  assert.equal(task.executionInfo.retryCount, 1, JSON.stringify(task.executionInfo));
  assert.equal(task.executionInfo.exitCode, 0, JSON.stringify(task.executionInfo));
  assert.equal(await taskFileText(client, JOB, 'links', 'stdout.txt'), 'retry-output\n');
  assert.equal(await taskFileText(client, JOB, 'links', 'stderr.txt'), 'retry-error\n');
});
