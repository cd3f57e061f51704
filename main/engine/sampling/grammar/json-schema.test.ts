import test from 'node:test';
import assert from 'node:assert/strict';
import { grammarForAnyJsonObject, grammarFromJsonSchema, type JsonSchema } from './json-schema.js';
import { GrammarMatcher } from './matcher.js';

function accepts(schema: JsonSchema | 'any-object', text: string): boolean {
  const matcher = new GrammarMatcher(schema === 'any-object' ? grammarForAnyJsonObject() : grammarFromJsonSchema(schema));
  return matcher.canEnd(matcher.advanceText(matcher.initial(), text));
}

const weather: JsonSchema = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer' },
  },
  required: ['city'],
  additionalProperties: false,
};

test('objects: required and optional properties in order', () => {
  assert.ok(accepts(weather, '{"city":"Paris"}'));
  assert.ok(accepts(weather, '{"city": "Paris", "unit": "celsius"}'));
  assert.ok(accepts(weather, '{"city":"Paris","days":3}'));
  assert.ok(accepts(weather, '{"city":"P\\"a\\u00e9","unit":"fahrenheit","days":-12}'));
  assert.ok(!accepts(weather, '{}'), 'city is required');
  assert.ok(!accepts(weather, '{"unit":"celsius"}'));
  assert.ok(!accepts(weather, '{"city":"Paris","unit":"kelvin"}'), 'enum');
  assert.ok(!accepts(weather, '{"city":"Paris","days":1.5}'), 'integer');
  assert.ok(!accepts(weather, '{"city":"Paris","extra":1}'), 'no other properties');
  assert.ok(!accepts(weather, '{"city":"Paris"'), 'incomplete');
  assert.ok(!accepts(weather, '{"city":"Pa\nris"}'), 'raw control character');
});

test('arrays, nesting, anyOf, nullable types, const, $ref recursion', () => {
  const schema: JsonSchema = {
    type: 'object',
    properties: {
      tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3 },
      score: { type: ['number', 'null'] },
      kind: { const: 'node' },
      child: { $ref: '#/$defs/tree' },
      either: { anyOf: [{ type: 'boolean' }, { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] }] },
    },
    required: ['tags', 'score', 'kind'],
    $defs: { tree: { type: 'object', properties: { child: { $ref: '#/$defs/tree' } } } },
  };
  assert.ok(accepts(schema, '{"tags":["a"],"score":null,"kind":"node"}'));
  assert.ok(accepts(schema, '{"tags":["a","b","c"],"score":1.5e-3,"kind":"node","child":{"child":{}},"either":{"x":2}}'));
  assert.ok(accepts(schema, '{"tags":["a"],"score":0,"kind":"node","either":true}'));
  assert.ok(!accepts(schema, '{"tags":[],"score":null,"kind":"node"}'), 'minItems');
  assert.ok(!accepts(schema, '{"tags":["a","b","c","d"],"score":null,"kind":"node"}'), 'maxItems');
  assert.ok(!accepts(schema, '{"tags":["a"],"score":null,"kind":"leaf"}'), 'const');
  assert.ok(!accepts(schema, '{"tags":["a"],"score":01,"kind":"node"}'), 'leading zero');
});

test('json_object mode: any object, nothing else', () => {
  assert.ok(accepts('any-object', '{}'));
  assert.ok(accepts('any-object', '{"a": [1, {"b": null}], "c": "d"}'));
  assert.ok(!accepts('any-object', '[1]'));
  assert.ok(!accepts('any-object', '"text"'));
});

test('distance to the end counts the fewest characters that close the value', () => {
  const matcher = new GrammarMatcher(grammarFromJsonSchema(weather));
  assert.equal(matcher.distanceToEnd(matcher.advanceText(matcher.initial(), '{"city":"Par')), 2);
  assert.equal(matcher.distanceToEnd(matcher.initial()), '{"city":""}'.length);
  assert.equal(matcher.distanceToEnd(matcher.advanceText(matcher.initial(), '{"city":"x"}')), 0);
});

test('unsupported schemas are clear errors', () => {
  assert.throws(() => grammarFromJsonSchema({ $ref: 'http://example.com/schema' }), { code: 'REQUEST_INVALID' });
  assert.throws(() => grammarFromJsonSchema({ type: 'banana' }), { code: 'REQUEST_INVALID' });
});
