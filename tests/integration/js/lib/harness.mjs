// Test harness for the Node integration tests: starts and stops a real openbatch-scheduler
// (temp data dir, port 0, random key given through a 0600 --key-file, --ready-file), sends raw
// SharedKey-signed requests, and polls with deadlines. Everything here is process-local; each
// test file owns its schedulers.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { authorization } from './sharedkey.mjs';

export const API_VERSION = '2022-10-01.16.0';
export const JSON_BODY_TYPE = 'application/json; odata=minimalmetadata; charset=utf-8';
export const JSON_TYPE = 'application/json; charset=utf-8';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = process.env.OPENBATCH_SOURCE_DIR ?? path.resolve(here, '../../../..');
export const SCHEDULER_BIN = process.env.OPENBATCH_SCHEDULER ??
  path.join(REPO_DIR, 'build/scheduler/openbatch-scheduler');
export const AGENT_BIN = process.env.OPENBATCH_AGENT ??
  path.join(path.dirname(path.dirname(SCHEDULER_BIN)), 'node_agent/openbatch-agent');

const live = new Set();  // children still running, killed if this process exits first
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `probe` (sync or async) until it returns a truthy value, which is returned. Throws
// with `what` and the last value/error once `timeoutMs` has passed.
export async function until(probe, { timeoutMs = 20000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.stack : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${detail}`);
    }
    await sleep(intervalMs);
  }
}

export function tempDir(prefix) {
  return mkdtempSync(path.join(os.tmpdir(), `openbatch-${prefix}-`));
}

// Nodes directories of the schedulers started here, by data directory: removeDir(dataDir)
// removes the nodes directory beside it too.
const nodesDirOf = new Map();

export function removeDir(dir) {
  if (!dir || process.env.OPENBATCH_KEEP_TMP) return;
  rmSync(dir, { recursive: true, force: true });
  const nodesDir = nodesDirOf.get(dir);
  if (nodesDir) {
    rmSync(nodesDir, { recursive: true, force: true });
    nodesDirOf.delete(dir);
  }
}

// The scheduler's default --nodes-dir: <data-dir>.nodes.
export function defaultNodesDir(dataDir) {
  return `${dataDir.replace(/\/+$/, '')}.nodes`;
}

// The value of `--name VALUE` or `--name=VALUE` in `args`, if any.
function optionValue(args, name) {
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

export function randomKey() {
  return randomBytes(32).toString('base64');
}

export function randomAccount() {
  return `obtest${randomBytes(4).toString('hex')}`;
}

// A running scheduler process. Output is kept (last 256 KiB) for failure messages; set
// OPENBATCH_TEST_VERBOSE=1 to also copy it to stderr as it comes.
export class Scheduler {
  constructor({ dataDir, nodesDir, account, key, child, readyFile }) {
    Object.assign(this, { dataDir, nodesDir, account, key, child, readyFile });
    this.url = undefined;
    this.output = '';
    this.exit = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        live.delete(child);
        resolve({ code, signal });
      });
    });
    this.exited = undefined;
    this.exit.then((status) => { this.exited = status; });
    const keep = (chunk) => {
      this.output = (this.output + chunk.toString()).slice(-256 * 1024);
      if (process.env.OPENBATCH_TEST_VERBOSE) process.stderr.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
  }

  describe() {
    return `scheduler pid ${this.child.pid} (${this.url ?? 'not ready'}), output:\n${this.output}`;
  }

  // SIGTERM, then waits up to `timeoutMs` for the exit; SIGKILL and throw if it does not come.
  async stop({ timeoutMs = 15000 } = {}) {
    if (this.exited) return this.exited;
    this.child.kill('SIGTERM');
    let timer;
    const expired = new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs); });
    const status = await Promise.race([this.exit, expired]);
    clearTimeout(timer);
    if (status) return status;
    this.child.kill('SIGKILL');
    await this.exit;
    throw new Error(`scheduler did not exit within ${timeoutMs} ms of SIGTERM; ${this.describe()}`);
  }

  // SIGKILL and wait for the exit.
  async kill() {
    if (this.exited) return this.exited;
    this.child.kill('SIGKILL');
    return this.exit;
  }
}

// Starts the scheduler and resolves once its ready file names its URL. `dataDir`, `account`
// and `key` are generated when absent (pass the same ones to restart on the same data). The
// key reaches the scheduler through a 0600 --key-file (never its command line), removed once
// it is ready; `keyVia: 'env'` passes it in OPENBATCH_ACCOUNT_KEY instead, and
// `keyVia: 'generated'` passes none (the scheduler uses or makes <data-dir>/account.key, read
// back into sched.key). `sched.nodesDir` is where local agents' node roots live.
// `launcher` goes before the command and must exec it (the child's pid stays the scheduler's):
// e.g. ['prlimit', '--nofile=128:128', '--'].
export async function startScheduler({ dataDir, account, key, timeoutMs = 20000, extraArgs = [],
  listen = '127.0.0.1:0', keyVia = 'file', launcher = [] } = {}) {
  if (!existsSync(SCHEDULER_BIN)) {
    throw new Error(`scheduler binary not found: ${SCHEDULER_BIN} (set OPENBATCH_SCHEDULER)`);
  }
  dataDir ??= tempDir('data');
  account ??= randomAccount();
  if (keyVia !== 'generated') key ??= randomKey();
  const nodesDir = optionValue(extraArgs, '--nodes-dir') ?? defaultNodesDir(dataDir);
  nodesDirOf.set(dataDir, nodesDir);
  const privateDir = tempDir('ready');  // mkdtemp: 0700
  const readyFile = path.join(privateDir, 'url');
  const args = ['--listen', listen, '--data-dir', dataDir, '--account', account,
    '--ready-file', readyFile, '--agent-binary', AGENT_BIN];
  const env = { ...process.env };
  delete env.OPENBATCH_ACCOUNT_KEY;
  if (keyVia === 'file') {
    const keyFile = path.join(privateDir, 'account.key');
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    args.push('--key-file', keyFile);
  } else if (keyVia === 'env') {
    env.OPENBATCH_ACCOUNT_KEY = key;
  }
  args.push(...extraArgs);
  const argv = [...launcher, SCHEDULER_BIN, ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
  live.add(child);
  const spawnError = new Promise((_, reject) => child.on('error', reject));
  const sched = new Scheduler({ dataDir, nodesDir, account, key, child, readyFile });
  try {
    sched.url = await Promise.race([spawnError, until(() => {
      if (sched.exited) {
        throw new Error(`scheduler exited early (${JSON.stringify(sched.exited)})`);
      }
      if (!existsSync(readyFile)) return undefined;
      const text = readFileSync(readyFile, 'utf8');
      // Any IPv4 listen address: 127.0.0.1 by default, 0.0.0.0 for agents in namespaces.
      return /^http:\/\/(?:[0-9]{1,3}\.){3}[0-9]{1,3}:[1-9][0-9]*$/.test(text) ? text : undefined;
    }, { timeoutMs, intervalMs: 20, what: `ready file ${readyFile}` })]);
    if (keyVia === 'generated') {
      sched.key = readFileSync(path.join(dataDir, 'account.key'), 'utf8').trim();
    }
  } catch (err) {
    await sched.kill();
    throw new Error(`${err.message}\n${sched.describe()}`);
  } finally {
    removeDir(privateDir);
  }
  return sched;
}

// Sends one request with SharedKey auth. `body` is a string, Buffer or object (sent as JSON);
// `query` is appended after api-version (pass apiVersion: null to omit it). Set `key` to sign
// with another key, or `sign: false` to send no Authorization. Resolves to
// {status, headers, text, json}; json is undefined when the body is not JSON.
export function rawRequest(sched, { method = 'GET', path: urlPath, query = {}, body, headers = {},
  key = sched.key, account = sched.account, sign = true, apiVersion = API_VERSION,
  timeoutMs = 30000 }) {
  const url = new URL(sched.url + urlPath);
  if (apiVersion !== null) url.searchParams.set('api-version', apiVersion);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, String(value));
  let payload;
  if (body !== undefined) {
    payload = Buffer.isBuffer(body) ? body
      : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  }
  const sent = {
    'content-type': payload !== undefined || method === 'POST' ? JSON_BODY_TYPE : JSON_TYPE,
    'ocp-date': new Date().toUTCString(),
    ...headers,
  };
  if (payload !== undefined || method === 'POST') sent['content-length'] = String(payload?.length ?? 0);
  if (sign) {
    sent.authorization = authorization({ account, key, method, url: url.href, headers: sent,
      bodyLength: payload?.length });
  }
  return new Promise((resolve, reject) => {
    let response;
    const req = http.request(url, { method, headers: sent }, (res) => {
      response = res;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url} timed out`)));
    // A server may answer (413) and close before reading a large body: an EPIPE/ECONNRESET
    // after the response has arrived is not the request's failure.
    req.on('error', (err) => {
      if (!response) reject(new Error(`${method} ${url.pathname}: ${err.code ?? ''} ${err.message}`));
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// Asserts `res` is an Azure Batch error (batch-api.md section 8) with `status` and, when given,
// `code`; returns the parsed error body.
export function azureError(res, status, code) {
  const where = `${res.status} ${res.text.slice(0, 500)}`;
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${where}`);
  if (!res.json || typeof res.json !== 'object') throw new Error(`error body is not JSON: ${where}`);
  if (typeof res.json.code !== 'string' || res.json.code === '') {
    throw new Error(`error body has no code: ${where}`);
  }
  if (code !== undefined && res.json.code !== code) {
    throw new Error(`expected code ${code}, got ${where}`);
  }
  const msg = res.json.message;
  if (!msg || typeof msg.value !== 'string' || msg.value === '') {
    throw new Error(`error body has no message.value: ${where}`);
  }
  if (!String(res.headers['content-type'] ?? '').startsWith('application/json')) {
    throw new Error(`error Content-Type is ${res.headers['content-type']}: ${where}`);
  }
  return res.json;
}

// Returns the value of the first {key, value} detail named `key` in an error body, if any.
export function errorDetail(errorBody, key) {
  const values = errorBody?.values ?? [];
  return values.find((v) => v.key === key)?.value;
}

// Collects every item of an SDK list call: `first` is the first page, `next(link)` the next.
export async function listAll(first, next) {
  const pages = [];
  let page = await first();
  pages.push(page);
  while (page.odatanextLink) {
    page = await next(page.odatanextLink);
    pages.push(page);
  }
  return { items: pages.flatMap((p) => [...p]), pages };
}

// ---- clusters: pools with nodes, agents started by hand (static pools) ----

export function sdkClientFor(s, options = {}) {
  // Imported lazily so files that do not use the SDK do not need it.
  return import('@azure/batch').then(({ BatchServiceClient, BatchSharedKeyCredentials }) =>
    new BatchServiceClient(new BatchSharedKeyCredentials(s.account, s.key), s.url, options));
}

// A CPU pool body the catalog accepts; `metadata` may pick the provisioner.
export function cpuPool(id, { nodes = 2, slots = 2, provisioner } = {}) {
  const pool = {
    id,
    vmSize: 'STANDARD_D2S_V3',
    virtualMachineConfiguration: {
      imageReference: { publisher: 'canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts', version: 'latest' },
      nodeAgentSKUId: 'batch.node.ubuntu 22.04',
    },
    targetDedicatedNodes: nodes,
    taskSlotsPerNode: slots,
  };
  if (provisioner) pool.metadata = [{ name: 'openbatch.provisioner', value: provisioner }];
  return pool;
}

// Waits until the pool has `count` nodes, all in one of `states`; returns them.
export async function waitForNodes(client, poolId, count, { states = ['idle'], timeoutMs = 30000 } = {}) {
  return until(async () => {
    const { items: nodes } = await listAll(() => client.computeNode.list(poolId),
      (link) => client.computeNode.listNext(link));
    return nodes.length === count && nodes.every((n) => states.includes(n.state)) ? nodes : undefined;
  }, { timeoutMs, intervalMs: 100, what: `${count} nodes of ${poolId} in ${states.join('|')}` });
}

// Waits until the task is completed; returns it.
export async function waitForTask(client, jobId, taskId, { timeoutMs = 30000, state = 'completed' } = {}) {
  return until(async () => {
    const task = await client.task.get(jobId, taskId);
    return task.state === state ? task : undefined;
  }, { timeoutMs, intervalMs: 100, what: `task ${jobId}/${taskId} ${state}` });
}

// Reads a task file through the SDK (file.getFromTask) as text.
export async function taskFileText(client, jobId, taskId, filePath) {
  const res = await client.file.getFromTask(jobId, taskId, filePath);
  const chunks = [];
  for await (const chunk of res.readableStreamBody) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// An agent started by the test (static provisioning), with its own root and state dirs.
// `spawnWith(argv, options)` starts the process (default: child_process.spawn; the network
// namespace test bed passes one that enters a node's namespaces).
export class Agent {
  constructor({ schedulerUrl, poolId, tokenFile, root, stateDir, extraArgs = [],
    spawnWith = (argv, options) => spawn(argv[0], argv.slice(1), options) }) {
    Object.assign(this, { schedulerUrl, poolId, tokenFile, root, stateDir });
    this.output = '';
    const args = ['run', '--scheduler', schedulerUrl, '--root', root, '--state-dir', stateDir,
      '--pool', poolId, '--join-token-file', tokenFile, '--reconnect-min-ms', '100', '--reconnect-max-ms', '1000',
      ...extraArgs];
    // detached: its own process group, like a real node's agent.
    this.child = spawnWith([AGENT_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    live.add(this.child);
    this.exited = undefined;
    this.exit = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      live.delete(this.child);
      this.exited = { code, signal };
      resolve({ code, signal });
    }));
    const keep = (chunk) => {
      this.output = (this.output + chunk.toString()).slice(-64 * 1024);
      if (process.env.OPENBATCH_TEST_VERBOSE) process.stderr.write(chunk);
    };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
  }

  nodeId() {
    try {
      return JSON.parse(readFileSync(path.join(this.stateDir, 'node.json'), 'utf8')).nodeId;
    } catch {
      return undefined;
    }
  }

  async kill(signal = 'SIGKILL') {
    if (this.exited) return this.exited;
    this.child.kill(signal);
    return this.exit;
  }
}
