import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTesseraError } from '../../shared/errors.js';
import type { Plan } from '../../shared/mesh-protocol.js';
import { plan, usableMemoryBytes, type PlannerDevice, type PlannerLink, type PlannerModel } from './planner.js';

const GiB = 2 ** 30;
const NO_HEADROOM = { headroomFraction: 0, headroomBytes: 0 };

/** 24 layers of 1 GiB, 2 GiB of embeddings/output on the head, no KV, 4096-wide f32 hidden states. */
const model: PlannerModel = {
  layerCount: 24,
  bytesPerLayer: GiB,
  headBytes: 2 * GiB,
  kvBytesPerTokenPerLayer: 0,
  contextLength: 4096,
  hiddenSize: 4096,
  activationBytes: 4,
};

const device = (id: string, freeGiB: number, weightBytesPerSecond: number): PlannerDevice => ({
  id,
  freeMemoryBytes: freeGiB * GiB,
  weightBytesPerSecond,
});

/** Every pair linked at 1 ms RTT and 100 MB/s, except the overrides. */
function fullMesh(devices: PlannerDevice[], overrides: PlannerLink[] = []): PlannerLink[] {
  const links: PlannerLink[] = [];
  for (const a of devices) {
    for (const b of devices) {
      if (a.id >= b.id) continue;
      const override = overrides.find((link) => (link.a === a.id && link.b === b.id) || (link.a === b.id && link.b === a.id));
      links.push(override ?? { a: a.id, b: b.id, rttMs: 1, bandwidthBytesPerSecond: 100e6 });
    }
  }
  return links;
}

/** What every plan must satisfy: contiguous cover of [0, n), head last, each shard fits. */
function assertValidPlan(result: Plan, devices: PlannerDevice[], planModel: PlannerModel, options = NO_HEADROOM): void {
  assert.equal(result.shards.at(-1)!.nodeId, result.headNodeId);
  let next = 0;
  for (const shard of result.shards) {
    assert.equal(shard.layerStart, next);
    assert.ok(shard.layerEnd > shard.layerStart);
    next = shard.layerEnd;
    const owner = devices.find((candidate) => candidate.id === shard.nodeId)!;
    const layers = shard.layerEnd - shard.layerStart;
    const needed =
      layers * (planModel.bytesPerLayer + planModel.kvBytesPerTokenPerLayer * planModel.contextLength) +
      (shard.nodeId === result.headNodeId ? planModel.headBytes : 0);
    assert.ok(needed <= usableMemoryBytes(owner, options), `${shard.nodeId} holds ${needed} bytes, more than it offers`);
  }
  assert.equal(next, planModel.layerCount);
  assert.equal(new Set(result.shards.map((shard) => shard.nodeId)).size, result.shards.length);
}

