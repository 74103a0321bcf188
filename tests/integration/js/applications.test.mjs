// Application packages end to end against a real scheduler (static provisioner): a 5 MiB zip,
// over the 1 MiB body limit, streamed up and hashed; pending until activated (invisible to the
// data plane, refused in pool references); activation; a pool using it; deletion refused while
// the pool references it and allowed once the pool is gone; refusals (unsigned, not a zip)
// answered before the body is read; and the agent download of the blob with a node token.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';

import {
  API_VERSION, azureError, cpuPool, errorDetail, rawRequest, removeDir, sdkClientFor, startScheduler, until,
} from './lib/harness.mjs';
import { authorization } from './lib/sharedkey.mjs';

const TEST_TIMEOUT = 60000;
const APP = 'gpu_driver';
const VERSION = '535.104';
const POOL = 'apps-pool';

let sched;
let client;
let zip;
let sha;

// A 5 MiB "zip": the local-file-header magic, then random bytes (the server checks the magic).
function bigZip() {
  return Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), randomBytes(5 * 1024 * 1024)]);
}

function upload(body, { version = VERSION, query = {}, sign = true } = {}) {
  return rawRequest(sched, { method: 'PUT', path: `/applications/${APP}/versions/${version}`, body, query, sign,
    headers: { 'content-type': 'application/zip' } });
}

before(async () => {
  sched = await startScheduler({ extraArgs: ['--provisioner', 'static'] });
  client = await sdkClientFor(sched);
  zip = bigZip();
  sha = createHash('sha256').update(zip).digest('hex');
});

after(async () => {
  if (sched) await sched.stop().catch((e) => console.error(e.message));
  if (sched) removeDir(sched.dataDir);
});

test('an upload into an unknown application is 404 ApplicationNotFound', { timeout: TEST_TIMEOUT }, async () => {
  azureError(await upload(Buffer.from('PK\x05\x06' + '\0'.repeat(18), 'latin1')), 404, 'ApplicationNotFound');
});

test('unsigned and non-zip uploads are refused before the body is read', { timeout: TEST_TIMEOUT }, async () => {
  const created = await rawRequest(sched, { method: 'PUT', path: `/applications/${APP}`, body: { displayName: 'GPU driver' } });
  assert.equal(created.status, 201, created.text);
  const unsigned = await upload(zip, { sign: false });
  assert.ok([401, 403].includes(unsigned.status), `${unsigned.status} ${unsigned.text}`);
  azureError(unsigned, unsigned.status);
  const wrongKey = await rawRequest(sched, { method: 'PUT', path: `/applications/${APP}/versions/${VERSION}`,
    body: zip, key: randomBytes(32).toString('base64'), headers: { 'content-type': 'application/zip' } });
  azureError(wrongKey, 403, 'AuthenticationFailed');
  const notZip = await upload(Buffer.concat([Buffer.from('not a zip file'), randomBytes(2 * 1024 * 1024)]));
  const err = azureError(notZip, 400, 'InvalidRequestBody');
  assert.match(err.message.value, /\.zip/);
  const versions = await rawRequest(sched, { path: `/applications/${APP}/versions` });
  assert.deepEqual(versions.json.value, []);
});

