// Ready-made tool definitions for the tools panel, and the built-in demo answers for them, so a
// tool call can be answered with one click. The weather is made up (and says so): it is a demo.
import { calculate } from './calculator.js';

export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments, as text (the user edits it). */
  parameters: string;
  enabled: boolean;
}

const schema = (value: unknown) => JSON.stringify(value, null, 2);

export const EXAMPLE_TOOLS: readonly ToolDefinition[] = [
  {
    name: 'get_weather',
    description: 'Current weather for a city.',
    parameters: schema({
      type: 'object',
      properties: { city: { type: 'string', description: 'City name' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
    }),
    enabled: true,
  },
  {
    name: 'calculator',
    description: 'Evaluates an arithmetic expression (+ - * / ^ % and parentheses).',
    parameters: schema({ type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] }),
    enabled: true,
  },
  {
    name: 'get_time',
    description: 'The current date and time in a time zone.',
    parameters: schema({ type: 'object', properties: { timezone: { type: 'string', description: 'IANA zone, e.g. Europe/Paris' } }, required: [] }),
    enabled: true,
  },
];

/** Names the demo can answer. */
export function hasDemoAnswer(name: string): boolean {
  return name === 'get_weather' || name === 'calculator' || name === 'get_time';
}

/** The demo tool's result for a call, as the JSON text sent back in the `tool` message. */
export function demoAnswer(name: string, argumentsText: string, now = new Date()): string {
  let args: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(argumentsText || '{}');
    if (parsed && typeof parsed === 'object') args = parsed as Record<string, unknown>;
  } catch {
    return JSON.stringify({ error: 'arguments are not valid JSON' });
  }
  switch (name) {
    case 'calculator':
      try {
        return JSON.stringify({ result: calculate(String(args.expression ?? '')) });
      } catch (error) {
        return JSON.stringify({ error: (error as Error).message });
      }
    case 'get_weather': {
      const city = String(args.city ?? 'unknown');
      // Same city, same (invented) weather: a stable hash of the name.
      let hash = 0;
      for (const character of city.toLowerCase()) hash = (hash * 31 + character.charCodeAt(0)) >>> 0;
      const celsius = (hash % 35) - 5;
      const unit = args.unit === 'fahrenheit' ? 'fahrenheit' : 'celsius';
      const conditions = ['sunny', 'cloudy', 'light rain', 'windy', 'clear'][hash % 5];
      return JSON.stringify({ city, temperature: unit === 'celsius' ? celsius : Math.round(celsius * 1.8 + 32), unit, conditions, note: 'demo data' });
    }
    case 'get_time': {
      const timezone = typeof args.timezone === 'string' && args.timezone ? args.timezone : 'UTC';
      try {
        return JSON.stringify({ timezone, time: now.toLocaleString('en-GB', { timeZone: timezone }) });
      } catch {
        return JSON.stringify({ error: `unknown time zone ${timezone}` });
      }
    }
    default:
      return JSON.stringify({ error: `no demo for ${name}` });
  }
}
