// A per-task output cap (issue finding 5, "a configurable per-task output cap"): a nonadmin
// task that writes more than the node's cap to stdout.txt or stderr.txt is stopped and fails
// with a clear failureInfo (usererror TaskOutputLimitExceeded, naming the file, the cap and
// the agent option that sets it), and the file stops at the cap instead of filling the disk.
// A task within the cap is untouched.

import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { after, before, test } from 'node:test';

import {
  cpuPool, rawRequest, removeDir, sdkClientFor, startScheduler, tempDir, waitForNodes, waitForTask,
} from '../integration/js/lib/harness.mjs';

const POOL = 'cap-pool';
const JOB = 'cap-job';
const CAP = 1048576;
const NONADMIN = { autoUser: { scope: 'task', elevationLevel: 'nonadmin' } };

let sched;
let client;

before(async () => {
  const dataDir = tempDir('cap');
  chmodSync(dataDir, 0o755);
  sched = await startScheduler({
    dataDir,
    extraArgs: ['--heartbeat-seconds', '1', '--agent-arg=--max-task-output', `--agent-arg=${CAP}`],
  });
  client = await sdkClientFor(sched);
  await client.pool.add(cpuPool(POOL, { nodes: 1, slots: 4 }));
  await waitForNodes(client, POOL, 1);
  await client.job.add({ id: JOB, poolInfo: { poolId: POOL } });
});

after(async () => {
  if (sched) await sched.stop().catch((e) => console.error(e.message));
  if (sched) removeDir(sched.dataDir);
});

async function fileLength(taskId, name) {
  const res = await rawRequest(sched, { method: 'HEAD', path: `/jobs/${JOB}/tasks/${taskId}/files/${name}` });
  assert.equal(res.status, 200, `${name} of ${taskId}: ${res.status}`);
  return Number(res.headers['content-length']);
}

for (const [file, redirect] of [['stdout.txt', ''], ['stderr.txt', ' >&2']]) {
  test(`a nonadmin task writing past the cap to ${file} fails and its file stops at the cap`, { timeout: 60000 }, async () => {
    const id = `flood-${file.replace('.txt', '')}`;
    // 8 times the cap, then a long sleep: only the cap can end it early.
    await client.task.add(JOB, {
      id, commandLine: `/bin/sh -c 'head -c ${8 * CAP} /dev/zero${redirect}; sleep 60'`, userIdentity: NONADMIN,
    });
    const task = await waitForTask(client, JOB, id, { timeoutMs: 30000 });
    const info = task.executionInfo;
    assert.equal(info.result, 'failure', JSON.stringify(info));
    assert.equal(info.failureInfo?.category, 'usererror');
    assert.equal(info.failureInfo?.code, 'TaskOutputLimitExceeded');
    for (const words of [file, String(CAP), '--max-task-output']) {
      assert.ok(info.failureInfo.message.includes(words), `"${words}" in: ${info.failureInfo.message}`);
    }
    assert.equal(info.retryCount, 0);
    assert.equal(await fileLength(id, file), CAP);
  });
}

test('a task within the cap is untouched', { timeout: 60000 }, async () => {
  await client.task.add(JOB, {
    id: 'modest', commandLine: `/bin/sh -c 'head -c ${CAP} /dev/zero; echo fine >&2'`, userIdentity: NONADMIN,
  });
  const task = await waitForTask(client, JOB, 'modest', { timeoutMs: 30000 });
  assert.equal(task.executionInfo.result, 'success', JSON.stringify(task.executionInfo));
  assert.equal(await fileLength('modest', 'stdout.txt'), CAP);
  assert.equal(await fileLength('modest', 'stderr.txt'), 5);
});
