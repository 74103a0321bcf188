// A scheduler whose data directory is private (made by mkdtemp, 0700, as `mktemp -d` makes
// it) runs a job of nonadmin tasks: the local node roots live outside the data directory, in
// the nodes directory, reachable by task users (issue 10: they failed with
// `CommandLaunchFailed: chdir: Permission denied`, so operators made the data dir 0755).

import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';

import { sdkClientFor, startScheduler, taskFileText, tempDir, waitForTask } from '../integration/js/lib/harness.mjs';
import { cleanup, localPool, needsRoot, NONADMIN, nodesDirOf } from './lib/secrets_cluster.mjs';

const TEST_TIMEOUT = 120000;
let sched;

after(async () => {
  if (sched) {
    await sched.stop().catch((e) => console.error(e.message));
    cleanup(sched.dataDir);
  }
});

const mode = (p) => statSync(p).mode & 0o7777;

test('a mkdtemp (0700) data directory runs a job of nonadmin tasks to success',
  { skip: needsRoot(), timeout: TEST_TIMEOUT }, async () => {
    const dataDir = tempDir('mktemp');
    assert.equal(mode(dataDir), 0o700);
    sched = await startScheduler({ dataDir, extraArgs: ['--heartbeat-seconds', '1'] });
    const client = await sdkClientFor(sched);
    await localPool(client, 'p', { nodes: 1, slots: 3 });
    await client.job.add({ id: 'j', poolInfo: { poolId: 'p' } });
    const ids = ['t1', 't2', 't3'];
    for (const id of ids) {
      await client.task.add('j', { id, userIdentity: NONADMIN,
        commandLine: '/bin/sh -c "id -u; echo out > file.txt && cat file.txt && ls $AZ_BATCH_NODE_SHARED_DIR >/dev/null && echo ok"' });
    }
    for (const id of ids) {
      const task = await waitForTask(client, 'j', id, { timeoutMs: 60000 });
      assert.equal(task.executionInfo.result, 'success', `${id}: ${JSON.stringify(task.executionInfo)}`);
      const [uid, out, ok] = (await taskFileText(client, 'j', id, 'stdout.txt')).trim().split('\n');
      assert.notEqual(Number(uid), 0, 'a nonadmin task runs as another user');
      assert.deepEqual([out, ok], ['out', 'ok']);
    }
    assert.equal(mode(dataDir), 0o700, 'the data directory stays private');
    const nodes = nodesDirOf(sched);
    assert.ok(!path.resolve(nodes).startsWith(`${path.resolve(dataDir)}/`), `node roots ${nodes} are outside the data dir`);
    assert.equal(mode(nodes), 0o755);
  });
