// Errors in Ollama's shape: {"error": "<message>"} with an HTTP status; in a stream, one NDJSON
// line {"error": "..."}, which the ollama clients raise as an error.

import type { ErrorCode, TesseraError } from '../../../shared/errors.js';
import { httpMappingFor } from '../errors.js';

/** Ollama answers 503 when its request queue is full (OLLAMA_MAX_QUEUE). */
const OLLAMA_STATUS: Partial<Record<ErrorCode, number>> = { QUEUE_FULL: 503 };

export function ollamaStatus(error: TesseraError): number {
  return OLLAMA_STATUS[error.code] ?? httpMappingFor(error.code).status;
}

export function ollamaErrorBody(error: TesseraError): { error: string } {
  return { error: error.code === 'INTERNAL' ? 'internal server error' : error.message };
}
