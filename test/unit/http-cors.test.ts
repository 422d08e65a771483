import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { corsHeaders } from '../../src/core/http-cors.js';

const request = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;

test('CORS answers Private Network Access with the response header, not the request header', () => {
  const h = corsHeaders(request({ origin: 'http://example.com', 'access-control-request-private-network': 'true' }), true);
  assert.equal(h['Access-Control-Allow-Private-Network'], 'true');
  assert.equal(h['Access-Control-Request-Private-Network'], undefined);
  assert.equal(h['Access-Control-Allow-Origin'], '*');
});

test('CORS: no headers without an Origin or when crossdomain is off', () => {
  assert.deepEqual(corsHeaders(request({}), true), {});
  assert.deepEqual(corsHeaders(request({ origin: 'http://example.com' }), false), {});
});
