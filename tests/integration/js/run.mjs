// CTest entry for one Node test file: skips (exit 77) with a clear message when the npm
// dependencies are not installed, otherwise runs `node --test FILE` and passes on its status.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIP = 77;
const here = path.dirname(fileURLToPath(import.meta.url));
const file = process.argv[2];
if (!file) {
  console.error('usage: node run.mjs TEST_FILE');
  process.exit(2);
}
if (!existsSync(path.join(here, 'node_modules', '@azure', 'batch', 'package.json'))) {
  console.log(`SKIPPED: ${path.join(here, 'node_modules')} is missing; ` +
    `run \`npm ci\` in ${here} (.ci/test.sh does) to run ${path.basename(file)}`);
  process.exit(SKIP);
}
const major = Number(process.versions.node.split('.')[0]);
if (major < 18) {
  console.log(`SKIPPED: node ${process.version} has no test runner; node >= 18 is needed`);
  process.exit(SKIP);
}
// A test that cannot set up what it needs (root, a mount) writes its reason to this file and
// skips its tests; the run then exits 77 so CTest reports it skipped, not passed.
const skipFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'openbatch-run-')), 'skipped');
const result = spawnSync(process.execPath, ['--test', file], {
  stdio: 'inherit', cwd: here, env: { ...process.env, OPENBATCH_SKIP_FILE: skipFile },
});
if (result.error) throw result.error;
const skipped = existsSync(skipFile) ? readFileSync(skipFile, 'utf8') : undefined;
rmSync(path.dirname(skipFile), { recursive: true, force: true });
if (result.status === 0 && skipped !== undefined) {
  console.log(`SKIPPED: ${skipped}`);
  process.exit(SKIP);
}
process.exit(result.status ?? 1);
