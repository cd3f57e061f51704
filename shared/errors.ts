// Every error Tessera raises on purpose carries a stable code. Callers and tests branch on
// the code, never on the message; the API maps codes to HTTP statuses in one place.

export type ErrorCode =
  // configuration and command line
  | 'CLI_BAD_ARGUMENT'
  | 'PORT_IN_USE'
  | 'DATA_DIR_UNWRITABLE'
  // model files
  | 'GGUF_INVALID'
  | 'GGUF_TRUNCATED'
  | 'GGUF_UNSUPPORTED_VERSION'
  | 'MODEL_UNSUPPORTED_ARCHITECTURE'
  | 'MODEL_UNSUPPORTED_TENSOR_TYPE'
  | 'MODEL_MISSING_TENSOR'
  | 'MODEL_NOT_FOUND'
  | 'LAYER_RANGE_INVALID'
  | 'TOKENIZER_UNSUPPORTED'
  | 'CHAT_TEMPLATE_ERROR'
  // inference
  | 'CONTEXT_OVERFLOW'
  | 'ENGINE_CLOSED'
  | 'ENGINE_WORKER_FAILED'
  | 'GENERATION_ABORTED'
  // api
  | 'REQUEST_INVALID'
  | 'REQUEST_TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN_HOST'
  | 'NOT_FOUND'
  | 'QUEUE_FULL'
  | 'INTERNAL'
  // node data directory (identity, token files)
  | 'DATA_DIR_INVALID'
  | 'METHOD_NOT_ALLOWED'
  // compute kernels
  | 'KERNELS_NOT_BUILT'
  | 'KERNEL_OUT_OF_MEMORY'
  | 'KERNEL_BAD_ARGUMENT'
  // mesh
  | 'MESH_AUTH_FAILED'
  | 'MESH_PROTOCOL_MISMATCH'
  | 'MESH_FRAME_INVALID'
  | 'MESH_HANDSHAKE_TIMEOUT'
  | 'MESH_DUPLICATE_LINK'
  | 'MESH_STOPPED'
  | 'PEER_UNREACHABLE'
  | 'PLAN_NO_FIT'
  | 'JOIN_SECRET_INVALID'
  // pipeline inference over the mesh
  | 'PIPELINE_FAILED'
  | 'SHARD_LOAD_FAILED'
  // model store (downloads from the hub or a peer)
  | 'HUB_NOT_FOUND'
  | 'HUB_UNAUTHORIZED'
  | 'HUB_UNREACHABLE'
  | 'DOWNLOAD_HASH_MISMATCH'
  | 'DOWNLOAD_ABORTED'
  | 'DISK_FULL'
  | 'PEER_TRANSFER_FAILED'
  // split GGUF models (name-00001-of-00003.gguf …)
  | 'GGUF_SPLIT_PART_MISSING'
  | 'GGUF_SPLIT_INVALID';

export class TesseraError extends Error {
  override readonly name = 'TesseraError';

  /** The request field at fault, where there is one (OpenAI's `param`). */
  readonly param?: string;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; param?: string },
  ) {
    super(message, options);
    if (options?.param !== undefined) this.param = options.param;
  }
}

export function isTesseraError(value: unknown, code?: ErrorCode): value is TesseraError {
  return value instanceof TesseraError && (code === undefined || value.code === code);
}
