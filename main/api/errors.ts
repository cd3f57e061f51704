// One place that maps an ErrorCode to its HTTP status and an OpenAI-style error `type`, and
// turns anything thrown in a route into a JSON error body.
import type { ApiErrorBody } from '../../shared/control.js';
import { TesseraError, type ErrorCode } from '../../shared/errors.js';

interface HttpMapping {
  status: number;
  type: string;
}

const CLIENT_ERROR: HttpMapping = { status: 400, type: 'invalid_request_error' };
const SERVER_ERROR: HttpMapping = { status: 500, type: 'server_error' };

/** Codes the HTTP layer meets; anything else is a 500 unless it is a client error listed here. */
const HTTP_MAPPINGS: Partial<Record<ErrorCode, HttpMapping>> = {
  REQUEST_INVALID: CLIENT_ERROR,
  CLI_BAD_ARGUMENT: CLIENT_ERROR,
  LAYER_RANGE_INVALID: CLIENT_ERROR,
  CONTEXT_OVERFLOW: CLIENT_ERROR,
  // A model file the request names (import, load) that is not a usable GGUF: the caller's to fix.
  GGUF_INVALID: CLIENT_ERROR,
  GGUF_TRUNCATED: CLIENT_ERROR,
  GGUF_UNSUPPORTED_VERSION: CLIENT_ERROR,
  GGUF_SPLIT_PART_MISSING: CLIENT_ERROR,
  GGUF_SPLIT_INVALID: CLIENT_ERROR,
  REQUEST_TOO_LARGE: { status: 413, type: 'invalid_request_error' },
  UNAUTHORIZED: { status: 401, type: 'authentication_error' },
  FORBIDDEN_HOST: { status: 403, type: 'permission_error' },
  NOT_FOUND: { status: 404, type: 'not_found_error' },
  MODEL_NOT_FOUND: { status: 404, type: 'not_found_error' },
  METHOD_NOT_ALLOWED: { status: 405, type: 'invalid_request_error' },
  QUEUE_FULL: { status: 503, type: 'server_error' },
  GENERATION_ABORTED: { status: 499, type: 'server_error' },
};

export function httpMappingFor(code: ErrorCode): HttpMapping {
  return HTTP_MAPPINGS[code] ?? SERVER_ERROR;
}

/** Any thrown value as a TesseraError; unknown failures become INTERNAL without leaking details. */
export function asTesseraError(error: unknown): TesseraError {
  if (error instanceof TesseraError) return error;
  return new TesseraError('INTERNAL', 'internal server error', { cause: error });
}

export function errorBody(error: TesseraError): ApiErrorBody {
  return { error: { code: error.code, type: httpMappingFor(error.code).type, message: error.message } };
}
