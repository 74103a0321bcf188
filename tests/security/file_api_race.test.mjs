// Hostile task: while a client reads and deletes `wd/d/secret` through the task file API, the
// task exchanges its directory `wd/d` with a symlink to a root-only directory holding a secret
// (renameat2 RENAME_EXCHANGE in a tight loop). A server that checks the path and then opens it
// by name follows the swapped-in link now and then and serves (or deletes) the root-only file.
// Resolution beneath a descriptor of the node root with no symlink in any component never
// does: every read is the task's own file or 404, and the secret survives every DELETE.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  cpuPool, rawRequest, removeDir, sdkClientFor, startScheduler, tempDir, until, waitForNodes, waitForTask,
} from '../integration/js/lib/harness.mjs';

const TEST_TIMEOUT = 120000;
const POOL = 'race-pool';
const JOB = 'race-job';
const READS = 2000;
const DELETES = 2000;
const PARALLEL = 8;
const skip = process.getuid?.() !== 0 ? 'needs root: tasks run as unprivileged task users' : false;

let sched;
let client;
let secrets;  // 0700 root, with root-only/secret inside
let work;     // the swapper script and its stop file, readable by the task user
const CANARY = `TOP-SECRET-${process.pid}-${Date.now()}`;

// The swapper: d (a directory with the task's own file) and l (a symlink to the root-only
// directory) exchange places until the stop file appears or 90 s pass; the task's own file is
// put back after a DELETE took it. C (compiled here with cc) swaps far faster than Python,
// which is the fallback where no compiler is installed.
const SWAPPER_C = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/fs.h>
static void own_file(const char *dir) {
  struct stat st;
  char path[64];
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return;
  snprintf(path, sizeof path, "%s/secret", dir);
  if (access(path, F_OK) == 0) return;
  int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW, 0644);
  if (fd >= 0) { if (write(fd, "mine\n", 5) != 5) {} close(fd); }
}
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  mkdir("d", 0755);
  own_file("d");
  unlink("l");
  if (symlink(argv[1], "l") != 0) return 3;
  close(open("ready", O_WRONLY | O_CREAT, 0644));
  /* Four swappers: on a busy machine one of them is more often on a CPU while the server
     resolves a path. Only the first puts the task's own file back. */
  int first = 1;
  for (int i = 0; i < 3; ++i) {
    if (fork() == 0) { first = 0; break; }
  }
  long swaps = 0;
  time_t deadline = time(NULL) + 90;
  while (access(argv[2], F_OK) != 0 && time(NULL) < deadline) {
    for (int i = 0; i < 1000; ++i) {
      if (syscall(SYS_renameat2, AT_FDCWD, "d", AT_FDCWD, "l", RENAME_EXCHANGE) == 0) ++swaps;
    }
    if (first) { own_file("d"); own_file("l"); }
  }
  if (first) printf("swaps %ld\n", swaps);
  return 0;
}
`;

const SWAPPER_PY = `
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
target, stop = sys.argv[1], sys.argv[2]
def own_file(name):
    try:
        if not os.path.islink(name) and not os.path.exists(name + '/secret'):
            with open(name + '/secret', 'w') as f: f.write('mine\\n')
    except OSError:
        pass
os.makedirs('d', exist_ok=True)
own_file('d')
if os.path.lexists('l'): os.unlink('l')
os.symlink(target, 'l')
open('ready', 'w').close()
n, deadline = 0, time.time() + 90
while not os.path.exists(stop) and time.time() < deadline:
    for _ in range(2000):
        if libc.renameat2(AT_FDCWD, b'd', AT_FDCWD, b'l', RENAME_EXCHANGE) == 0: n += 1
    own_file('d')
    own_file('l')
