// Hostile HTTP from an API client, over raw sockets: every request the parser rejects gets an
// answer (400, 431, 413 or 505 in Azure's error shape) before the connection closes, never a
// bare close; a stalled header or body gets 408 within the configured deadline; `/pools//p`
// and a $filter on a property that does not exist are 400s; and SIGTERM with an idle node and
// idle connections stops the scheduler at once.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';

import { cpuPool, rawRequest, sleep, startScheduler, until } from '../integration/js/lib/harness.mjs';

const BODY_TIMEOUT_S = 1;
const HEADER_TIMEOUT_S = 1;

let sched;

before(async () => {
  sched = await startScheduler({ extraArgs: ['--body-timeout-seconds', String(BODY_TIMEOUT_S),
    '--header-timeout-seconds', String(HEADER_TIMEOUT_S)] });
});

after(async () => {
  if (sched) await sched.stop().catch((e) => console.error(e.message));
});

function connect() {
  const { hostname, port } = new URL(sched.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.on('error', reject);
  });
}

// Sends `parts` (strings or Buffers; a number pauses that many ms) and collects what comes
// back until the server closes. Resolves to {status, text, json, closed, ms}: status is the
// number on the first status line (undefined when the connection closed without one).
async function exchange(parts, { timeoutMs = 8000 } = {}) {
  const socket = await connect();
  const started = Date.now();
  let ended;
  const chunks = [];
  const done = new Promise((resolve) => {
    const timer = setTimeout(() => { socket.destroy(); resolve(false); }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => { ended ??= Date.now(); clearTimeout(timer); resolve(true); });
    socket.on('end', () => { ended ??= Date.now(); });
  });
  for (const part of parts) {
    if (ended !== undefined || socket.destroyed) break;
    if (typeof part === 'number') await sleep(part);
    else socket.write(part);
  }
  const closed = await done;
  const text = Buffer.concat(chunks).toString('latin1');
  const status = /^HTTP\/1\.[01] (\d{3}) /.exec(text)?.[1];
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  let json;
  try { json = JSON.parse(body); } catch { json = undefined; }
  return { status: status && Number(status), text, json, closed, ms: (ended ?? Date.now()) - started };
}

const H = 'Host: localhost\r\n';
const MALFORMED = [
  ['Content-Length not a number', `POST /pools HTTP/1.1\r\n${H}Content-Length: abc\r\n\r\n`, 400],
  ['negative Content-Length', `POST /pools HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, 400],
  ['Content-Length with a sign', `POST /pools HTTP/1.1\r\n${H}Content-Length: +2\r\n\r\n{}`, 400],
  ['two different Content-Lengths', `POST /pools HTTP/1.1\r\n${H}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`, 400],
  ['a Content-Length list', `POST /pools HTTP/1.1\r\n${H}Content-Length: 2, 3\r\n\r\n{}`, 400],
  ['Content-Length and chunked', `POST /pools HTTP/1.1\r\n${H}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`, 400],
  ['a bad chunk size', `POST /pools HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, 400],
  ['bare LF line endings', `GET /pools HTTP/1.1\n${H.replace('\r', '')}\n`, 400],
  ['a bare LF in one header', `GET /pools HTTP/1.1\r\nHost: localhost\nX-A: b\r\n\r\n`, 400],
  ['NUL in a header value', `GET /pools HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n`, 400],
  ['NUL in a header name', `GET /pools HTTP/1.1\r\n${H}X-\0A: b\r\n\r\n`, 400],
  ['space before the colon', `GET /pools HTTP/1.1\r\n${H}X-A : b\r\n\r\n`, 400],
  ['HTTP/0.9', 'GET /pools\r\n\r\n', 400],
  ['a malformed version', `GET /pools HTTP/1.x\r\n${H}\r\n`, 400],
  ['a bad method', `GE(T /pools HTTP/1.1\r\n${H}\r\n`, 400],
  ['a control character in the target', `GET /po\x01ols HTTP/1.1\r\n${H}\r\n`, 400],
  ['a TLS hello', Buffer.from('160301020001000200030354', 'hex'), 400],
  ['HTTP/2.0 as text', `GET /pools HTTP/2.0\r\n${H}\r\n`, 505],
  ['a 100 KiB header', `GET /pools HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`, 431],
  ['a 2 MiB Content-Length', `POST /pools HTTP/1.1\r\n${H}Content-Length: 2097152\r\n\r\n{}`, 413],
];

