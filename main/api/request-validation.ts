// A request body checked against its zod schema: the data, or REQUEST_INVALID naming the first
// field at fault (`param`), as every dialect reports a malformed body.
import type { z } from 'zod';
import { TesseraError } from '../../shared/errors.js';

/** The parsed body, or a REQUEST_INVALID whose message starts with `prefix` (OpenAI's "Invalid request: "). */
export function validBody<T>(result: z.ZodSafeParseResult<T>, prefix = ''): T {
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue?.path.map(String).join('.') ?? '';
  throw new TesseraError('REQUEST_INVALID', `${prefix}${param ? `${param}: ` : ''}${issue?.message ?? 'invalid request'}`, param ? { param } : {});
}
