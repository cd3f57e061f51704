// Where each loaded model's layers live: a bar over the model's layers per device, memory per
// device (weights + KV cache), a preview of the plan for a model before loading it, and loads in
// progress.
import { useEffect, useState } from 'react';
import type { DeviceLoadProgress, LoadedModel, LocalModel, ModelLoadProgress, ModelsState } from '../../../shared/control.js';
import type { PageProps } from '../App.js';
import { clusterViewFrom, fetchClusterState, selfOnlyView, type ClusterNodeView } from '../cluster-view.js';
import { CONTROL_CLUSTER_PLAN_PREVIEW_PATH, clusterPlanSchema, type ClusterPlan, type ClusterView as ClusterState } from '../../../shared/control.js';
import type { ControlClient } from '../control-client.js';
import { useControlEvents } from '../event-hub.js';
import { formatBytes, formatDuration } from '../format.js';
import { useModels } from '../use-models.js';
import { messageOf } from '../ui/errors.js';

/** The engine's default KV cache size (positions), for previews: see main/engine/worker/engine-thread.ts. */
const PREVIEW_CONTEXT_LENGTH = 4096;
/** The planner's headroom on each device (main/mesh/planner.ts): 10% of free memory plus 256 MiB. */
const HEADROOM_FRACTION = 0.1;
const HEADROOM_BYTES = 256 * 1024 * 1024;

/** Segment colours under white labels: each has a contrast of at least 4.5:1 with white (WCAG AA). */
const SHARD_COLOURS = ['#3a5ccc', '#17785d', '#b7591f', '#8a3fb0', '#246d91', '#86691c'];

export function ShardsPage({ node, client, hub }: PageProps) {
  const { models, error } = useModels(client, hub);
  const [cluster, setCluster] = useState<ClusterState>();
  useEffect(() => {
    fetchClusterState(client).then(setCluster, () => undefined);
  }, [client]);
  useControlEvents(hub, (event) => {
    if (event.type === 'cluster') setCluster(event.cluster);
  });

  if (error) return <p className="notice error" role="alert">Cannot read models: {error}</p>;
  if (!models) return <p className="notice">Loading…</p>;
  const devicesFor = (modelId?: string) => (cluster ? clusterViewFrom(cluster, node, modelId) : selfOnlyView(node)).nodes;
  // Loads asked for through this UI (models.loading) and those the cluster reports per device.
  const clusterLoads = cluster?.loads ?? [];
  const loads: ModelLoadProgress[] = [
    ...models.loading.map((loading) => clusterLoads.find((load) => load.modelId === loading.id) ?? { modelId: loading.id, startedAt: loading.startedAt, devices: [] }),
    ...clusterLoads.filter((load) => !models.loading.some((loading) => loading.id === load.modelId)),
  ];

  return (
    <div className="stack">
      {loads.map((load) => (
        <LoadProgress key={load.modelId} load={load} devices={devicesFor()} meshAvailable={cluster !== undefined} />
      ))}
      {models.loaded.length === 0 && loads.length === 0 && (
        <section className="card empty" data-testid="shards-empty">
          <h2>No model loaded</h2>
          <p className="muted">Pick a model below to preview how its layers would be placed, then load it. Files are listed on the Models page.</p>
        </section>
      )}
      {models.loaded.map((model) => (
        <LoadedShards key={model.id} model={model} devices={devicesFor(model.id)} />
      ))}
      <PlanPreview models={models} devices={devicesFor()} client={client} meshAvailable={cluster !== undefined} onLoad={(path) => client.loadModel(path)} />
    </div>
  );
}

function LoadedShards({ model, devices }: { model: LoadedModel; devices: ClusterNodeView[] }) {
  // Without a cluster plan, this node holds what its engine reports.
  const holders = devices.some((device) => device.layers)
    ? devices.filter((device) => device.layers)
    : devices.filter((device) => device.self).map((device) => ({ ...device, layers: { start: model.layers[0], end: model.layers[1] } }));
  const perLayerWeights = model.weightBytes / Math.max(1, model.layers[1] - model.layers[0]);
  const perLayerKv = model.kvBytes / Math.max(1, model.layers[1] - model.layers[0]);
  return (
    <section className="card" aria-labelledby={`shards-${model.id}`} data-testid="loaded-shards">
      <div className="card-head">
        <h2 id={`shards-${model.id}`}>{model.id}</h2>
        <span className="muted small-text">
          {model.architecture} · {model.nLayers} layers · context {model.contextLength} · {model.backend}, {model.threads} threads
        </span>
      </div>
      <LayerBar nLayers={model.nLayers} holders={holders} />
      <h3 className="subhead">Memory per device</h3>
      <div className="memory-rows">
        {holders.map((holder, index) => {
          const layers = holder.layers!.end - holder.layers!.start;
          const weights = holder.self ? model.weightBytes : perLayerWeights * layers;
          const kv = holder.self ? model.kvBytes : perLayerKv * layers;
          return <MemoryRow key={holder.id} name={holder.name} colour={SHARD_COLOURS[index % SHARD_COLOURS.length]!} weights={weights} kv={kv} total={holder.device?.memory.totalBytes ?? 0} free={holder.device?.memory.freeBytes ?? 0} />;
        })}
      </div>
    </section>
  );
}

