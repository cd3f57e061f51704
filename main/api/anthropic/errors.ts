// Errors in Anthropic's shape: {"type": "error", "error": {"type", "message"}}, with the HTTP
// status Anthropic's API gives each kind (the SDKs pick their error class from the status).

import type { ErrorCode, TesseraError } from '../../../shared/errors.js';

export type AnthropicErrorBody = {
  type: 'error';
  error: { type: string; message: string };
};

const ANTHROPIC_ERRORS: Partial<Record<ErrorCode, { status: number; type: string }>> = {
  REQUEST_INVALID: { status: 400, type: 'invalid_request_error' },
  CONTEXT_OVERFLOW: { status: 400, type: 'invalid_request_error' },
  METHOD_NOT_ALLOWED: { status: 405, type: 'invalid_request_error' },
  UNAUTHORIZED: { status: 401, type: 'authentication_error' },
  FORBIDDEN_HOST: { status: 403, type: 'permission_error' },
  NOT_FOUND: { status: 404, type: 'not_found_error' },
  MODEL_NOT_FOUND: { status: 404, type: 'not_found_error' },
  REQUEST_TOO_LARGE: { status: 413, type: 'request_too_large' },
  QUEUE_FULL: { status: 429, type: 'rate_limit_error' },
};

const API_ERROR = { status: 500, type: 'api_error' };

export function anthropicStatus(error: TesseraError): number {
  return (ANTHROPIC_ERRORS[error.code] ?? API_ERROR).status;
}

export function anthropicErrorBody(error: TesseraError): AnthropicErrorBody {
  const message = error.code === 'INTERNAL' ? 'Internal server error' : error.message;
  return { type: 'error', error: { type: (ANTHROPIC_ERRORS[error.code] ?? API_ERROR).type, message } };
}
