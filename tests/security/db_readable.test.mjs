// Attack: a nonadmin task of one job reads another job's commonEnvironmentSettings secret
// from the scheduler's database (openbatch.db, its -wal and -shm), an application package
// blob, or account.key (issue 10, finding 3: they were 0644 in a 0755 data directory). The
// data directory must be 0700 and everything in it 0600, so nothing of it is readable or even
// findable by a task, whatever mode the directory had before the scheduler started.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';

import { rawRequest, sdkClientFor, startScheduler, tempDir, waitForTask } from '../integration/js/lib/harness.mjs';
import {
  cleanup, literal, localPool, needsRoot, NONADMIN, nodesDirOf, scanAsNonadmin, writeScanScript,
} from './lib/secrets_cluster.mjs';

const TEST_TIMEOUT = 180000;
let sched;
let scan;

after(async () => {
  if (sched) {
    await sched.stop().catch((e) => console.error(e.message));
    cleanup(sched.dataDir);
  }
  if (scan) cleanup(scan.dir);
});

function mode(file) {
  return (statSync(file).mode & 0o7777).toString(8).padStart(4, '0');
}

test('a nonadmin task cannot read the database, its WAL, package blobs or account.key',
  { skip: needsRoot(), timeout: TEST_TIMEOUT }, async () => {
    const dataDir = tempDir('dbread');
    chmodSync(dataDir, 0o755);  // as operators had to make it: the scheduler must tighten it
    sched = await startScheduler({ dataDir, keyVia: 'generated', extraArgs: ['--heartbeat-seconds', '1'] });
    const client = await sdkClientFor(sched);
    await localPool(client, 'p');

    // Job A's secret, committed (the WAL holds it until a checkpoint, then the database).
    const secret = `job-a-secret-${randomBytes(12).toString('hex')}`;
    await client.job.add({ id: 'job-a', poolInfo: { poolId: 'p' },
      commonEnvironmentSettings: [{ name: 'DB_PASSWORD', value: secret }] });
    await client.task.add('job-a', { id: 'uses-it', commandLine: '/bin/sh -c "test -n \\"$DB_PASSWORD\\""',
      userIdentity: NONADMIN });
    assert.equal((await waitForTask(client, 'job-a', 'uses-it', { timeoutMs: 60000 })).executionInfo.result, 'success');

    // A package blob with a marker of its own.
    const marker = `blob-secret-${randomBytes(12).toString('hex')}`;
    const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.from(marker), randomBytes(64)]);
    const created = await rawRequest(sched, { method: 'PUT', path: '/applications/app', body: { displayName: 'app' } });
    assert.equal(created.status, 201, created.text);
    const uploaded = await rawRequest(sched, { method: 'PUT', path: '/applications/app/versions/1', body: zip,
      headers: { 'content-type': 'application/zip' } });
    assert.equal(uploaded.status, 201, uploaded.text);
    const blob = path.join(sched.dataDir, 'packages', createHash('sha256').update(zip).digest('hex'));
    assert.ok(existsSync(blob), `blob ${blob}`);

    // Job B's nonadmin task looks everywhere it can.
    await client.job.add({ id: 'job-b', poolInfo: { poolId: 'p' } });
    scan = writeScanScript();
    const db = path.join(sched.dataDir, 'openbatch.db');
    const named = [db, `${db}-wal`, `${db}-shm`, path.join(sched.dataDir, 'account.key'), blob];
    const out = await scanAsNonadmin(client, 'job-b', 'scan', scan.script,
      { dirs: [sched.dataDir, nodesDirOf(sched)], files: named });
    assert.match(out, new RegExp(`^(denied|read): ${literal(db)}$`, 'm'), 'the task tried the database by name');
    assert.ok(!out.includes(secret), "a task of job B read job A's secret");
    assert.ok(!out.includes(marker), 'a task read a package blob');
    assert.ok(!out.includes(sched.key), 'a task read account.key');
    for (const file of named) assert.match(out, new RegExp(`^denied: ${literal(file)}$`, 'm'), `${file} is denied`);

    assert.equal(mode(sched.dataDir), '0700', 'the data directory');
    for (const file of named) {
      if (existsSync(file)) assert.equal(mode(file), '0600', file);
    }
    assert.ok(existsSync(`${db}-wal`), 'the WAL exists (and was checked)');
  });
