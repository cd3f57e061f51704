// The mesh wire protocol: every message two nodes exchange after their Noise handshake.
// A message is a discriminated union on `type`. `encodeMeshMessage` turns one into a plaintext
// frame (the Noise channel encrypts it); `decodeMeshMessage` is the one place that validates a
// frame coming off the wire and returns the union. No Node imports here: the UI shares the types.
//
// Plaintext frame layout (all integers little-endian):
//   [0..4)   u32  total frame length in bytes, these 4 included (checked against MAX_FRAME_BYTES)
//   [4]      u8   kind: FRAME_KIND_JSON or FRAME_KIND_BINARY
//   JSON:    [5..)  UTF-8 JSON of one message (at most MAX_JSON_MESSAGE_BYTES)
//   BINARY:  [5..8)  reserved, zero
//            [8..12) u32 header length H (header JSON padded with spaces so the payload starts
//                    on an 8-byte boundary: a decoded f32/f16 payload can be viewed without a copy)
//            [12..12+H) UTF-8 JSON header (tensor or probe fields, without `data`)
//            [12+H..)   payload bytes
import { z } from 'zod';
import { deviceInfoSchema } from './control.js';

/** Bumped whenever a change would make an older node misread a newer one. */
export const MESH_PROTOCOL_VERSION = 1;
/**
 * Optional abilities a node lists in its hello. `tensor-f16`: it accepts hidden states as f16
 * (half the bytes per hop); a sender uses f16 only towards a node that announced it.
 * `model-files`: it answers model-file-info / model-file-read (an older node would close the link
 * on those messages, so they go only to nodes that announced this).
 */
export const MESH_FEATURES = { tensorF16: 'tensor-f16', modelFiles: 'model-files' } as const;

/** Default TCP port of the mesh WebSocket server (LAN-facing). */
export const DEFAULT_MESH_PORT = 7341;
/** Path the mesh WebSocket server answers on. */
export const MESH_WEBSOCKET_PATH = '/tessera-mesh';
/** mDNS service type nodes announce and browse. */
export const MESH_MDNS_SERVICE = '_tessera._tcp.local';

/** Largest plaintext frame, header included (64 MiB: a prefill chunk of 2048 tokens × 8192 f32 values). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Largest JSON message inside a frame (1 MiB; plans and topologies are far smaller). */
export const MAX_JSON_MESSAGE_BYTES = 1024 * 1024;
/** Largest header of a binary message (4 KiB). */
export const MAX_BINARY_HEADER_BYTES = 4096;
/** Longest id (node, sequence, plan, probe) accepted on the wire. */
export const MAX_ID_LENGTH = 128;
/** Most token ids in one `tokens` message. */
export const MAX_TOKENS_PER_MESSAGE = 65_536;
/** Most links or shards listed in one topology or plan. */
export const MAX_LIST_LENGTH = 4096;

export const FRAME_KIND_JSON = 1;
export const FRAME_KIND_BINARY = 2;
const FRAME_PREFIX_BYTES = 5;
const BINARY_HEADER_OFFSET = 12;

// ---- Building blocks ----------------------------------------------------------------------

const id = z.string().min(1).max(MAX_ID_LENGTH);
/** A file name in a node's model store: no path separators (the server checks again). */
const modelFileName = z.string().min(1).max(255).regex(/^[^/\\]+$/);
const count = z.number().int().nonnegative();
const finite = z.number().finite();

/** What a node tells its peers about its machine: the control API's device figures plus mesh facts. */
export const meshDeviceReportSchema = z.object({
  /** User-facing node name. */
  name: z.string().max(256),
  device: deviceInfoSchema,
  /** Memory this node offers the cluster: free memory capped by the user's `--memory-limit`. */
  offeredMemoryBytes: count,
  /**
   * Measured kernel throughput: bytes of quantized weights one matrix-vector pass streams per
   * second on this node (decode is bound by it). Null until the node has measured it.
   */
  kernelWeightBytesPerSecond: finite.positive().nullable(),
  /**
   * Tokens per second this node generated (or, as a shard of another node's pipeline, ran through
   * its layers) over the last few seconds; 0 when idle. Absent from older nodes.
   */
  tokensPerSecond: finite.nonnegative().optional(),
});
export type MeshDeviceReport = z.infer<typeof meshDeviceReportSchema>;