test('a 5 MiB package streams up, stays pending, and is invisible until activated', { timeout: TEST_TIMEOUT }, async () => {
  const res = await upload(zip);
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.state, 'pending');
  assert.equal(res.json.sha256, sha);
  assert.equal(res.json.size, zip.length);

  const got = await rawRequest(sched, { path: `/applications/${APP}/versions/${VERSION}` });
  assert.equal(got.status, 200, got.text);
  assert.equal(got.json.sha256, sha);
  assert.equal(got.json.state, 'pending');

  // The data plane lists active versions only.
  assert.deepEqual([...await client.application.list()], []);
  await assert.rejects(client.application.get(APP), (e) => e.statusCode === 404 && e.code === 'ApplicationNotFound');

  const refused = await rawRequest(sched, { method: 'POST', path: '/pools',
    body: { ...cpuPool(POOL, { nodes: 1 }), applicationPackageReferences: [{ applicationId: APP, version: VERSION }] } });
  const body = azureError(refused, 409, 'InvalidApplicationPackageReferences');
  assert.equal(errorDetail(body, APP), VERSION, JSON.stringify(body));
  assert.equal((await client.pool.exists(POOL)).body, false);

  const activated = await rawRequest(sched, { method: 'POST',
    path: `/applications/${APP}/versions/${VERSION}/activate`, body: { format: 'zip' } });
  assert.equal(activated.status, 200, activated.text);
  assert.equal(activated.json.state, 'active');
  assert.ok(activated.json.lastActivationTime);
  const app = await client.application.get(APP);
  assert.deepEqual(app.versions, [VERSION]);
  assert.equal(app.displayName, 'GPU driver');
});