function LayerBar({ nLayers, holders }: { nLayers: number; holders: ClusterNodeView[] }) {
  const description = holders.map((holder) => `${holder.name}: layers ${holder.layers!.start}–${holder.layers!.end - 1}`).join('; ');
  return (
    <div className="layer-bar-wrap">
      <div className="layer-bar" role="img" aria-label={`Layers over devices. ${description}`} data-testid="layer-bar">
        {holders.map((holder, index) => (
          <div
            key={holder.id}
            className="layer-segment"
            data-testid="layer-segment"
            data-range={`${holder.layers!.start}-${holder.layers!.end}`}
            style={{
              left: `${(holder.layers!.start / nLayers) * 100}%`,
              width: `${((holder.layers!.end - holder.layers!.start) / nLayers) * 100}%`,
              background: SHARD_COLOURS[index % SHARD_COLOURS.length],
            }}
          >
            <span>
              {holder.name} · {holder.layers!.start}–{holder.layers!.end - 1}
            </span>
          </div>
        ))}
      </div>
      <div className="layer-scale muted small-text" aria-hidden="true">
        <span>layer 0</span>
        <span>{nLayers - 1}</span>
      </div>
    </div>
  );
}

function MemoryRow(props: { name: string; colour: string; weights: number; kv: number; total: number; free: number }) {
  const { total } = props;
  const used = Math.max(0, total - props.free);
  const share = (bytes: number) => `${total > 0 ? Math.min(100, (bytes / total) * 100) : 0}%`;
  return (
    <div className="memory-row" data-testid="memory-row">
      <div className="memory-label">
        <span className="swatch" style={{ background: props.colour }} aria-hidden="true" />
        {props.name}
      </div>
      <div
        className="stacked-bar"
        role="img"
        aria-label={`${props.name}: weights ${formatBytes(props.weights)}, KV cache ${formatBytes(props.kv)}, ${formatBytes(props.free)} free of ${formatBytes(total)}`}
      >
        <div className="stacked other" style={{ width: share(Math.max(0, used - props.weights - props.kv)) }} />
        <div className="stacked weights" style={{ width: share(props.weights) }} />
        <div className="stacked kv" style={{ width: share(props.kv) }} />
      </div>
      <div className="memory-figures small-text">
        <span>weights {formatBytes(props.weights)}</span>
        <span>KV {formatBytes(props.kv)}</span>
        <span className="muted">{formatBytes(props.free)} free of {formatBytes(total)}</span>
      </div>
    </div>
  );
}

