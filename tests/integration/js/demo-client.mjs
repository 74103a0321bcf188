// The demo's client (.ci/demo.sh): with the official @azure/batch SDK, creates the pool in the
// given JSON file, reads it back and lists all pools, printing each call and its HTTP status.
// Usage: OPENBATCH_URL=... OPENBATCH_ACCOUNT=... OPENBATCH_KEY=... node demo-client.mjs POOL.json

import { readFileSync } from 'node:fs';

import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';

const { OPENBATCH_URL: url, OPENBATCH_ACCOUNT: account, OPENBATCH_KEY: key } = process.env;
const poolFile = process.argv[2];
if (!url || !account || !key || !poolFile) {
  console.error('usage: OPENBATCH_URL=... OPENBATCH_ACCOUNT=... OPENBATCH_KEY=... ' +
    'node demo-client.mjs POOL.json');
  process.exit(2);
}

const client = new BatchServiceClient(new BatchSharedKeyCredentials(account, key), url);
const pool = JSON.parse(readFileSync(poolFile, 'utf8'));

function show(label, response) {
  const r = response._response;
  console.log(`${r.request.method} ${new URL(r.request.url).pathname} -> ${r.status}  (${label})`);
}

try {
  show(`pool.add ${pool.id} from ${poolFile}`, await client.pool.add(pool));
  const got = await client.pool.get(pool.id);
  show('pool.get', got);
  console.log(JSON.stringify(got._response.parsedBody, null, 2));
  let page = await client.pool.list();
  show('pool.list', page);
  const pools = [...page];
  while (page.odataNextLink) {
    page = await client.pool.listNext(page.odataNextLink);
    pools.push(...page);
  }
  console.log('pools:');
  for (const p of pools) {
    console.log(`  ${p.id}  vmSize=${p.vmSize}  state=${p.state}  allocationState=${p.allocationState}` +
      `  nodes=${p.currentDedicatedNodes ?? 0}/${p.targetDedicatedNodes ?? 0}`);
  }
} catch (err) {
  console.error(`request failed: ${err.statusCode ?? ''} ${err.code ?? ''} ${err.message}`);
  if (err.body) console.error(JSON.stringify(err.body, null, 2));
  process.exit(1);
}
