// Compiles a JSON Schema into a grammar whose sentences are exactly the JSON texts the schema
// accepts (for the subset below), so that sampling restricted by it always yields valid output.
//
// Supported: type (incl. arrays of types), properties + required (in schema order; optional
// ones may be left out), additionalProperties (only the listed properties are produced when
// there are any), items, minItems/maxItems, enum, const, anyOf/oneOf, allOf of one schema,
// $ref into #/$defs or #/definitions (recursion allowed), string minLength/maxLength, nullable.
// Unknown keywords (format, pattern, minimum, …) are not enforced. Output is compact JSON with
// an optional single space after ':' and ','.

import { TesseraError } from '../../../../shared/errors.js';
import { chars, GrammarBuilder, literal, type Element, type Grammar, type RuleElement, type Sequence } from './grammar.js';

export type JsonSchema = boolean | { readonly [key: string]: unknown };

/** Bounded repetitions are unrolled; past this they are left unbounded. */
const MAX_UNROLLED_REPEAT = 64;
const MAX_SCHEMA_DEPTH = 64;

const SPACE: Element[] = [chars([0x20, 0x20])];

export function grammarFromJsonSchema(schema: JsonSchema): Grammar {
  const compiler = new SchemaCompiler(schema);
  return compiler.builder.build(compiler.builder.define('root', [[compiler.document(schema)]]));
}

/** Any JSON value, for response_format json_object (an object at the top, as OpenAI requires). */
export function grammarForAnyJsonObject(): Grammar {
  const compiler = new SchemaCompiler({});
  return compiler.builder.build(compiler.builder.define('root', [[compiler.value({ type: 'object' }, 0)]]));
}

/** Builds grammars that embed schemas, e.g. a tool-call wrapper around each tool's parameters. */
export class SchemaCompiler {
  readonly builder = new GrammarBuilder();
  private schemaCount = 0;
  private rootCount = 0;

  constructor(private rootSchema: JsonSchema) {}

  /** An element matching a value of a whole schema document, its $refs resolved within it. */
  document(schema: JsonSchema): RuleElement {
    const previous = this.rootSchema;
    this.rootSchema = schema;
    this.rootCount++;
    try {
      return this.value(schema, 0);
    } finally {
      this.rootSchema = previous;
    }
  }

  /** An element matching one JSON value valid under `schema`. */
  value(schema: JsonSchema, depth: number): RuleElement {
    if (depth > MAX_SCHEMA_DEPTH) throw invalid('the schema nests too deeply');
    if (schema === true || (typeof schema === 'object' && Object.keys(schema).length === 0)) return this.anyValue();
    if (schema === false) throw invalid('a schema of `false` accepts nothing');
    const name = `schema${this.schemaCount++}`;
    return this.builder.define(name, this.alternatives(schema, depth));
  }

  private alternatives(schema: { readonly [key: string]: unknown }, depth: number): Sequence[] {
    if (typeof schema.$ref === 'string') return [[this.reference(schema.$ref, depth)]];
    if ('const' in schema) return [literal(JSON.stringify(schema.const))];
    if (Array.isArray(schema.enum)) {
      if (schema.enum.length === 0) throw invalid('enum has no values');
      return schema.enum.map((option) => literal(JSON.stringify(option)));
    }
    for (const key of ['anyOf', 'oneOf'] as const) {
      const options = schema[key];
      if (Array.isArray(options) && options.length > 0) return options.map((option) => [this.value(option as JsonSchema, depth + 1)]);
    }
    if (Array.isArray(schema.allOf) && schema.allOf.length === 1) return [[this.value(schema.allOf[0] as JsonSchema, depth + 1)]];

    const types = typeList(schema);
    if (types === undefined) {
      if (schema.properties !== undefined) return this.typed('object', schema, depth);
      if (schema.items !== undefined) return this.typed('array', schema, depth);
      return [[this.anyValue()]];
    }
    const alternatives = types.flatMap((type) => this.typed(type, schema, depth));
    if (schema.nullable === true && !types.includes('null')) alternatives.push(literal('null'));
    return alternatives;
  }

  private typed(type: string, schema: { readonly [key: string]: unknown }, depth: number): Sequence[] {
    switch (type) {
      case 'object':
        return [this.object(schema, depth)];
      case 'array':
        return this.array(schema, depth);
      case 'string':
        return [this.string(schema)];
      case 'number':
        return [[this.number()]];
      case 'integer':
        return [[this.integer()]];
      case 'boolean':
        return [literal('true'), literal('false')];
      case 'null':
        return [literal('null')];
      default:
        throw invalid(`unknown type "${type}"`);
    }
  }

