// Errors in OpenAI's shape: {"error": {"message", "type", "param", "code"}}, with the status and
// code a client of OpenAI's API expects for each of ours.

import type { TesseraError, ErrorCode } from '../../../shared/errors.js';
import { httpMappingFor } from '../errors.js';

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const OPENAI_CODES: Partial<Record<ErrorCode, string>> = {
  MODEL_NOT_FOUND: 'model_not_found',
  CONTEXT_OVERFLOW: 'context_length_exceeded',
  UNAUTHORIZED: 'invalid_api_key',
  QUEUE_FULL: 'rate_limit_exceeded',
  REQUEST_TOO_LARGE: 'request_too_large',
  REQUEST_INVALID: 'invalid_request',
  NOT_FOUND: 'not_found',
  METHOD_NOT_ALLOWED: 'method_not_allowed',
};

/** HTTP statuses that differ from the control API's mapping. */
const OPENAI_STATUS: Partial<Record<ErrorCode, number>> = {
  QUEUE_FULL: 429,
};

export function openAIStatus(error: TesseraError): number {
  return OPENAI_STATUS[error.code] ?? httpMappingFor(error.code).status;
}

export function openAIErrorBody(error: TesseraError): OpenAIErrorBody {
  const type = error.code === 'QUEUE_FULL' ? 'rate_limit_error' : httpMappingFor(error.code).type;
  const message = error.code === 'INTERNAL' ? 'The server had an error while processing your request.' : error.message;
  return { error: { message, type, param: error.param ?? null, code: OPENAI_CODES[error.code] ?? error.code.toLowerCase() } };
}
