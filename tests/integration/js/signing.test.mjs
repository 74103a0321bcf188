// Checks the tests' own SharedKey signer (lib/sharedkey.mjs) against the worked examples of
// batch-api.md section 9 and against @azure/batch's BatchSharedKeyCredentials, so that a raw
// request refused by the scheduler is refused for what it carries, not for a bad signature.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { BatchSharedKeyCredentials } from '@azure/batch';
import { HttpHeaders, WebResource } from '@azure/ms-rest-js';

import { authorization, stringToSign } from './lib/sharedkey.mjs';

const account = 'myaccount';
const key = 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=';
const date = 'Fri, 17 Feb 2017 00:00:00 GMT';
const base = 'https://myaccount.westus.batch.azure.com';

describe('SharedKey signer', () => {
  test('example A: GET /pools with $filter and maxresults', () => {
    const request = {
      method: 'GET',
      url: `${base}/pools?api-version=2022-10-01.16.0&$filter=state%20eq%20%27active%27&maxresults=10`,
      headers: { 'content-type': 'application/json; charset=utf-8', 'ocp-date': date,
        'client-request-id': '9c4d50ee-2d56-4cd3-8152-34347dc9f2b0' },
    };
    assert.equal(stringToSign({ account, ...request }),
      'GET\n\n\n\n\napplication/json; charset=utf-8\n\n\n\n\n\n\nocp-date:' + date +
      "\n/myaccount/pools\n$filter:state eq 'active'\napi-version:2022-10-01.16.0\nmaxresults:10");
    assert.equal(authorization({ account, key, ...request }),
      'SharedKey myaccount:sxPlUHEjTLTAUf/5GpNysreuNVZjJVK+hN1CWFf0eYI=');
  });

  test('example B: POST a task with a 56-byte body', () => {
    const body = '{"id":"task1","commandLine":"/bin/sh -c \\"echo hello\\""}';
    assert.equal(Buffer.byteLength(body), 56);
    assert.equal(authorization({ account, key, method: 'POST',
      url: `${base}/jobs/job1/tasks?api-version=2022-10-01.16.0`, bodyLength: 56,
      headers: { 'content-type': 'application/json; odata=minimalmetadata; charset=utf-8',
        'ocp-date': date } }),
    'SharedKey myaccount:xMiOdHM62oNC63FTTp44BX8kMLeaSH45jUDdxYZKo0s=');
  });

  test('example C: a body-less POST signs Content-Length 0, sent or not', () => {
    const request = { method: 'POST', url: `${base}/jobs/job1/terminate?api-version=2022-10-01.16.0`,
      headers: { 'content-type': 'application/json; odata=minimalmetadata; charset=utf-8',
        'ocp-date': date } };
    assert.equal(authorization({ account, key, ...request }),
      'SharedKey myaccount:UQtY7JyeMlvNmQbe2ALx4+Icq9MBlHpa6rc8xIZrskU=');
    assert.equal(authorization({ account, key, ...request,
      headers: { ...request.headers, 'content-length': '0' } }),
    'SharedKey myaccount:UQtY7JyeMlvNmQbe2ALx4+Icq9MBlHpa6rc8xIZrskU=');
  });

  test('agrees with BatchSharedKeyCredentials.signRequest', async () => {
    const creds = new BatchSharedKeyCredentials(account, key);
    const cases = [
      { method: 'GET', url: `${base}/jobs/j-1/tasks?api-version=2022-10-01.16.0&maxresults=30`,
        type: 'application/json; charset=utf-8' },
      { method: 'HEAD', url: `${base}/pools/Gpu_Pool-1?api-version=2022-10-01.16.0&timeout=30`,
        type: 'application/json; charset=utf-8' },
      { method: 'POST', url: `${base}/jobs/j/addtaskcollection?api-version=2022-10-01.16.0`,
        type: 'application/json; odata=minimalmetadata; charset=utf-8',
        body: JSON.stringify({ value: [{ id: 'é-task', commandLine: 'echo ü' }] }) },
      { method: 'DELETE', url: `${base}/pools/p?api-version=2022-10-01.16.0`,
        type: 'application/json; charset=utf-8', extra: { 'ocp-range': 'bytes=0-9' } },
    ];
    for (const c of cases) {
      const headers = { 'Content-Type': c.type, 'ocp-date': date, ...(c.extra ?? {}) };
      const resource = new WebResource(c.url, c.method, c.body, undefined, new HttpHeaders(headers));
      await creds.signRequest(resource);
      const ours = authorization({ account, key, method: c.method, url: c.url, headers,
        bodyLength: c.body === undefined ? undefined : Buffer.byteLength(c.body) });
      assert.equal(ours, resource.headers.get('authorization'), `${c.method} ${c.url}`);
    }
  });
});
