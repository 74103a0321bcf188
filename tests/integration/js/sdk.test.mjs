// Drives a real openbatch-scheduler with the official @azure/batch 10.2.0 SDK: pools (a GPU
// pool with an elevated start task), jobs, tasks and task collections with paging, and the
// refusals (bad JSON, missing or invalid properties, wrong key, duplicates, oversized bodies)
// after each of which a read shows that nothing changed. Raw requests are signed by
// lib/sharedkey.mjs where the SDK would refuse to send them.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { BatchServiceClient, BatchSharedKeyCredentials } from '@azure/batch';

import {
  azureError, errorDetail, listAll, randomKey, rawRequest, removeDir, REPO_DIR, startScheduler,
  until,
} from './lib/harness.mjs';

const TEST_TIMEOUT = 60000;

function gpuPool(id, extra = {}) {
  return {
    id,
    vmSize: 'STANDARD_NC6',
    virtualMachineConfiguration: {
      imageReference: { publisher: 'canonical', offer: '0001-com-ubuntu-server-focal',
        sku: '20_04-lts', version: 'latest' },
      nodeAgentSKUId: 'batch.node.ubuntu 20.04',
    },
    targetDedicatedNodes: 0,
    enableInterNodeCommunication: true,
    taskSlotsPerNode: 1,
    startTask: {
      commandLine: '/bin/sh -c "nvidia-smi -L"',
      userIdentity: { autoUser: { scope: 'pool', elevationLevel: 'admin' } },
      maxTaskRetryCount: 1,
      waitForSuccess: true,
    },
    metadata: [{ name: 'suite', value: 'sdk.test.mjs' }],
    ...extra,
  };
}

// Rejects unless `promise` fails with an SDK RestError of `status` and `code`; returns it.
async function refused(promise, status, code) {
  let err;
  try {
    const value = await promise;
    assert.fail(`expected ${status} ${code}, but the call succeeded: ${JSON.stringify(value)}`);
  } catch (e) {
    err = e;
  }
  if (err instanceof assert.AssertionError) throw err;
  assert.equal(err.statusCode, status, `status of ${err.stack}\nbody: ${JSON.stringify(err.body)}`);
  assert.equal(err.code, code, `code of ${JSON.stringify(err.body)}`);
  return err;
}

