import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { bearerToken, queryToken, tokenMatches } from './auth.js';

const request = (authorization?: string) => ({ headers: { authorization } }) as IncomingMessage;

test('tokenMatches accepts only the exact token', () => {
  assert.equal(tokenMatches('secret-token', 'secret-token'), true);
  assert.equal(tokenMatches('secret-token', 'secret-tokeN'), false);
  assert.equal(tokenMatches('secret-token', 'secret'), false);
  assert.equal(tokenMatches('secret-token', ''), false);
  assert.equal(tokenMatches('secret-token', undefined), false);
});

test('bearer token is read from the Authorization header, any case of scheme', () => {
  assert.equal(bearerToken(request('Bearer abc')), 'abc');
  assert.equal(bearerToken(request('bearer   abc')), 'abc');
  assert.equal(bearerToken(request('Basic abc')), undefined);
  assert.equal(bearerToken(request()), undefined);
});

test('query token is read from ?token=', () => {
  assert.equal(queryToken(new URL('http://127.0.0.1/api/events?token=a%2Bb')), 'a+b');
  assert.equal(queryToken(new URL('http://127.0.0.1/api/events')), undefined);
});
