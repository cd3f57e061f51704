// Counts the tokens a served model generates here, for the node's live tokens/s. The engine's own
// generate() is wrapped on the instance, not replaced by a proxy object: the cluster tells its
// pipeline drivers apart by identity (`model.engine === driver`), so the object must stay the same.
import type { GenerateEvent, GenerateRequest } from '../engine/index.js';

interface Generating {
  generate(request: GenerateRequest): AsyncGenerator<GenerateEvent>;
}

const metered = new WeakSet<object>();

/** Makes `engine.generate` call `onToken()` for each token event it yields; once per engine. */
export function meterGeneratedTokens(engine: Generating, onToken: () => void): void {
  if (metered.has(engine)) return;
  metered.add(engine);
  const generate = engine.generate.bind(engine);
  engine.generate = async function* (request: GenerateRequest): AsyncGenerator<GenerateEvent> {
    for await (const event of generate(request)) {
      if (event.type === 'token') onToken();
      yield event;
    }
  };
}
