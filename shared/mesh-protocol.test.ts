import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_JSON_MESSAGE_BYTES,
  MESH_PROTOCOL_VERSION,
  MeshFrameError,
  decodeMeshMessage,
  encodeMeshMessage,
  peekHelloVersion,
  type MeshMessage,
} from './mesh-protocol.js';

const isFrameError = (error: unknown) => error instanceof MeshFrameError;

describe('mesh protocol', () => {
  it('round-trips JSON messages', () => {
    const messages: MeshMessage[] = [
      { type: 'hello', protocolVersion: MESH_PROTOCOL_VERSION, nodeId: 'ab', name: 'desk', meshPort: 7341 },
      { type: 'tokens', sequenceId: 's', tokens: [1, 2, 3], done: true },
      { type: 'ping', seq: 3, sentAt: 1.5 },
      { type: 'error', code: 'PLAN_NO_FIT', message: 'no' },
      { type: 'plan', planId: 'p', modelId: 'm', plan: { headNodeId: 'a', shards: [{ nodeId: 'a', layerStart: 0, layerEnd: 2 }], predictedTokenSeconds: 1, predictedComputeSeconds: 1, predictedHopSeconds: 0, excludedNodeIds: [] } },
    ];
    for (const message of messages) assert.deepEqual(decodeMeshMessage(encodeMeshMessage(message)), message);
  });

  it('round-trips tensor frames with an aligned payload view', () => {
    for (const dtype of ['f32', 'f16'] as const) {
      const data = Uint8Array.from({ length: 3 * 8 * (dtype === 'f32' ? 4 : 2) }, (_, index) => index % 251);
      const message: MeshMessage = { type: 'tensor', sequenceId: 'seq', position: 9, tokenCount: 3, hiddenSize: 8, dtype, layer: 4, planId: 'p', chunk: 0, chunks: 1, step: 0, data };
      const decoded = decodeMeshMessage(encodeMeshMessage(message));
      assert.equal(decoded.type, 'tensor');
      if (decoded.type !== 'tensor') return;
      assert.deepEqual([...decoded.data], [...data]);
      assert.equal(decoded.data.byteOffset % 8, 0);
      assert.equal(decoded.dtype, dtype);
    }
  });

  it('rejects a tensor whose payload does not match its header', () => {
    const message = { type: 'tensor', sequenceId: 's', position: 0, tokenCount: 2, hiddenSize: 4, dtype: 'f32', layer: 0, planId: 'p', chunk: 0, chunks: 1, step: 0, data: new Uint8Array(8) } as const;
    assert.throws(() => encodeMeshMessage(message), isFrameError);
    const good = encodeMeshMessage({ ...message, data: new Uint8Array(32) });
    const cut = good.slice(0, good.byteLength - 4);
    new DataView(cut.buffer).setUint32(0, cut.byteLength, true);
    assert.throws(() => decodeMeshMessage(cut), isFrameError);
  });

  it('rejects malformed frames', () => {
    const valid = encodeMeshMessage({ type: 'ping', seq: 1, sentAt: 2 });
    const wrongLength = valid.slice();
    new DataView(wrongLength.buffer).setUint32(0, 999, true);
    const unknownKind = valid.slice();
    unknownKind[4] = 9;
    const badJson = valid.slice();
    badJson[6] = 0xff;
    const unknownType = encodeJson({ type: 'launch-missiles' });
    const badField = encodeJson({ type: 'ping', seq: -1, sentAt: 2 });
    for (const frame of [new Uint8Array(2), wrongLength, unknownKind, badJson, unknownType, badField]) {
      assert.throws(() => decodeMeshMessage(frame), isFrameError);
    }
    assert.throws(() => encodeMeshMessage({ type: 'error', code: 'X', message: 'x'.repeat(MAX_JSON_MESSAGE_BYTES) }), isFrameError);
  });

  it('reads the version of any hello, even one this version could not decode', () => {
    assert.equal(peekHelloVersion(encodeJson({ type: 'hello', protocolVersion: 7, somethingNew: true })), 7);
    assert.equal(peekHelloVersion(encodeMeshMessage({ type: 'ping', seq: 1, sentAt: 2 })), undefined);
    assert.equal(peekHelloVersion(new Uint8Array(3)), undefined);
  });
});

function encodeJson(value: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(value));
  const frame = new Uint8Array(5 + json.byteLength);
  new DataView(frame.buffer).setUint32(0, frame.byteLength, true);
  frame[4] = 1;
  frame.set(json, 5);
  return frame;
}