function PlanPreview({ models, devices, client, meshAvailable, onLoad }: { models: ModelsState; devices: ClusterNodeView[]; client: ControlClient; meshAvailable: boolean; onLoad: (path: string) => Promise<void> }) {
  const loadedIds = new Set([...models.loaded.map((model) => model.id), ...models.loading.map((model) => model.id)]);
  const candidates = models.local.filter((model) => !loadedIds.has(model.id) && model.error === null);
  const [chosen, setChosen] = useState<string>('');
  const [failure, setFailure] = useState<string>();
  const [plan, setPlan] = useState<{ path: string; plan: ClusterPlan | null; error?: string }>();
  const model = candidates.find((candidate) => candidate.path === chosen) ?? candidates[0];
  useEffect(() => {
    if (!model || !meshAvailable) return;
    let current = true;
    client.call('GET', `${CONTROL_CLUSTER_PLAN_PREVIEW_PATH}?path=${encodeURIComponent(model.path)}`).then(
      (body) => current && setPlan({ path: model.path, plan: clusterPlanSchema.parse(body) }),
      (error: unknown) => current && setPlan({ path: model.path, plan: null, error: messageOf(error) }),
    );
    return () => {
      current = false;
    };
  }, [client, model?.path, meshAvailable]);
  if (!model) return null;
  const self = devices.find((device) => device.self)!;
  const estimate = estimateSingleNode(model, self);
  const planned = plan?.path === model.path ? plan.plan : undefined;
  const plannedHolders = planned?.shards.map((shard) => ({
    ...(devices.find((device) => device.id === shard.nodeId) ?? { ...self, id: shard.nodeId, name: shard.nodeId.slice(0, 8), self: false }),
    layers: { start: shard.layerStart, end: shard.layerEnd },
  }));

  return (
    <section className="card" aria-labelledby="preview-title" data-testid="plan-preview">
      <h2 id="preview-title">Plan preview</h2>
      <div className="row">
        <label className="field grow">
          <span>Model</span>
          <select value={model.path} onChange={(event) => setChosen(event.target.value)} data-testid="preview-model">
            {candidates.map((candidate) => (
              <option key={candidate.path} value={candidate.path}>
                {candidate.id} ({formatBytes(candidate.sizeBytes)})
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="button primary"
          data-testid="preview-load"
          onClick={() => {
            setFailure(undefined);
            onLoad(model.path).catch((error: unknown) => setFailure(messageOf(error)));
          }}
        >
          Load {model.id}
        </button>
      </div>
      {model.layers !== null && <LayerBar nLayers={model.layers} holders={plannedHolders ?? [{ ...self, layers: { start: 0, end: model.layers } }]} />}
      {planned && (
        <p className="muted small" data-testid="preview-plan">
          The cluster’s planner: {planned.shards.length} device{planned.shards.length === 1 ? '' : 's'}, about{' '}
          {(1 / Math.max(planned.predictedTokenSeconds, 1e-6)).toFixed(1)} tokens/s predicted
          {planned.excludedNodeIds.length > 0 ? `, ${planned.excludedNodeIds.length} left out` : ''}.
        </p>
      )}
      {plan?.path === model.path && plan.error && <p className="muted small">Planner: {plan.error}</p>}
      <p className={estimate.fits ? 'notice ok' : 'notice error'} data-testid="preview-verdict">
        {estimate.fits ? 'Fits on this node: ' : 'Does not fit on this node alone: '}
        weights {formatBytes(estimate.weights)} + KV cache {formatBytes(estimate.kv)} ({estimate.context} positions) against{' '}
        {formatBytes(estimate.usable)} usable of {formatBytes(self.device?.memory.freeBytes ?? 0)} free.
        {devices.length > 1 ? ' With peers, the planner spreads the layers when the model is loaded for the cluster.' : ''}
      </p>
      {failure && <p className="notice error" role="alert">{failure}</p>}
    </section>
  );
}

function estimateSingleNode(model: LocalModel, self: ClusterNodeView) {
  const context = Math.min(PREVIEW_CONTEXT_LENGTH, model.contextLength ?? PREVIEW_CONTEXT_LENGTH);
  const kv = (model.kvBytesPerTokenPerLayer ?? 0) * (model.layers ?? 0) * context;
  const weights = model.sizeBytes;
  const free = self.device?.memory.freeBytes ?? 0;
  const usable = Math.max(0, free * (1 - HEADROOM_FRACTION) - HEADROOM_BYTES);
  return { weights, kv, context, usable, fits: weights + kv <= usable };
}

function LoadProgress({ load, devices, meshAvailable }: { load: ModelLoadProgress; devices: ClusterNodeView[]; meshAvailable: boolean }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 500);
    return () => window.clearInterval(timer);
  }, []);
  const id = load.modelId;
  return (
    <section className="card" aria-labelledby={`loading-${id}`} data-testid="load-progress">
      <div className="card-head">
        <h2 id={`loading-${id}`}>Loading {id}</h2>
        <span className="muted small-text">{formatDuration((now - load.startedAt) / 1000)}</span>
      </div>
      {load.devices.length === 0 ? (
        <>
          <progress className="indeterminate" aria-label={`Loading ${id}`} />
          <p className="muted small">{meshAvailable ? 'Planning where its layers go…' : 'Reading weights into memory on this node.'}</p>
        </>
      ) : (
        <ul className="load-devices" aria-label={`Load progress of ${id} per device`}>
          {load.devices.map((device) => (
            <DeviceLoadRow key={device.nodeId} modelId={id} device={device} name={nameOfDevice(devices, device.nodeId)} />
          ))}
        </ul>
      )}
    </section>
  );
}

function DeviceLoadRow({ modelId, device, name }: { modelId: string; device: DeviceLoadProgress; name: string }) {
  const percentage = Math.round(device.fraction * 100);
  const status = device.state === 'failed' ? 'failed' : device.state === 'ready' ? 'ready' : `${percentage}%`;
  const bytes = device.totalBytes ? ` · ${formatBytes(device.loadedBytes ?? 0)} of ${formatBytes(device.totalBytes)}` : '';
  return (
    <li className="load-device" data-testid="load-device" data-node={device.nodeId} data-state={device.state}>
      <span className="load-device-name">{name}</span>
      <progress max={100} value={percentage} aria-label={`${name}: loading ${modelId}, ${status}`} />
      <span className="load-device-figure small-text" data-testid="load-device-percent">
        {status}
        {bytes}
      </span>
      {device.error && <span className="notice error small-text">{device.error}</span>}
    </li>
  );
}

function nameOfDevice(devices: ClusterNodeView[], nodeId: string): string {
  const device = devices.find((candidate) => candidate.id === nodeId);
  return device ? `${device.name}${device.self ? ' (this node)' : ''}` : nodeId.slice(0, 8);
}