describe('plan', () => {
  it('puts a model that fits on one node on that node alone, with no hops', () => {
    const devices = [device('solo', 40, 10e9)];
    const result = plan(devices, [], model, NO_HEADROOM);
    assert.deepEqual(result.shards, [{ nodeId: 'solo', layerStart: 0, layerEnd: 24 }]);
    assert.equal(result.headNodeId, 'solo');
    assert.equal(result.predictedHopSeconds, 0);
    assert.ok(Math.abs(result.predictedTokenSeconds - (24 * GiB) / 10e9) < 1e-12);
  });

  it('1 big + 3 small: the big node takes what fits, one small node joins as head, the others are left out', () => {
    // 26 GiB needed; big offers 20. Small head (4 layers) + big (20) beats big head (18) + small (6).
    const devices = [device('small-c', 6, 5e9), device('big', 20, 10e9), device('small-a', 6, 5e9), device('small-b', 6, 5e9)];
    const result = plan(devices, fullMesh(devices), model, NO_HEADROOM);
    assertValidPlan(result, devices, model);
    assert.deepEqual(result.shards, [
      { nodeId: 'big', layerStart: 0, layerEnd: 20 },
      { nodeId: 'small-a', layerStart: 20, layerEnd: 24 }, // tie between equal small nodes: smallest id
    ]);
    assert.equal(result.headNodeId, 'small-a');
    assert.deepEqual(result.excludedNodeIds, ['small-b', 'small-c']);
    const hop = 0.0005 + (4096 * 4) / 100e6;
    assert.ok(Math.abs(result.predictedHopSeconds - 2 * hop) < 1e-12);
  });

  it('avoids a slow link by choosing another node', () => {
    const devices = [device('big', 20, 10e9), device('small-a', 6, 5e9), device('small-b', 6, 5e9), device('small-c', 6, 5e9)];
    const links = fullMesh(devices, [{ a: 'small-a', b: 'big', rttMs: 300, bandwidthBytesPerSecond: 1e6 }]);
    const result = plan(devices, links, model, NO_HEADROOM);
    assertValidPlan(result, devices, model);
    assert.deepEqual(result.shards.map((shard) => shard.nodeId), ['big', 'small-b']);
  });

  it('leaves out a slow node when the fast one holds everything', () => {
    const devices = [device('fast', 40, 20e9), device('slow', 40, 2e9)];
    const result = plan(devices, fullMesh(devices), model, NO_HEADROOM);
    assert.deepEqual(result.shards, [{ nodeId: 'fast', layerStart: 0, layerEnd: 24 }]);
    assert.deepEqual(result.excludedNodeIds, ['slow']);
  });

  it('spreads over three nodes when only three together hold the model', () => {
    const devices = [device('a', 10, 10e9), device('b', 10, 10e9), device('c', 10, 10e9)];
    const result = plan(devices, fullMesh(devices), model, NO_HEADROOM);
    assertValidPlan(result, devices, model);
    assert.equal(result.shards.length, 3);
    assert.deepEqual(result.excludedNodeIds, []);
  });

  it('never pairs two nodes without a measured link', () => {
    const devices = [device('a', 14, 10e9), device('b', 14, 10e9)];
    assert.throws(() => plan(devices, [], model, NO_HEADROOM), (error) => isTesseraError(error, 'PLAN_NO_FIT'));
  });

  it('throws PLAN_NO_FIT when the model fits nowhere, saying how much is missing', () => {
    const devices = [device('a', 8, 10e9), device('b', 8, 10e9)];
    assert.throws(
      () => plan(devices, fullMesh(devices), model, NO_HEADROOM),
      (error) => isTesseraError(error, 'PLAN_NO_FIT') && /26\.00 GiB/.test(error.message),
    );
    assert.throws(() => plan([], [], model), (error) => isTesseraError(error, 'PLAN_NO_FIT'));
  });

  it('counts the KV cache and the default headroom', () => {
    const withKv = { ...model, kvBytesPerTokenPerLayer: 64 * 1024 }; // 256 MiB per layer at 4096 tokens
    const needed = 24 * (GiB + 256 * 2 ** 20) + 2 * GiB;
    const exact: PlannerDevice = { id: 'exact', freeMemoryBytes: needed, weightBytesPerSecond: 10e9 };
    assert.equal(plan([exact], [], withKv, NO_HEADROOM).shards.length, 1);
    assert.throws(() => plan([exact], [], withKv), (error) => isTesseraError(error, 'PLAN_NO_FIT'));
    const roomy: PlannerDevice = { ...exact, freeMemoryBytes: (needed + 256 * 2 ** 20) / 0.9 + 1 };
    assert.equal(plan([roomy], [], withKv).shards.length, 1);
  });

  it('gives the same plan whatever order devices and links come in', () => {
    const devices = [device('n1', 9, 7e9), device('n2', 9, 7e9), device('n3', 9, 7e9), device('n4', 12, 9e9)];
    const links = fullMesh(devices);
    const first = plan(devices, links, model, NO_HEADROOM);
    const second = plan([...devices].reverse(), [...links].reverse(), model, NO_HEADROOM);
    assert.deepEqual(second, first);
    assertValidPlan(first, devices, model);
  });

  it('ignores devices without a measured throughput', () => {
    const devices = [device('measured', 40, 10e9), device('unmeasured', 400, 0)];
    const result = plan(devices, fullMesh(devices), model, NO_HEADROOM);
    assert.deepEqual(result.shards.map((shard) => shard.nodeId), ['measured']);
    assert.deepEqual(result.excludedNodeIds, ['unmeasured']);
  });
});

