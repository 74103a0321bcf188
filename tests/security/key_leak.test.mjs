// Attack: read the account key (or a node token) from where a nonadmin task can look: every
// /proc/*/cmdline and /proc/*/environ it may read, and every file it may read under the
// scheduler's data directory and the local node roots. With the key a task signs an admin
// task and is root (issue 10, finding 2: the key was on the scheduler's command line).
// Also: the scheduler refuses --key with the reason and the safe ways, and refuses a key file
// that others may read.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';

import {
  randomKey, sdkClientFor, SCHEDULER_BIN, startScheduler, tempDir,
} from '../integration/js/lib/harness.mjs';
import {
  cleanup, literal, localPool, needsRoot, nodesDirOf, scanAsNonadmin, writeScanScript,
} from './lib/secrets_cluster.mjs';

const TEST_TIMEOUT = 180000;
const skip = needsRoot();
const started = [];
let scan;

after(async () => {
  for (const sched of started) {
    await sched.stop().catch((e) => console.error(e.message));
    cleanup(sched.dataDir);
  }
  if (scan) cleanup(scan.dir);
});

// The node tokens of the scheduler's local agents (node.json in their state directories).
function nodeTokens(sched, poolId) {
  const dir = path.join(sched.dataDir, 'agents', poolId);
  return readdirSync(dir).map((node) => JSON.parse(readFileSync(path.join(dir, node, 'node.json'), 'utf8')).nodeToken);
}

async function scanCluster(keyVia) {
  // 0755 as the README once required for nonadmin tasks: the scheduler must not rely on it.
  const dataDir = tempDir('keyleak');
  chmodSync(dataDir, 0o755);
  const sched = await startScheduler({ dataDir, keyVia, extraArgs: ['--heartbeat-seconds', '1'] });
  started.push(sched);
  const client = await sdkClientFor(sched);
  await localPool(client, 'p', { nodes: 2 });
  await client.job.add({ id: 'j', poolInfo: { poolId: 'p' } });
  scan ??= writeScanScript();
  const out = await scanAsNonadmin(client, 'j', 'scan', scan.script, {
    dirs: [sched.dataDir, nodesDirOf(sched)],
    files: ['openbatch.db', 'openbatch.db-wal', 'account.key'].map((f) => path.join(sched.dataDir, f)),
  });
  // The scan did look: it read the scheduler's own command line.
  assert.match(out, new RegExp(`^/proc/${sched.child.pid}/cmdline: .*--data-dir ${literal(sched.dataDir)}`, 'm'),
    'the task read /proc/<scheduler>/cmdline');
  assert.ok(!out.includes(sched.key), 'a nonadmin task found the account key');
  const tokens = nodeTokens(sched, 'p');
  assert.equal(tokens.length, 2);
  for (const token of tokens) assert.ok(!out.includes(token), 'a nonadmin task found a node token');
}

test('a nonadmin task finds no key or token in argv, environ or files (key from a key file)',
  { skip, timeout: TEST_TIMEOUT }, async () => {
    await scanCluster('file');
  });

test('a nonadmin task finds no key or token in argv, environ or files (key from the environment)',
  { skip, timeout: TEST_TIMEOUT }, async () => {
    await scanCluster('env');
  });

test('the scheduler refuses --key, saying why and what to use instead', { timeout: TEST_TIMEOUT }, () => {
  const dataDir = tempDir('keyflag');
  try {
    const run = spawnSync(SCHEDULER_BIN, ['--listen', '127.0.0.1:0', '--data-dir', dataDir, '--key', randomKey()],
      { encoding: 'utf8', timeout: 20000 });
    assert.equal(run.status, 2, `exit ${run.status} ${run.signal}: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, /--key .*command line/);
    assert.match(run.stderr, /\/proc\/<pid>\/cmdline/);
    assert.match(run.stderr, /--key-file/);
    assert.match(run.stderr, /OPENBATCH_ACCOUNT_KEY/);
  } finally {
    cleanup(dataDir);
  }
});

test('the scheduler refuses a key file that others may read', { timeout: TEST_TIMEOUT }, () => {
  const dataDir = tempDir('keyfile');
  const keyFile = path.join(dataDir, 'given.key');
  writeFileSync(keyFile, `${randomKey()}\n`);
  chmodSync(keyFile, 0o644);
  try {
    const run = spawnSync(SCHEDULER_BIN, ['--listen', '127.0.0.1:0', '--data-dir', path.join(dataDir, 'data'),
      '--key-file', keyFile], { encoding: 'utf8', timeout: 20000 });
    assert.equal(run.status, 2, `exit ${run.status} ${run.signal}: ${run.stdout}${run.stderr}`);
    assert.match(`${run.stdout}${run.stderr}`, new RegExp(`chmod 600 ${keyFile}`));
  } finally {
    cleanup(dataDir);
  }
});