describe('official @azure/batch SDK against openbatch-scheduler', () => {
  let sched;
  let client;
  const jobPool = 'sdk-job-pool';

  // Everything a refusal could have touched: ids and eTags of pools and jobs, in order.
  async function poolsSnapshot() {
    const { items } = await listAll(() => client.pool.list(), (l) => client.pool.listNext(l));
    return items.map((p) => `${p.id}|${p.eTag}|${p.state}`).sort();
  }
  async function jobsSnapshot() {
    const { items } = await listAll(() => client.job.list(), (l) => client.job.listNext(l));
    return items.map((j) => `${j.id}|${j.eTag}|${j.state}`).sort();
  }
  async function tasksSnapshot(jobId) {
    const { items } = await listAll(() => client.task.list(jobId),
      (l) => client.task.listNext(l));
    return items.map((t) => `${t.id}|${t.eTag}|${t.state}`).sort();
  }

  before(async () => {
    sched = await startScheduler();
    client = new BatchServiceClient(new BatchSharedKeyCredentials(sched.account, sched.key),
      sched.url);
    await client.pool.add(gpuPool(jobPool));
  });

  after(async () => {
    if (sched) {
      const status = await sched.stop();
      removeDir(sched.dataDir);
      assert.deepEqual(status, { code: 0, signal: null }, `SIGTERM exit; ${sched.describe()}`);
    }
  });

  test('prints its URL on stdout as it does in the ready file', { timeout: TEST_TIMEOUT }, async () => {
    await until(() => sched.output.includes(`openbatch-scheduler listening on ${sched.url}`),
      { timeoutMs: 5000, what: `the "listening on" line; output so far:\n${sched.output}` });
  });

  test('GPU pool: add, get, list, exists, delete', { timeout: TEST_TIMEOUT }, async () => {
    const id = 'gpu-pool-1';
    const added = await client.pool.add(gpuPool(id));
    assert.equal(added._response.status, 201);

    const pool = await client.pool.get(id);
    assert.equal(pool.id, id);
    assert.equal(pool.vmSize.toLowerCase(), 'standard_nc6');
    assert.equal(pool.state, 'active');
    assert.ok(pool.allocationState, 'allocationState is set');
    assert.ok(pool.eTag, 'eTag is set');
    assert.ok(pool.creationTime instanceof Date && !Number.isNaN(pool.creationTime.getTime()));
    assert.ok(pool.url.endsWith(`/pools/${id}`), `url ${pool.url}`);
    const vm = pool.virtualMachineConfiguration;
    assert.equal(vm.imageReference.publisher, 'canonical');
    assert.equal(vm.imageReference.offer, '0001-com-ubuntu-server-focal');
    assert.equal(vm.imageReference.sku, '20_04-lts');
    assert.equal(vm.nodeAgentSKUId, 'batch.node.ubuntu 20.04');
    assert.equal(pool.enableInterNodeCommunication, true);
    assert.equal(pool.taskSlotsPerNode, 1);
    assert.equal(pool.targetDedicatedNodes, 0);
    assert.equal(pool.startTask.commandLine, '/bin/sh -c "nvidia-smi -L"');
    assert.deepEqual(pool.startTask.userIdentity.autoUser, { scope: 'pool', elevationLevel: 'admin' });
    assert.equal(pool.startTask.waitForSuccess, true);
    assert.equal(pool.startTask.maxTaskRetryCount, 1);
    assert.deepEqual(pool.metadata, [{ name: 'suite', value: 'sdk.test.mjs' }]);
    assert.ok(!pool.applicationPackageReferences?.length, 'no package references');

    const { items } = await listAll(() => client.pool.list(), (l) => client.pool.listNext(l));
    assert.deepEqual(items.filter((p) => p.id === id).map((p) => p.vmSize.toLowerCase()),
      ['standard_nc6']);

    assert.equal((await client.pool.exists(id)).body, true);
    assert.equal((await client.pool.exists('GPU-POOL-1')).body, true, 'ids are case-insensitive');
    assert.equal((await client.pool.exists('no-such-pool')).body, false);

    const deleted = await client.pool.deleteMethod(id);
    assert.equal(deleted._response.status, 202);
    await until(async () => (await client.pool.exists(id)).body === false,
      { timeoutMs: 30000, intervalMs: 100, what: `pool ${id} to be gone` });
    await refused(client.pool.get(id), 404, 'PoolNotFound');
  });

  test('the pool in examples/pools/gpu-pool.json is accepted', { timeout: TEST_TIMEOUT }, async () => {
    const file = path.join(REPO_DIR, 'examples/pools/gpu-pool.json');
    const example = JSON.parse(readFileSync(file, 'utf8'));
    await client.pool.add({ ...example, id: 'example-gpu-pool' });
    const pool = await client.pool.get('example-gpu-pool');
    assert.equal(pool.targetDedicatedNodes, example.targetDedicatedNodes);
    assert.equal(pool.startTask.commandLine, example.startTask.commandLine);
    // Its node is being started (targetDedicatedNodes 1): let the resize settle, so the pool's
    // eTag no longer moves under the snapshots of the tests below.
    await until(async () => (await client.pool.get('example-gpu-pool')).allocationState === 'steady',
      { timeoutMs: 20000, what: 'example-gpu-pool steady' });
  });

  test('an unknown application package is refused with 409', { timeout: TEST_TIMEOUT }, async () => {
    const unchanged = await poolsSnapshot();
    const err = await refused(client.pool.add(gpuPool('unknown-app-pool', {
      applicationPackageReferences: [{ applicationId: 'no_such_app', version: '1.0' }],
    })), 409, 'InvalidApplicationPackageReferences');
    assert.ok(err.body?.message, 'error has a message');
    assert.deepEqual(await poolsSnapshot(), unchanged);
    assert.equal((await client.pool.exists('unknown-app-pool')).body, false);
  });

  test('a pool may reference an uploaded application package', { timeout: TEST_TIMEOUT }, async () => {
    // OpenBatch's stand-in for Azure's management plane: PUT the application, then PUT each
    // version's .zip, activated in the same step (here an empty archive: just the end-of-central-directory record).
    const created = await rawRequest(sched, { method: 'PUT', path: '/applications/gpu_driver',
      body: { displayName: 'GPU driver' } });
    assert.equal(created.status, 201, created.text);
    const emptyZip = Buffer.concat([Buffer.from('PK\x05\x06', 'latin1'), Buffer.alloc(18)]);
    const uploaded = await rawRequest(sched, { method: 'PUT',
      path: '/applications/gpu_driver/versions/535.104', body: emptyZip, query: { activate: true },
      headers: { 'content-type': 'application/zip' } });
    assert.equal(uploaded.status, 201, uploaded.text);
    const app = await client.application.get('gpu_driver');
    assert.deepEqual(app.versions, ['535.104']);
    assert.equal(app.displayName, 'GPU driver');

    const unchanged = await poolsSnapshot();
    await refused(client.pool.add(gpuPool('app-pool-bad-version', {
      applicationPackageReferences: [{ applicationId: 'gpu_driver', version: '999' }],
    })), 409, 'InvalidApplicationPackageReferences');
    assert.deepEqual(await poolsSnapshot(), unchanged);

    const refs = [{ applicationId: 'gpu_driver', version: '535.104' }];
    await client.pool.add(gpuPool('app-pool', { applicationPackageReferences: refs }));
    assert.deepEqual((await client.pool.get('app-pool')).applicationPackageReferences, refs);
  });

  test('duplicate pool ids are refused, whatever their case', { timeout: TEST_TIMEOUT }, async () => {
    const unchanged = await poolsSnapshot();
    await refused(client.pool.add(gpuPool(jobPool)), 409, 'PoolExists');
    await refused(client.pool.add(gpuPool(jobPool.toUpperCase())), 409, 'PoolExists');
    assert.deepEqual(await poolsSnapshot(), unchanged);
  });

  test('an unknown vmSize is refused as InvalidPropertyValue', { timeout: TEST_TIMEOUT }, async () => {
    const unchanged = await poolsSnapshot();
    const err = await refused(client.pool.add(gpuPool('bad-size', { vmSize: 'STANDARD_NOPE_V9' })),
      400, 'InvalidPropertyValue');
    assert.equal(errorDetail(err.body, 'PropertyName'), 'vmSize', JSON.stringify(err.body));
    assert.deepEqual(await poolsSnapshot(), unchanged);
  });

  test('a missing required property is refused as MissingRequiredProperty', { timeout: TEST_TIMEOUT }, async () => {
    const unchanged = await poolsSnapshot();
    const jobs = await jobsSnapshot();
    const { vmSize, ...noSize } = gpuPool('no-size');
    assert.ok(vmSize);
    const res = await rawRequest(sched, { method: 'POST', path: '/pools', body: noSize });
    const body = azureError(res, 400, 'MissingRequiredProperty');
    assert.equal(errorDetail(body, 'PropertyName'), 'vmSize', res.text);
    assert.ok(res.headers['request-id'], 'request-id header on errors');

    const noPoolInfo = await rawRequest(sched, { method: 'POST', path: '/jobs',
      body: { id: 'no-pool-info' } });
    assert.equal(errorDetail(azureError(noPoolInfo, 400, 'MissingRequiredProperty'), 'PropertyName'),
      'poolInfo', noPoolInfo.text);
    assert.deepEqual(await poolsSnapshot(), unchanged);
    assert.deepEqual(await jobsSnapshot(), jobs);
  });

  test('malformed JSON is refused as InvalidRequestBody', { timeout: TEST_TIMEOUT }, async () => {
    const pools = await poolsSnapshot();
    const jobs = await jobsSnapshot();
    const res = await rawRequest(sched, { method: 'POST', path: '/pools',
      body: '{"id": "half-pool", "vmSize": "STANDARD_NC6",' });
    azureError(res, 400, 'InvalidRequestBody');
    const res2 = await rawRequest(sched, { method: 'POST', path: '/jobs',
      body: '{"id": "j", "poolInfo": {"poolId": "p"}}}' });
    azureError(res2, 400, 'InvalidRequestBody');
    assert.deepEqual(await poolsSnapshot(), pools);
    assert.deepEqual(await jobsSnapshot(), jobs);
  });

  test('a wrong key is refused with 403 and creates nothing', { timeout: TEST_TIMEOUT }, async () => {
    const unchanged = await poolsSnapshot();
    const intruder = new BatchServiceClient(new BatchSharedKeyCredentials(sched.account, randomKey()),
      sched.url);
    await refused(intruder.pool.add(gpuPool('intruder-pool')), 403, 'AuthenticationFailed');
    await refused(intruder.pool.list(), 403, 'AuthenticationFailed');
    const raw = await rawRequest(sched, { method: 'POST', path: '/pools', key: randomKey(),
      body: gpuPool('intruder-pool') });
    azureError(raw, 403, 'AuthenticationFailed');
    const unsigned = await rawRequest(sched, { path: '/pools', sign: false });
    assert.ok([401, 403].includes(unsigned.status), `unsigned GET: ${unsigned.status} ${unsigned.text}`);
    assert.equal((await client.pool.exists('intruder-pool')).body, false);
    assert.deepEqual(await poolsSnapshot(), unchanged);
  });

  test('job: add, get, duplicate, terminate, delete', { timeout: TEST_TIMEOUT }, async () => {
    const id = 'sdk-job-1';
    const added = await client.job.add({ id, poolInfo: { poolId: jobPool }, priority: 10 });
    assert.equal(added._response.status, 201);
    const job = await client.job.get(id);
    assert.equal(job.id, id);
    assert.equal(job.state, 'active');
    assert.equal(job.priority, 10);
    assert.equal(job.poolInfo.poolId, jobPool);
    assert.ok(job.eTag && job.creationTime instanceof Date);

    const jobs = await jobsSnapshot();
    await refused(client.job.add({ id, poolInfo: { poolId: jobPool } }), 409, 'JobExists');
    await refused(client.job.add({ id: id.toUpperCase(), poolInfo: { poolId: jobPool } }), 409,
      'JobExists');
    assert.deepEqual(await jobsSnapshot(), jobs);

    const terminated = await client.job.terminate(id, { terminateReason: 'sdk test' });
    assert.equal(terminated._response.status, 202);
    const done = await until(async () => {
      const j = await client.job.get(id);
      return j.state === 'completed' ? j : undefined;
    }, { timeoutMs: 30000, intervalMs: 100, what: `job ${id} to complete` });
    assert.equal(done.executionInfo?.terminateReason, 'sdk test');
    await refused(client.task.add(id, { id: 'late', commandLine: 'true' }), 409, 'JobCompleted');

    const deleted = await client.job.deleteMethod(id);
    assert.equal(deleted._response.status, 202);
    await until(async () => {
      try {
        await client.job.get(id);
        return false;
      } catch (err) {
        if (err.statusCode === 404 && err.code === 'JobNotFound') return true;
        throw err;
      }
    }, { timeoutMs: 30000, intervalMs: 100, what: `job ${id} to be deleted` });
  });

  test('tasks: add, addCollection of 100, list across pages of 30', { timeout: TEST_TIMEOUT }, async () => {
    const jobId = 'sdk-task-job';
    await client.job.add({ id: jobId, poolInfo: { poolId: jobPool } });
    const added = await client.task.add(jobId, { id: 't-000', commandLine: '/bin/sh -c "echo 0"' });
    assert.equal(added._response.status, 201);
    const task = await client.task.get(jobId, 't-000');
    assert.equal(task.state, 'active');
    assert.equal(task.commandLine, '/bin/sh -c "echo 0"');

    const ids = Array.from({ length: 100 }, (_, i) => `t-${String(i + 1).padStart(3, '0')}`);
    const result = await client.task.addCollection(jobId,
      ids.map((id) => ({ id, commandLine: `/bin/sh -c "echo ${id}"` })));
    assert.equal(result._response.status, 200);
    assert.equal(result.value.length, 100);
    assert.deepEqual(result.value.filter((r) => r.status !== 'success'), []);
    assert.deepEqual(result.value.map((r) => r.taskId).sort(), ids);

    const { items, pages } = await listAll(
      () => client.task.list(jobId, { taskListOptions: { maxResults: 30 } }),
      (link) => client.task.listNext(link));
    for (const page of pages) assert.ok(page.length <= 30, `page of ${page.length}`);
    assert.ok(pages.length >= 4, `${pages.length} pages for 101 tasks of at most 30`);
    const seen = items.map((t) => t.id);
    assert.equal(new Set(seen).size, seen.length, 'no task listed twice');
    assert.deepEqual(seen.sort(), ['t-000', ...ids]);

    const tasks = await tasksSnapshot(jobId);
    await refused(client.task.add(jobId, { id: 't-000', commandLine: 'true' }), 409, 'TaskExists');
    await refused(client.task.add(jobId, { id: 'T-050', commandLine: 'true' }), 409, 'TaskExists');
    assert.deepEqual(await tasksSnapshot(jobId), tasks);
  });

  test('addCollection reports a duplicate per task and adds the rest', { timeout: TEST_TIMEOUT }, async () => {
    const jobId = 'sdk-dup-job';
    await client.job.add({ id: jobId, poolInfo: { poolId: jobPool } });
    await client.task.add(jobId, { id: 'dup', commandLine: 'true' });
    const result = await client.task.addCollection(jobId, [
      { id: 'dup', commandLine: 'true' }, { id: 'fresh', commandLine: 'true' }]);
    const byId = Object.fromEntries(result.value.map((r) => [r.taskId, r]));
    assert.equal(byId.fresh?.status, 'success', JSON.stringify(result.value));
    assert.equal(byId.dup?.status, 'clienterror', JSON.stringify(result.value));
    assert.equal(byId.dup?.error?.code, 'TaskExists', JSON.stringify(result.value));
    assert.deepEqual((await tasksSnapshot(jobId)).map((s) => s.split('|')[0]), ['dup', 'fresh']);
  });

  test('oversized and over-long task collections are refused', { timeout: TEST_TIMEOUT }, async () => {
    const jobId = 'sdk-limits-job';
    await client.job.add({ id: jobId, poolInfo: { poolId: jobPool } });
    await client.task.add(jobId, { id: 'keep', commandLine: 'true' });
    const unchanged = await tasksSnapshot(jobId);

    const big = { value: [{ id: 'big', commandLine: `echo ${'x'.repeat(2 * 1024 * 1024)}` }] };
    const tooLarge = await rawRequest(sched, { method: 'POST',
      path: `/jobs/${jobId}/addtaskcollection`, body: big });
    azureError(tooLarge, 413, 'RequestBodyTooLarge');

    const many = { value: Array.from({ length: 101 }, (_, i) => ({ id: `m-${i}`, commandLine: 'true' })) };
    const tooMany = await rawRequest(sched, { method: 'POST',
      path: `/jobs/${jobId}/addtaskcollection`, body: many });
    azureError(tooMany, 400);

    const badTask = await rawRequest(sched, { method: 'POST', path: `/jobs/${jobId}/tasks`,
      body: '{"id": "broken", "commandLine": ' });
    azureError(badTask, 400, 'InvalidRequestBody');
    const noCommand = await rawRequest(sched, { method: 'POST', path: `/jobs/${jobId}/tasks`,
      body: { id: 'no-command' } });
    assert.equal(errorDetail(azureError(noCommand, 400, 'MissingRequiredProperty'), 'PropertyName'),
      'commandLine', noCommand.text);

    assert.deepEqual(await tasksSnapshot(jobId), unchanged);
    // The connection-level refusals left the server healthy.
    assert.equal((await client.task.get(jobId, 'keep')).id, 'keep');
  });
});
