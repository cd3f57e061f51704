import assert from 'node:assert/strict';
import { test } from 'node:test';
import { takeTokenFromUrl } from './token-url.js';

test('the token is taken out of the URL, other parts kept', () => {
  assert.deepEqual(takeTokenFromUrl('http://127.0.0.1:7340/?token=abc'), { token: 'abc', cleanedUrl: '/' });
  assert.deepEqual(takeTokenFromUrl('http://127.0.0.1:7340/chat?x=1&token=abc#top'), { token: 'abc', cleanedUrl: '/chat?x=1#top' });
  assert.deepEqual(takeTokenFromUrl('http://127.0.0.1:7340/devices'), { token: undefined, cleanedUrl: '/devices' });
});