test('a package in use by a pool cannot be deleted; once the pool is gone it can', { timeout: TEST_TIMEOUT }, async () => {
  await client.pool.add({ ...cpuPool(POOL, { nodes: 1 }), applicationPackageReferences: [{ applicationId: APP, version: VERSION }] });
  const before = (await rawRequest(sched, { path: `/applications/${APP}/versions` })).text;
  const inUse = await rawRequest(sched, { method: 'DELETE', path: `/applications/${APP}/versions/${VERSION}` });
  const body = azureError(inUse, 409, 'ApplicationPackageInUse');
  assert.equal(errorDetail(body, 'PoolId'), POOL);
  assert.equal((await rawRequest(sched, { path: `/applications/${APP}/versions` })).text, before);
  azureError(await rawRequest(sched, { method: 'DELETE', path: `/applications/${APP}` }), 409);

  // Meanwhile an agent of the pool downloads the blob with its node token.
  const tokenRes = await rawRequest(sched, { method: 'POST', path: `/pools/${POOL}/jointoken` });
  assert.equal(tokenRes.status, 200, tokenRes.text);
  const join = await fetch(`${sched.url}/agent/v1/join`, {
    method: 'POST', headers: { authorization: `Bearer ${tokenRes.json.joinToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ poolId: POOL, hostname: 'pkg-test', inventory: {} }),
  });
  assert.equal(join.status, 200, await join.clone().text());
  const { nodeToken } = await join.json();
  const download = await fetch(`${sched.url}/agent/v1/packages/${sha}`, { headers: { authorization: `Bearer ${nodeToken}` } });
  assert.equal(download.status, 200);
  assert.equal(download.headers.get('x-openbatch-sha256'), sha);
  assert.equal(Number(download.headers.get('content-length')), zip.length);
  const bytes = Buffer.from(await download.arrayBuffer());
  assert.ok(bytes.equals(zip), 'downloaded bytes differ');
  const noToken = await fetch(`${sched.url}/agent/v1/packages/${sha}`);
  assert.equal(noToken.status, 401);
  const badToken = await fetch(`${sched.url}/agent/v1/packages/${sha}`, { headers: { authorization: 'Bearer x.y' } });
  assert.equal(badToken.status, 401);
  const unknown = await fetch(`${sched.url}/agent/v1/packages/${'0'.repeat(64)}`, { headers: { authorization: `Bearer ${nodeToken}` } });
  assert.equal(unknown.status, 404);
  assert.equal((await unknown.json()).code, 'ApplicationPackageNotFound');
  const traversal = await fetch(`${sched.url}/agent/v1/packages/..%2F..%2Fopenbatch.db`, { headers: { authorization: `Bearer ${nodeToken}` } });
  assert.equal(traversal.status, 404);

  await client.pool.deleteMethod(POOL);
  await until(async () => !(await client.pool.exists(POOL)).body, { timeoutMs: 30000, what: 'pool deleted' });
  const deleted = await rawRequest(sched, { method: 'DELETE', path: `/applications/${APP}/versions/${VERSION}` });
  assert.equal(deleted.status, 204, deleted.text);
  const gone = await fetch(`${sched.url}/agent/v1/packages/${sha}`, { headers: { authorization: `Bearer ${nodeToken}` } });
  assert.ok([401, 404].includes(gone.status), String(gone.status));  // the node went with its pool
  assert.equal((await rawRequest(sched, { method: 'DELETE', path: `/applications/${APP}` })).status, 204);
});

test('a package over --max-package-bytes is refused with 413', { timeout: TEST_TIMEOUT }, async () => {
  const small = await startScheduler({ extraArgs: ['--provisioner', 'static', '--max-package-bytes', '1000000'] });
  try {
    const created = await rawRequest(small, { method: 'PUT', path: '/applications/a', body: {} });
    assert.equal(created.status, 201, created.text);
    const res = await rawRequest(small, { method: 'PUT', path: '/applications/a/versions/1', body: zip,
      headers: { 'content-type': 'application/zip' } });
    azureError(res, 413, 'RequestBodyTooLarge');
  } finally {
    await small.stop();
    removeDir(small.dataDir);
  }
});

// A streamed upload leaves its keep-alive connection usable: two uploads on one socket.
test('two uploads on one keep-alive connection', { timeout: TEST_TIMEOUT }, async () => {
  const created = await rawRequest(sched, { method: 'PUT', path: '/applications/ka', body: {} });
  assert.equal(created.status, 201, created.text);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const body = zip.subarray(0, 2 * 1024 * 1024);
  const seen = [];
  try {
    for (const version of ['1', '2']) {
      const url = new URL(`${sched.url}/applications/ka/versions/${version}?api-version=${API_VERSION}`);
      const headers = { 'content-type': 'application/zip', 'ocp-date': new Date().toUTCString(),
        'content-length': String(body.length) };
      headers.authorization = authorization({ account: sched.account, key: sched.key, method: 'PUT', url: url.href,
        headers, bodyLength: body.length });
      const status = await new Promise((resolve, reject) => {
        const req = http.request(url, { method: 'PUT', headers, agent }, (res) => {
          seen.push(res.socket);
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        });
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(status, 201);
    }
    assert.equal(seen[0], seen[1], 'the second upload reused the connection');
  } finally {
    agent.destroy();
  }
});

// Without Content-Length (Transfer-Encoding: chunked) the body is streamed all the same.
test('a chunked upload is accepted', { timeout: TEST_TIMEOUT }, async () => {
  const created = await rawRequest(sched, { method: 'PUT', path: '/applications/chunked', body: {} });
  assert.equal(created.status, 201, created.text);
  const url = new URL(`${sched.url}/applications/chunked/versions/1?api-version=${API_VERSION}`);
  const headers = { 'content-type': 'application/zip', 'ocp-date': new Date().toUTCString() };
  headers.authorization = authorization({ account: sched.account, key: sched.key, method: 'PUT', url: url.href, headers });
  const res = await new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => resolve({ status: r.statusCode, json: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', reject);
    for (let off = 0; off < zip.length; off += 1024 * 1024) req.write(zip.subarray(off, off + 1024 * 1024));
    req.end();
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  assert.equal(res.json.sha256, sha);
  assert.equal(res.json.size, zip.length);
});

// The refusal comes from the header alone: the server answers while the body is still unsent.
test('an unsigned upload is answered before any of its body is sent', { timeout: TEST_TIMEOUT }, async () => {
  const { hostname, port } = new URL(sched.url);
  const answer = await new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`PUT /applications/${APP}/versions/9?api-version=${API_VERSION} HTTP/1.1\r\n` +
        `Host: ${hostname}:${port}\r\nContent-Type: application/zip\r\nContent-Length: 5242880\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (d) => { text += d.toString(); });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.setTimeout(10000, () => socket.destroy(new Error(`no answer; got ${text}`)));
  });
  assert.match(answer, /^HTTP\/1\.1 403 /);
  assert.match(answer, /AuthenticationFailed/);
});