print('swaps', n)
`;

let swapper;  // the command line of the swapper, without its arguments

before(async () => {
  if (skip) return;
  const dataDir = tempDir('sec-race');
  chmodSync(dataDir, 0o755);  // task users must reach their node root
  sched = await startScheduler({ dataDir });
  client = await sdkClientFor(sched);
  secrets = tempDir('sec-secret');
  mkdirSync(path.join(secrets, 'root-only'), { mode: 0o700 });
  writeFileSync(path.join(secrets, 'root-only', 'secret'), `${CANARY}\n`, { mode: 0o600 });
  work = tempDir('sec-race-work');
  chmodSync(work, 0o755);
  writeFileSync(path.join(work, 'swapper.c'), SWAPPER_C, { mode: 0o644 });
  writeFileSync(path.join(work, 'swapper.py'), SWAPPER_PY, { mode: 0o644 });
  const cc = spawnSync('cc', ['-O2', '-o', path.join(work, 'swapper'), path.join(work, 'swapper.c')], { encoding: 'utf8' });
  if (cc.status === 0) {
    swapper = path.join(work, 'swapper');
  } else {
    console.log(`no C swapper (${cc.error?.message ?? cc.stderr}); using Python`);
    swapper = `python3 ${path.join(work, 'swapper.py')}`;
  }
  await client.pool.add(cpuPool(POOL, { nodes: 1, slots: 1 }));
  await waitForNodes(client, POOL, 1);
  await client.job.add({ id: JOB, poolInfo: { poolId: POOL } });
});

after(async () => {
  if (work) writeFileSync(path.join(work, 'stop'), '');
  if (sched) {
    await sched.stop().catch((e) => console.error(e.message));
    removeDir(sched.dataDir);
  }
  removeDir(secrets);
  removeDir(work);
});

// Runs `count` calls of `one`, PARALLEL at a time; returns their results.
async function hammer(count, one) {
  const results = [];
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < count) {
      next += 1;
      results.push(await one());
    }
  }));
  return results;
}

test('reads and deletes racing a directory-for-symlink swap never reach a root-only file', { skip, timeout: TEST_TIMEOUT }, async () => {
  const secretFile = path.join(secrets, 'root-only', 'secret');
  await client.task.add(JOB, {
    id: 'swapper',
    commandLine: `${swapper} ${path.join(secrets, 'root-only')} ${path.join(work, 'stop')}`,
    userIdentity: { autoUser: { scope: 'task', elevationLevel: 'nonadmin' } },
  });
  const filePath = `/jobs/${JOB}/tasks/swapper/files`;
  await until(async () => (await rawRequest(sched, { path: `${filePath}/wd/ready` })).status === 200,
    { timeoutMs: 30000, what: 'the swapper ready' });

  const reads = await hammer(READS, () => rawRequest(sched, { path: `${filePath}/wd/d/secret` }));
  const leaked = reads.filter((r) => r.text.includes(CANARY)).length;
  const own = reads.filter((r) => r.status === 200 && r.text === 'mine\n').length;
  console.log(`reads: ${own} of the task's own file, ${leaked} of the root-only secret, ` +
    `${reads.length - own - leaked} refused (${[...new Set(reads.map((r) => r.status))].join(', ')})`);
  const deletes = await hammer(DELETES, () => rawRequest(sched, { method: 'DELETE', path: `${filePath}/wd/d/secret` }));
  const removed = deletes.filter((r) => r.status === 200).length;
  console.log(`deletes: ${removed} of ${DELETES} removed a file; the secret ${existsSync(secretFile) ? 'survived' : 'is gone'}`);
  // Both phases ran before any verdict, so a failure shows what each attack got.
  assert.equal(leaked, 0, `the root-only secret was served in ${leaked} of ${READS} reads`);
  assert.ok(own > 0, 'no read reached the task\'s own file: the race was never run');
  assert.ok(reads.every((r) => r.status === 200 || r.status === 404), 'every read is the file or 404');

  assert.ok(existsSync(secretFile), 'a DELETE through the swapped link removed the root-only secret');
  assert.equal(readFileSync(secretFile, 'utf8'), `${CANARY}\n`);

  writeFileSync(path.join(work, 'stop'), '');
  const task = await waitForTask(client, JOB, 'swapper', { timeoutMs: 30000 });
  assert.equal(task.executionInfo.exitCode, 0, JSON.stringify(task.executionInfo));
});