for (const [what, request, expected] of MALFORMED) {
  test(`${what}: ${expected} before the close`, async () => {
    const res = await exchange([request]);
    assert.equal(res.status, expected, `answer to ${what}: ${JSON.stringify(res.text.slice(0, 300))}`);
    assert.equal(typeof res.json?.code, 'string', `Azure error body: ${res.text.slice(0, 300)}`);
    assert.match(res.json.message?.value ?? '', /RequestId:/);
    assert.ok(res.closed, 'the connection is closed after the answer');
  });
}

test('a stalled body gets 408 within the body deadline', async () => {
  const res = await exchange([`POST /pools HTTP/1.1\r\n${H}Content-Length: 100\r\nContent-Type: application/json\r\n\r\n{"id":`]);
  assert.equal(res.status, 408, res.text.slice(0, 300));
  assert.equal(res.json?.code, 'RequestTimeout');
  assert.ok(res.ms < (BODY_TIMEOUT_S + 2) * 1000, `408 after ${res.ms} ms`);
});

test('a header sent byte by byte too slowly (slowloris) gets 408 within the header deadline', async () => {
  const parts = [];
  for (const ch of `GET /pools HTTP/1.1\r\n${H}X-Slow: ${'x'.repeat(30)}\r\n\r\n`) parts.push(ch, 100);
  const res = await exchange(parts, { timeoutMs: 10000 });
  assert.equal(res.status, 408, res.text.slice(0, 300));
  assert.ok(res.ms < (HEADER_TIMEOUT_S + 2) * 1000, `408 after ${res.ms} ms`);
});

test('a connection that never sends a request is closed after the header deadline', async () => {
  const res = await exchange([], { timeoutMs: 10000 });
  assert.ok(res.closed, 'closed by the server');
  assert.ok(res.ms < (HEADER_TIMEOUT_S + 2) * 1000, `closed after ${res.ms} ms`);
});

test('/pools//p is 400 InvalidUri, not 405', async () => {
  for (const method of ['GET', 'DELETE']) {
    const res = await rawRequest(sched, { method, path: '/pools//p' });
    assert.equal(res.status, 400, `${method}: ${res.text}`);
    assert.equal(res.json?.code, 'InvalidUri');
  }
});

test('a $filter on a property that does not exist is 400 naming it', async () => {
  for (const [path, filter, property] of [['/pools', "nosuchprop eq 'x'", 'nosuchprop'],
    ['/jobs', "state eq 'active' and bogus/inner eq 1", 'bogus/inner'],
    ['/nodecounts', "pool eq 'p'", 'pool']]) {
    const res = await rawRequest(sched, { path, query: { $filter: filter } });
    assert.equal(res.status, 400, `${path} ${filter}: ${res.text}`);
    assert.equal(res.json?.code, 'InvalidQueryParameterValue');
    const reason = res.json.values?.find((v) => v.key === 'Reason')?.value ?? '';
    assert.ok(reason.includes(property), `the reason names ${property}: ${reason}`);
  }
  // Known properties still filter (nothing matches here).
  const ok = await rawRequest(sched, { path: '/pools', query: { $filter: "state eq 'active' and executionInfo/x eq 1" } });
  assert.equal(ok.status, 400, 'executionInfo is no property of a pool');
  const fine = await rawRequest(sched, { path: '/pools', query: { $filter: "state eq 'active' and startTask/commandLine eq 'x'" } });
  assert.equal(fine.status, 200, fine.text);
});

test('SIGTERM with an idle node and idle connections open: the scheduler exits at once', { timeout: 60000 }, async () => {
  // A local agent whose link must end with the scheduler (it used to wait out its close).
  const add = await rawRequest(sched, { method: 'POST', path: '/pools', body: cpuPool('idle', { nodes: 1, slots: 1 }) });
  assert.equal(add.status, 201, add.text);
  await until(async () => (await rawRequest(sched, { path: '/pools/idle/nodes' })).json?.value?.[0]?.state === 'idle',
    { timeoutMs: 30000, intervalMs: 200, what: 'the node idle' });
  const idle = [];
  for (let i = 0; i < 20; ++i) idle.push(await connect());
  // Some that served a request and stay open (keep-alive).
  for (const socket of idle.slice(0, 10)) socket.write(`GET /pools HTTP/1.1\r\n${H}\r\n`);
  await sleep(300);
  const started = Date.now();
  const status = await sched.stop({ timeoutMs: 10000 });
  const ms = Date.now() - started;
  for (const socket of idle) socket.destroy();
  assert.equal(status.code, 0, JSON.stringify(status));
  assert.ok(ms < 2000, `the scheduler took ${ms} ms to stop`);
});
