// The live tokens/s and load progress fields are optional on the wire: messages from older nodes
// (without them) still decode, and newer messages decode on a node that does not know them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterViewSchema, decodeControlEvent, type ClusterView } from './control.js';
import { MeshFrameError, decodeMeshMessage, encodeMeshMessage, type MeshMessage, type MeshMessageOf } from './mesh-protocol.js';

const device = {
  hostname: 'desk',
  os: { platform: 'linux', description: 'Linux 6.1', arch: 'x64' },
  cpu: { model: 'cpu', cores: 8 },
  memory: { totalBytes: 16e9, freeBytes: 8e9 },
  sampledAt: 1,
};
const olderReport = { name: 'desk', device, offeredMemoryBytes: 8e9, kernelWeightBytesPerSecond: 1e9 };
const olderShardStatus = { type: 'shard-status', planId: 'p', modelId: 'm', layerStart: 0, layerEnd: 2, state: 'loading', progress: 0 } as const;

/** A JSON frame as any version writes it (the encoder would refuse fields it does not know). */
function jsonFrame(value: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(value));
  const frame = new Uint8Array(5 + json.byteLength);
  new DataView(frame.buffer).setUint32(0, frame.byteLength, true);
  frame[4] = 1;
  frame.set(json, 5);
  return frame;
}

describe('live figures on the mesh', () => {
  it('decodes an older node’s device report (no rate) and round-trips a newer one', () => {
    const older = decodeMeshMessage(jsonFrame({ type: 'device', report: olderReport })) as MeshMessageOf<'device'>;
    assert.equal(older.report.tokensPerSecond, undefined);
    const newer: MeshMessage = { type: 'device', report: { ...olderReport, tokensPerSecond: 12.5 } };
    assert.deepEqual(decodeMeshMessage(encodeMeshMessage(newer)), newer);
    assert.throws(() => decodeMeshMessage(jsonFrame({ type: 'device', report: { ...olderReport, tokensPerSecond: -1 } })), MeshFrameError);
  });

  it('decodes shard-status with and without byte counts', () => {
    assert.deepEqual(decodeMeshMessage(jsonFrame(olderShardStatus)), olderShardStatus);
    const newer: MeshMessage = { ...olderShardStatus, progress: 0.25, loadedBytes: 1024, totalBytes: 4096 };
    assert.deepEqual(decodeMeshMessage(encodeMeshMessage(newer)), newer);
    assert.throws(() => decodeMeshMessage(jsonFrame({ ...olderShardStatus, progress: 1.5 })), MeshFrameError);
  });

  it('a field from a version newer still is dropped, not refused (how older nodes read these fields)', () => {
    const decoded = decodeMeshMessage(jsonFrame({ type: 'device', report: { ...olderReport, somethingNewer: 3 } })) as MeshMessageOf<'device'>;
    assert.equal((decoded.report as Record<string, unknown>).somethingNewer, undefined);
    assert.equal(decoded.report.name, 'desk');
  });
});

describe('live figures in the control API', () => {
  const olderView = {
    selfId: 'a',
    meshPort: 7341,
    memoryLimitBytes: null,
    manualPeers: [],
    nodes: [{ nodeId: 'a', name: 'desk', self: true, device: { ...olderReport, kernelWeightBytesPerSecond: null } }],
    links: [],
    plans: [],
    shards: [],
    remoteModels: [],
  };

  it('parses a cluster view without rates or loads', () => {
    const view = clusterViewSchema.parse(olderView);
    assert.equal(view.nodes[0]!.tokensPerSecond, undefined);
    assert.equal(view.loads, undefined);
  });

  it('carries per-node rates and per-device load progress in the cluster event', () => {
    const view: ClusterView = {
      ...olderView,
      nodes: [{ ...olderView.nodes[0]!, tokensPerSecond: 7.25 }, { nodeId: 'b', name: 'old', self: false, device: null, tokensPerSecond: null }],
      loads: [
        {
          modelId: 'm',
          startedAt: 5,
          devices: [
            { nodeId: 'a', state: 'loading', fraction: 0.5, loadedBytes: 50, totalBytes: 100, error: null },
            { nodeId: 'b', state: 'ready', fraction: 1, loadedBytes: null, totalBytes: null, error: null },
          ],
        },
      ],
    };
    const event = decodeControlEvent(JSON.stringify({ type: 'cluster', cluster: view }));
    assert.deepEqual(event, { type: 'cluster', cluster: view });
    assert.throws(() => clusterViewSchema.parse({ ...view, loads: [{ ...view.loads![0]!, devices: [{ ...view.loads![0]!.devices[0]!, fraction: 2 }] }] }));
  });
});
