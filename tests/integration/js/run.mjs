// CTest entry for one Node test file: skips (exit 77) with a clear message when the npm
// dependencies are not installed, otherwise runs `node --test FILE` and passes on its status.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
const result = spawnSync(process.execPath, ['--test', file], { stdio: 'inherit', cwd: here });
if (result.error) throw result.error;
process.exit(result.status ?? 1);
