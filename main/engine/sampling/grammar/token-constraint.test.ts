import test from 'node:test';
import assert from 'node:assert/strict';
import { grammarFromJsonSchema, type JsonSchema } from './json-schema.js';
import { GrammarConstraint, TokenIndex } from './token-constraint.js';
import { createRandom } from '../random.js';

// A vocabulary shaped like a real BPE one: single characters, words with and without a
// leading space, JSON punctuation runs, and some tokens no grammar can use.
const PIECES = [
  ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)),
  ...['city', ' Paris', 'Paris', ' the', 'name', 'unit', 'celsius', 'fahrenheit', 'days', 'true', 'false', 'null', '123', '0', '.5', 'e-3'],
  ...['{"', '"}', '":', '",', ', "', '": "', '"]', '["', '},', '}}', '\n', '\\n', '\\u00e9', 'é', '日本'],
];
const texts = [...PIECES, undefined, undefined];
const EOS = texts.length;
const index = new TokenIndex([...texts, undefined]);

/** Deterministic uniform [0, 1) numbers (the sampler's mulberry32), so a failure can be replayed. */
function seededRandom(seed: number): () => number {
  const source = createRandom(seed);
  return () => source.next();
}

/** Generates with random logits (a model with random weights) under the schema's grammar. */
function generate(schema: JsonSchema, seed: number, maxTokens: number): string {
  const random = seededRandom(seed);
  const constraint = new GrammarConstraint(grammarFromJsonSchema(schema), index);
  let output = '';
  for (let step = 0; step < maxTokens; step++) {
    const logits = Float32Array.from({ length: EOS + 1 }, () => random() * 4);
    const token = constraint.pick(logits, {
      endTokens: [EOS],
      remainingTokens: maxTokens - step,
      sample: (values) => {
        // temperature-1 sampling over the given logits
        let total = 0;
        const weights = Array.from(values, (value) => (value === -Infinity ? 0 : Math.exp(value)));
        for (const weight of weights) total += weight;
        let target = random() * total;
        for (let id = 0; id < weights.length; id++) if ((target -= weights[id]!) <= 0) return id;
        return weights.length - 1;
      },
    });
    if (token === EOS) return output;
    constraint.accept(token);
    output += texts[token]!;
  }
  assert.ok(constraint.complete, `output "${output}" is complete within the budget`);
  return output;
}

const schema: JsonSchema = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    unit: { enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer' },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['city', 'unit'],
};

test('random logits under a schema always give JSON that fits it, within the token budget', () => {
  for (let seed = 1; seed <= 40; seed++) {
    for (const maxTokens of [24, 60]) {
      const output = generate(schema, seed, maxTokens);
      const value = JSON.parse(output) as Record<string, unknown>;
      assert.equal(typeof value.city, 'string', output);
      assert.ok(value.unit === 'celsius' || value.unit === 'fahrenheit', output);
      if ('days' in value) assert.ok(Number.isInteger(value.days), output);
      if ('tags' in value) assert.ok(Array.isArray(value.tags), output);
      assert.deepEqual(Object.keys(value).filter((key) => !['city', 'unit', 'days', 'tags'].includes(key)), []);
    }
  }
});

test('an end token is allowed only once the output is complete', () => {
  const constraint = new GrammarConstraint(grammarFromJsonSchema({ type: 'boolean' }), index);
  assert.ok(!constraint.allows(EOS, [EOS]));
  constraint.accept(PIECES.indexOf('true'));
  assert.ok(constraint.allows(EOS, [EOS]));
  assert.ok(!constraint.allows(PIECES.indexOf('0'), [EOS]));
  assert.deepEqual(constraint.allowedTokens([EOS]), [EOS]);
});