/** A link as one end measured it. */
export const meshLinkReportSchema = z.object({
  from: id,
  to: id,
  /** Round-trip time of heartbeats, ms (a moving average). */
  rttMs: finite.nonnegative(),
  /** Measured with a probe frame; null until measured. */
  bandwidthBytesPerSecond: finite.positive().nullable(),
  measuredAt: finite,
});
export type MeshLinkReport = z.infer<typeof meshLinkReportSchema>;

/** One contiguous layer range [layerStart, layerEnd) on one node. */
export const shardAssignmentSchema = z.object({
  nodeId: id,
  layerStart: count,
  layerEnd: count,
});
export type ShardAssignment = z.infer<typeof shardAssignmentSchema>;

/**
 * Which node runs which layers. `shards` are in layer order and are the ring's order: the head
 * embeds each token and sends its hidden state to shards[0]; each shard passes its output to the
 * next; the last shard is always the head itself, which also holds the output norm and head
 * and samples. One shard = one node, no hops.
 */
export const planSchema = z.object({
  headNodeId: id,
  shards: z.array(shardAssignmentSchema).min(1).max(MAX_LIST_LENGTH),
  /** Predicted seconds per decoded token (compute + hops). */
  predictedTokenSeconds: finite.nonnegative(),
  predictedComputeSeconds: finite.nonnegative(),
  predictedHopSeconds: finite.nonnegative(),
  /** Nodes that were offered but left out (too small, or they would slow the ring). */
  excludedNodeIds: z.array(id).max(MAX_LIST_LENGTH),
});
export type Plan = z.infer<typeof planSchema>;

/** f32/f16: hidden states; i32: token ids (hiddenSize 1) sent from the head to the first shard. */
export const tensorDtypeSchema = z.enum(['f32', 'f16', 'i32']);
export type TensorDtype = z.infer<typeof tensorDtypeSchema>;
export const TENSOR_DTYPE_BYTES: Record<TensorDtype, number> = { f32: 4, f16: 2, i32: 4 };

/** What a served model is, as its head node tells the other nodes (a subset of the engine's ModelInfo). */
export const servedModelInfoSchema = z.object({
  path: z.string().max(4096),
  name: z.string().max(1024).optional(),
  architecture: z.string().max(128),
  layers: z.tuple([count, count]),
  nLayers: count,
  dim: count,
  vocabSize: count,
  contextLength: count,
  trainedContextLength: count,
  isFirst: z.boolean(),
  isLast: z.boolean(),
  chatTemplate: z.string().max(256 * 1024).optional(),
  bosToken: z.string().max(256).optional(),
  eosToken: z.string().max(256).optional(),
  backend: z.string().max(128),
  threads: count,
  loadMs: finite.nonnegative(),
});
export type ServedModelInfo = z.infer<typeof servedModelInfoSchema>;

/**
 * A generation request forwarded to a model's head node (the engine's WorkerGenerateRequest).
 * `sampling` and `grammar` are checked by the head's sampler and grammar, which own their shapes.
 */
export const remoteGenerateRequestSchema = z.object({
  prompt: z.string().max(MAX_JSON_MESSAGE_BYTES).optional(),
  tokens: z.array(count).max(MAX_TOKENS_PER_MESSAGE).optional(),
  addBos: z.boolean().optional(),
  sequence: id.optional(),
  sampling: z.record(z.string(), z.unknown()).optional(),
  maxTokens: count.optional(),
  stop: z.array(z.string().max(1024)).max(64).optional(),
  grammar: z.unknown().optional(),
  keepControlTokens: z.array(z.string().max(256)).max(64).optional(),
});

const tokenLogprobsSchema = z.object({
  text: z.string(),
  bytes: z.array(count),
  logprob: finite,
  top: z.array(z.object({ text: z.string(), bytes: z.array(count), logprob: finite })).max(64),
});

/** One event of a forwarded generation (the engine's GenerateEvent). */
export const remoteGenerateEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('token'), token: count, text: z.string(), logprobs: tokenLogprobsSchema.optional() }),
  z.object({
    type: z.literal('done'),
    finishReason: z.enum(['stop', 'length']),
    stopSequence: z.string().optional(),
    text: z.string(),
    usage: z.object({ promptTokens: count, cachedPromptTokens: count, completionTokens: count }),
    timing: z.object({ prefillMs: finite, decodeMs: finite, prefillTokensPerSecond: finite, decodeTokensPerSecond: finite }),
  }),
]);