describe('plan with a fixed head', () => {
  it('puts the asked-for node last (it samples), even when another head would be faster', () => {
    const devices = [device('big', 64, 40e9), device('small', 8, 10e9)];
    const free = plan(devices, fullMesh(devices), model, NO_HEADROOM);
    assert.equal(free.headNodeId, 'big');
    const fixed = plan(devices, fullMesh(devices), model, { ...NO_HEADROOM, headNodeId: 'small' });
    assert.equal(fixed.headNodeId, 'small');
    assert.equal(fixed.shards[fixed.shards.length - 1]!.nodeId, 'small');
    assert.equal(fixed.shards.reduce((sum, shard) => sum + shard.layerEnd - shard.layerStart, 0), model.layerCount);
  });

  it('throws PLAN_NO_FIT when the head cannot hold its part', () => {
    const devices = [device('big', 64, 40e9), device('tiny', 1, 10e9)];
    assert.throws(() => plan(devices, fullMesh(devices), model, { ...NO_HEADROOM, headNodeId: 'tiny' }), (error) => isTesseraError(error, 'PLAN_NO_FIT'));
  });
});

describe('token embeddings', () => {
  /** 8 layers of 1 GiB; 2 GiB embedding table on the first shard, 2 GiB output head on the head. */
  const untied: PlannerModel = { ...model, layerCount: 8, headBytes: 2 * GiB, embeddingBytes: 2 * GiB, tiedEmbeddings: false };

  it('counts the embedding table on the first shard, not only on the head', () => {
    // Head: 2 GiB head + 4 layers = 6 GiB. First shard: 4 layers alone would fit in 5 GiB, not with 2 GiB of embeddings.
    const devices = [device('first', 5, 10e9), device('head', 6, 10e9)];
    assert.throws(() => plan(devices, fullMesh(devices), untied, { ...NO_HEADROOM, headNodeId: 'head' }), (error) => isTesseraError(error, 'PLAN_NO_FIT'));
    const roomy = [device('first', 6, 10e9), device('head', 6, 10e9)];
    const result = plan(roomy, fullMesh(roomy), untied, { ...NO_HEADROOM, headNodeId: 'head' });
    assert.deepEqual(result.shards.map((shard) => [shard.nodeId, shard.layerEnd - shard.layerStart]), [['first', 4], ['head', 4]]);
  });

  it('holds a tied table once on a node that is both first shard and head', () => {
    const tied: PlannerModel = { ...untied, tiedEmbeddings: true };
    // 8 layers + one 2 GiB table = 10 GiB: fits with tied embeddings, not with separate ones.
    const devices = [device('solo', 10, 10e9)];
    assert.equal(plan(devices, [], tied, NO_HEADROOM).shards.length, 1);
    assert.throws(() => plan(devices, [], untied, NO_HEADROOM), (error) => isTesseraError(error, 'PLAN_NO_FIT'));
  });

  it('picks as first shard the node that has room for the embeddings', () => {
    // 7 layers: head 2 (+ its 2 GiB), b-roomy 3 (+ the table), a-small 2. a-small cannot hold the table.
    const seven: PlannerModel = { ...untied, layerCount: 7 };
    const devices = [device('a-small', 2, 10e9), device('b-roomy', 5, 10e9), device('head', 4, 10e9)];
    const result = plan(devices, fullMesh(devices), seven, { ...NO_HEADROOM, headNodeId: 'head' });
    assert.deepEqual(result.shards.map((shard) => [shard.nodeId, shard.layerEnd - shard.layerStart]), [['b-roomy', 3], ['a-small', 2], ['head', 2]]);
  });
});