  private object(schema: { readonly [key: string]: unknown }, depth: number): Sequence {
    const properties = schema.properties;
    if (properties === undefined || properties === null || typeof properties !== 'object' || Object.keys(properties).length === 0) {
      return schema.additionalProperties === false ? literal('{}') : [this.anyObject()];
    }
    const required = new Set(Array.isArray(schema.required) ? (schema.required as unknown[]).map(String) : []);
    const entries = Object.entries(properties as Record<string, JsonSchema>);
    const id = this.schemaCount++;
    // rest(i, comma): the properties from i on, `comma` when one was already written before.
    const rest = (i: number, comma: boolean): RuleElement => {
      const name = `object${id}_from${i}${comma ? '_comma' : ''}`;
      if (this.builder.has(name)) return { kind: 'rule', rule: this.builder.reserve(name) };
      this.builder.reserve(name);
      if (i === entries.length) return this.builder.define(name, [[]]);
      const [key, propertySchema] = entries[i]!;
      const pair: Element[] = [
        ...(comma ? [...literal(','), this.optionalSpace()] : []),
        ...literal(JSON.stringify(key)),
        ...literal(':'),
        this.optionalSpace(),
        this.value(propertySchema, depth + 1),
        rest(i + 1, true),
      ];
      const alternatives: Sequence[] = [pair];
      if (!required.has(key)) alternatives.push([rest(i + 1, comma)]);
      return this.builder.define(name, alternatives);
    };
    return [...literal('{'), rest(0, false), ...literal('}')];
  }

  private array(schema: { readonly [key: string]: unknown }, depth: number): Sequence[] {
    const item = schema.items === undefined ? this.anyValue() : this.value(schema.items as JsonSchema, depth + 1);
    const min = typeof schema.minItems === 'number' ? Math.max(0, Math.floor(schema.minItems)) : 0;
    const max = typeof schema.maxItems === 'number' ? Math.floor(schema.maxItems) : Infinity;
    if (max < min) throw invalid('maxItems is smaller than minItems');
    const separator = [...literal(','), this.optionalSpace()];
    const body = this.repeat(`array${this.schemaCount++}`, [item], separator, min, max);
    return [[...literal('['), body, ...literal(']')]];
  }

  private string(schema: { readonly [key: string]: unknown }): Sequence {
    const min = typeof schema.minLength === 'number' ? Math.max(0, Math.floor(schema.minLength)) : 0;
    const max = typeof schema.maxLength === 'number' ? Math.floor(schema.maxLength) : Infinity;
    if (min === 0 && max === Infinity) return [this.anyString()];
    const body = this.repeat(`string${this.schemaCount++}`, [this.stringChar()], [], min, max);
    return [...literal('"'), body, ...literal('"')];
  }

  /** `element` repeated between min and max times, with `separator` between repetitions. */
  private repeat(name: string, element: Sequence, separator: Sequence, min: number, max: number): RuleElement {
    if (min > MAX_UNROLLED_REPEAT || (max !== Infinity && max > MAX_UNROLLED_REPEAT)) max = Infinity;
    min = Math.min(min, MAX_UNROLLED_REPEAT);
    // tail: zero or more further "separator element" (at most `left` of them).
    const tail = (left: number): RuleElement => {
      const tailName = `${name}_tail${left === Infinity ? '' : left}`;
      if (this.builder.has(tailName)) return { kind: 'rule', rule: this.builder.reserve(tailName) };
      this.builder.reserve(tailName);
      if (left === 0) return this.builder.define(tailName, [[]]);
      return this.builder.define(tailName, [[...separator, ...element, tail(left === Infinity ? Infinity : left - 1)], []]);
    };
    const required: Element[] = [];
    for (let i = 0; i < min; i++) required.push(...(i > 0 ? separator : []), ...element);
    if (min === 0) {
      if (max === 0) return this.builder.define(name, [[]]);
      return this.builder.define(name, [[...element, tail(max === Infinity ? Infinity : max - 1)], []]);
    }
    return this.builder.define(name, [[...required, tail(max === Infinity ? Infinity : max - min)]]);
  }