// ---- JSON messages --------------------------------------------------------------------------

export const meshJsonMessageSchema = z.discriminatedUnion('type', [
  /** First message each side sends on a fresh link. */
  z.object({
    type: z.literal('hello'),
    protocolVersion: z.number().int(),
    /** Must equal nodeIdFromPublicKey(the sender's Noise static key). */
    nodeId: id,
    name: z.string().max(256),
    /** Port the sender's mesh server listens on (0 when it does not listen). */
    meshPort: z.number().int().min(0).max(65535),
    /**
     * Optional abilities beyond the version's baseline (see MESH_FEATURES). Absent from older
     * nodes, which a sender then treats as having none (e.g. it sends them f32 hidden states).
     */
    features: z.array(z.string().max(64)).max(64).optional(),
  }),
  z.object({ type: z.literal('device'), report: meshDeviceReportSchema }),
  /** The sender's own links, so every node can see the whole cluster. */
  z.object({ type: z.literal('topology'), links: z.array(meshLinkReportSchema).max(MAX_LIST_LENGTH) }),
  z.object({ type: z.literal('plan'), planId: id, modelId: id, plan: planSchema }),
  /** Asks the receiver to load layers [layerStart, layerEnd) of a model for a plan. */
  z.object({
    type: z.literal('shard-load'),
    planId: id,
    modelId: id,
    layerStart: count,
    layerEnd: count,
    /** Where the sender has the file; the receiver tries it, then `<its data dir>/models/<modelId>.gguf`. */
    path: z.string().max(4096).optional(),
    /** KV cache positions per sequence, so every shard agrees with the head. */
    contextLength: z.number().int().positive().optional(),
  }),
  /** Frees the receiver's shard of a plan (the plan was replaced or its model unloaded). */
  z.object({ type: z.literal('shard-unload'), planId: id }),
  /** The sender is the head of a model it serves: any node may forward requests for it there. */
  z.object({ type: z.literal('model-announce'), modelId: id, planId: id, info: servedModelInfoSchema }),
  z.object({ type: z.literal('model-withdraw'), modelId: id }),
  /** Runs a generation on the receiver (the model's head); answered with generate-event or error. */
  z.object({ type: z.literal('generate'), requestId: id, modelId: id, request: remoteGenerateRequestSchema }),
  z.object({ type: z.literal('generate-event'), requestId: id, event: remoteGenerateEventSchema }),
  z.object({ type: z.literal('generate-cancel'), requestId: id }),
  z.object({
    type: z.literal('shard-status'),
    planId: id,
    modelId: id,
    layerStart: count,
    layerEnd: count,
    state: z.enum(['loading', 'ready', 'failed', 'unloaded']),
    /** 0..1 while loading. */
    progress: z.number().min(0).max(1),
    error: z.string().max(4096).optional(),
    /** Weight bytes read so far and in all, when the engine reports them. Absent from older nodes. */
    loadedBytes: count.optional(),
    totalBytes: count.optional(),
  }),
  /** Sampled tokens of a sequence (head → the node that asked). */
  z.object({
    type: z.literal('tokens'),
    sequenceId: id,
    tokens: z.array(count).max(MAX_TOKENS_PER_MESSAGE),
    done: z.boolean(),
  }),
  z.object({
    type: z.literal('error'),
    /** A TesseraError code, e.g. MESH_PROTOCOL_MISMATCH. */
    code: z.string().max(64),
    message: z.string().max(4096),
    sequenceId: id.optional(),
  }),
  z.object({ type: z.literal('ping'), seq: count, sentAt: finite }),
  /** Echoes the ping's seq and sentAt so the pinger measures RTT on its own clock. */
  z.object({ type: z.literal('pong'), seq: count, sentAt: finite, repliedAt: finite }),
  z.object({ type: z.literal('probe-ack'), probeId: id, bytes: count }),
  /** Asks whether the receiver holds a model file by name; answered with model-file-found or -missing. */
  z.object({ type: z.literal('model-file-info'), requestId: id, name: modelFileName }),
  /** Asks for bytes [start, end) of a file; answered with model-file-data frames (or model-file-missing). */
  z.object({ type: z.literal('model-file-read'), requestId: id, name: modelFileName, start: count, end: count }),
  z.object({
    type: z.literal('model-file-found'),
    requestId: id,
    sizeBytes: count,
    /** sha256 (hex) of the whole file as the sender holds it. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  z.object({ type: z.literal('model-file-missing'), requestId: id, message: z.string().max(4096) }),
]);
export type MeshJsonMessage = z.infer<typeof meshJsonMessageSchema>;

// ---- Binary messages ------------------------------------------------------------------------

export const tensorHeaderSchema = z.object({
  type: z.literal('tensor'),
  sequenceId: id,
  /** Position of the first token in the sequence. */
  position: count,
  tokenCount: z.number().int().positive(),
  hiddenSize: z.number().int().positive(),
  dtype: tensorDtypeSchema,
  /** The first layer the receiver is to run on these hidden states. */
  layer: count,
  /** The plan whose ring this step runs through. */
  planId: id,
  /** Sequence numbers of one step's chunks: the head knows a step is complete when the last arrives. */
  chunk: count,
  chunks: z.number().int().positive(),
  /** The head's step counter: an output of an abandoned step is told apart from the current one. */
  step: count,
});
export const probeHeaderSchema = z.object({ type: z.literal('probe'), probeId: id });
/** One piece of a model-file-read answer; `last` marks the final piece of that request. */
export const modelFileDataHeaderSchema = z.object({
  type: z.literal('model-file-data'),
  requestId: id,
  last: z.boolean(),
  /** sha256 (hex) of this piece's bytes as the sender read them from its disk; the receiver checks it. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
});
export const binaryHeaderSchema = z.discriminatedUnion('type', [tensorHeaderSchema, probeHeaderSchema, modelFileDataHeaderSchema]);
export type TensorHeader = z.infer<typeof tensorHeaderSchema>;
export type ProbeHeader = z.infer<typeof probeHeaderSchema>;
export type ModelFileDataHeader = z.infer<typeof modelFileDataHeaderSchema>;

/** Hidden states of `tokenCount` tokens, row-major [tokenCount][hiddenSize], little-endian. */
export type TensorMessage = TensorHeader & { data: Uint8Array };
/** Filler bytes for measuring a link's bandwidth; answered with `probe-ack`. */
export type ProbeMessage = ProbeHeader & { data: Uint8Array };
/** Bytes of a model file sent to a peer (at most a few MiB per frame). */
export type ModelFileDataMessage = ModelFileDataHeader & { data: Uint8Array };
export type MeshBinaryMessage = TensorMessage | ProbeMessage | ModelFileDataMessage;

export type MeshMessage = MeshJsonMessage | MeshBinaryMessage;
export type MeshMessageType = MeshMessage['type'];
export type MeshMessageOf<T extends MeshMessageType> = Extract<MeshMessage, { type: T }>;

/** Error thrown by decode/encode; the mesh turns it into a MESH_FRAME_INVALID close. */
export class MeshFrameError extends Error {
  override readonly name = 'MeshFrameError';
}

export function isBinaryMessage(message: MeshMessage): message is MeshBinaryMessage {
  return message.type === 'tensor' || message.type === 'probe' || message.type === 'model-file-data';
}

/** Bytes a tensor message's payload must have. */
export function tensorPayloadBytes(header: Pick<TensorHeader, 'tokenCount' | 'hiddenSize' | 'dtype'>): number {
  return header.tokenCount * header.hiddenSize * TENSOR_DTYPE_BYTES[header.dtype];
}

// ---- Encode / decode ------------------------------------------------------------------------

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export function encodeMeshMessage(message: MeshMessage): Uint8Array {
  if (isBinaryMessage(message)) return encodeBinary(message);
  const json = textEncoder.encode(JSON.stringify(message));
  if (json.byteLength > MAX_JSON_MESSAGE_BYTES) {
    throw new MeshFrameError(`${message.type} message is ${json.byteLength} bytes, over MAX_JSON_MESSAGE_BYTES`);
  }
  const frame = new Uint8Array(FRAME_PREFIX_BYTES + json.byteLength);
  new DataView(frame.buffer).setUint32(0, frame.byteLength, true);
  frame[4] = FRAME_KIND_JSON;
  frame.set(json, FRAME_PREFIX_BYTES);
  return frame;
}

function encodeBinary(message: MeshBinaryMessage): Uint8Array {
  const { data, ...header } = message;
  if (message.type === 'tensor' && data.byteLength !== tensorPayloadBytes(message)) {
    throw new MeshFrameError(`tensor payload is ${data.byteLength} bytes, header says ${tensorPayloadBytes(message)}`);
  }
  let headerJson = JSON.stringify(header);
  const unpadded = BINARY_HEADER_OFFSET + textEncoder.encode(headerJson).byteLength;
  headerJson += ' '.repeat((8 - (unpadded % 8)) % 8);
  const headerBytes = textEncoder.encode(headerJson);
  if (headerBytes.byteLength > MAX_BINARY_HEADER_BYTES) throw new MeshFrameError('binary message header too large');
  const total = BINARY_HEADER_OFFSET + headerBytes.byteLength + data.byteLength;
  if (total > MAX_FRAME_BYTES) throw new MeshFrameError(`${message.type} frame is ${total} bytes, over MAX_FRAME_BYTES`);
  const frame = new Uint8Array(total);
  const view = new DataView(frame.buffer);
  view.setUint32(0, total, true);
  frame[4] = FRAME_KIND_BINARY;
  view.setUint32(8, headerBytes.byteLength, true);
  frame.set(headerBytes, BINARY_HEADER_OFFSET);
  frame.set(data, BINARY_HEADER_OFFSET + headerBytes.byteLength);
  return frame;
}

/**
 * Validates one plaintext frame and returns its message. Throws MeshFrameError on anything
 * malformed: wrong length, unknown kind, bad UTF-8 or JSON, a message that fails its schema, or a
 * tensor whose payload size does not match its header. A binary message's `data` is a view into
 * `frame` (no copy).
 */
export function decodeMeshMessage(frame: Uint8Array): MeshMessage {
  if (frame.byteLength < FRAME_PREFIX_BYTES) throw new MeshFrameError('frame shorter than its prefix');
  if (frame.byteLength > MAX_FRAME_BYTES) throw new MeshFrameError('frame over MAX_FRAME_BYTES');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== frame.byteLength) throw new MeshFrameError('frame length field does not match');
  const kind = frame[4];
  if (kind === FRAME_KIND_JSON) {
    if (frame.byteLength - FRAME_PREFIX_BYTES > MAX_JSON_MESSAGE_BYTES) throw new MeshFrameError('JSON message too large');
    return parseWith(meshJsonMessageSchema, parseJson(frame.subarray(FRAME_PREFIX_BYTES)));
  }
  if (kind !== FRAME_KIND_BINARY) throw new MeshFrameError(`unknown frame kind ${kind}`);
  if (frame.byteLength < BINARY_HEADER_OFFSET) throw new MeshFrameError('binary frame shorter than its header');
  const headerLength = view.getUint32(8, true);
  if (headerLength > MAX_BINARY_HEADER_BYTES || BINARY_HEADER_OFFSET + headerLength > frame.byteLength) {
    throw new MeshFrameError('binary header length out of range');
  }
  const headerEnd = BINARY_HEADER_OFFSET + headerLength;
  const header = parseWith(binaryHeaderSchema, parseJson(frame.subarray(BINARY_HEADER_OFFSET, headerEnd)));
  const data = frame.subarray(headerEnd);
  if (header.type === 'tensor' && data.byteLength !== tensorPayloadBytes(header)) {
    throw new MeshFrameError(`tensor payload is ${data.byteLength} bytes, header says ${tensorPayloadBytes(header)}`);
  }
  return { ...header, data };
}

/**
 * Reads only the protocol version of a hello, so a node speaking another version is recognised
 * (and told so) even where the rest of its hello would not validate against this version.
 * Returns undefined when the frame is not a hello at all.
 */
export function peekHelloVersion(frame: Uint8Array): number | undefined {
  try {
    if (frame.byteLength < FRAME_PREFIX_BYTES || frame[4] !== FRAME_KIND_JSON) return undefined;
    const value = parseJson(frame.subarray(FRAME_PREFIX_BYTES)) as { type?: unknown; protocolVersion?: unknown };
    if (value?.type !== 'hello' || typeof value.protocolVersion !== 'number') return undefined;
    return value.protocolVersion;
  } catch {
    return undefined;
  }
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(textDecoder.decode(bytes));
  } catch (error) {
    throw new MeshFrameError(`frame is not valid UTF-8 JSON: ${(error as Error).message}`);
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new MeshFrameError(`invalid message: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return result.data;
}

/** Exhaustiveness check for every `switch` on a message `type`. */
export function assertNeverMessage(message: never): never {
  throw new MeshFrameError(`unhandled mesh message ${JSON.stringify((message as { type?: unknown })?.type)}`);
}