  private reference(ref: string, depth: number): RuleElement {
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
    const root = this.rootSchema;
    if (match === null || typeof root !== 'object') throw invalid(`unsupported $ref "${ref}" (only #/$defs/… and #/definitions/…)`);
    const definitions = root[match[1]!] as Record<string, JsonSchema> | undefined;
    const key = decodeURIComponent(match[2]!).replace(/~1/g, '/').replace(/~0/g, '~');
    const target = definitions?.[key];
    if (target === undefined) throw invalid(`$ref "${ref}" points nowhere`);
    const name = `ref${this.rootCount}:${ref}`;
    if (this.builder.has(name)) return { kind: 'rule', rule: this.builder.reserve(name) };
    this.builder.reserve(name);
    return this.builder.define(name, [[this.value(target, depth + 1)]]);
  }

  private optionalSpace(): RuleElement {
    return this.builder.memo('space?', () => [SPACE, []]);
  }

  private stringChar(): RuleElement {
    return this.builder.memo('string-char', () => {
      const hex = chars([0x30, 0x39, 0x41, 0x46, 0x61, 0x66]);
      return [
        [chars([0x22, 0x22, 0x5c, 0x5c, 0x00, 0x1f], true)],
        [...literal('\\'), chars([0x22, 0x22, 0x5c, 0x5c, 0x2f, 0x2f, 0x62, 0x62, 0x66, 0x66, 0x6e, 0x6e, 0x72, 0x72, 0x74, 0x74])],
        [...literal('\\u'), hex, hex, hex, hex],
      ];
    });
  }

  anyString(): RuleElement {
    return this.builder.memo('string', () => {
      const chars = this.builder.memo('string-chars', () => [[this.stringChar(), { kind: 'rule', rule: this.builder.reserve('string-chars') }], []]);
      return [[...literal('"'), chars, ...literal('"')]];
    });
  }

  private integer(): RuleElement {
    return this.builder.memo('integer', () => {
      const digits = this.builder.memo('digits', () => [[chars([0x30, 0x39]), { kind: 'rule', rule: this.builder.reserve('digits') }], []]);
      const unsigned: Sequence[] = [literal('0'), [chars([0x31, 0x39]), digits]];
      const magnitude = this.builder.define('integer-magnitude', unsigned);
      return [[magnitude], [...literal('-'), magnitude]];
    });
  }

  private number(): RuleElement {
    return this.builder.memo('number', () => {
      const integer = this.integer();
      const digit = chars([0x30, 0x39]);
      const digits = { kind: 'rule', rule: this.builder.reserve('digits') } as const;
      const fraction = this.builder.define('fraction', [[...literal('.'), digit, digits], []]);
      const exponent = this.builder.define('exponent', [[chars([0x65, 0x65, 0x45, 0x45]), this.builder.define('sign', [literal('+'), literal('-'), []]), digit, digits], []]);
      return [[integer, fraction, exponent]];
    });
  }

  private anyObject(): RuleElement {
    return this.builder.memo('any-object', () => {
      const member: Sequence = [this.anyString(), ...literal(':'), this.optionalSpace(), this.anyValue()];
      const more = this.builder.memo('any-members', () => [[...literal(','), this.optionalSpace(), ...member, { kind: 'rule', rule: this.builder.reserve('any-members') }], []]);
      return [literal('{}'), [...literal('{'), ...member, more, ...literal('}')]];
    });
  }

  private anyArray(): RuleElement {
    return this.builder.memo('any-array', () => {
      const more = this.builder.memo('any-items', () => [[...literal(','), this.optionalSpace(), this.anyValue(), { kind: 'rule', rule: this.builder.reserve('any-items') }], []]);
      return [literal('[]'), [...literal('['), this.anyValue(), more, ...literal(']')]];
    });
  }

  anyValue(): RuleElement {
    const name = 'any-value';
    if (this.builder.has(name)) return { kind: 'rule', rule: this.builder.reserve(name) };
    this.builder.reserve(name);
    return this.builder.define(name, [
      [this.anyObject()],
      [this.anyArray()],
      [this.anyString()],
      [this.number()],
      literal('true'),
      literal('false'),
      literal('null'),
    ]);
  }
}

function typeList(schema: { readonly [key: string]: unknown }): string[] | undefined {
  if (typeof schema.type === 'string') return [schema.type];
  if (Array.isArray(schema.type)) return schema.type.map(String);
  return undefined;
}

function invalid(message: string): TesseraError {
  return new TesseraError('REQUEST_INVALID', `Unsupported JSON schema: ${message}`);
}
