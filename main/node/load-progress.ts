// Model loads in progress on this node, per device: the head's own shard (or whole model) as its
// engine reports bytes, and each peer's shard as its shard-status messages arrive. The cluster view
// carries the list; changes reach the UI through `cluster` events, at most one per
// LOAD_PROGRESS_PUBLISH_MS while fractions move (state changes go out at once).
import type { DeviceLoadProgress, ModelLoadProgress } from '../../shared/control.js';

/** Least time between two progress-only publications (ms). */
export const LOAD_PROGRESS_PUBLISH_MS = 200;

export interface DeviceLoadUpdate {
  state?: DeviceLoadProgress['state'];
  fraction?: number;
  loadedBytes?: number | null;
  totalBytes?: number | null;
  error?: string | null;
}

interface Load {
  modelId: string;
  startedAt: number;
  devices: Map<string, DeviceLoadProgress>;
}

export class LoadProgressBoard {
  readonly #loads = new Map<string, Load>();
  readonly #onChange: () => void;
  readonly #publishMs: number;
  #lastPublished = 0;
  #pending: ReturnType<typeof setTimeout> | undefined;

  /** `onChange` is told (throttled) that list() changed. */
  constructor(onChange: () => void, options: { publishMs?: number } = {}) {
    this.#onChange = onChange;
    this.#publishMs = options.publishMs ?? LOAD_PROGRESS_PUBLISH_MS;
  }

  /** Starts tracking a load of `modelId` (a new load replaces an old entry of the same id). */
  begin(modelId: string): void {
    this.#loads.set(modelId, { modelId, startedAt: Date.now(), devices: new Map() });
    this.#changed(true);
  }

  /** Sets one device's progress in a load; ignored when the load is not tracked (ended already). */
  update(modelId: string, nodeId: string, update: DeviceLoadUpdate): void {
    const load = this.#loads.get(modelId);
    if (load === undefined) return;
    const before = load.devices.get(nodeId);
    const next: DeviceLoadProgress = {
      nodeId,
      state: update.state ?? before?.state ?? 'loading',
      fraction: clampFraction(update.fraction ?? before?.fraction ?? 0),
      loadedBytes: update.loadedBytes !== undefined ? update.loadedBytes : (before?.loadedBytes ?? null),
      totalBytes: update.totalBytes !== undefined ? update.totalBytes : (before?.totalBytes ?? null),
      error: update.error !== undefined ? update.error : (before?.error ?? null),
    };
    if (next.state === 'ready') next.fraction = 1;
    load.devices.set(nodeId, next);
    this.#changed(before === undefined || before.state !== next.state);
  }

  /** Stops tracking a load (it finished or failed: the models list says which). */
  end(modelId: string): void {
    if (this.#loads.delete(modelId)) this.#changed(true);
  }

  list(): ModelLoadProgress[] {
    return [...this.#loads.values()].map((load) => ({ modelId: load.modelId, startedAt: load.startedAt, devices: [...load.devices.values()] }));
  }

  /** Drops a pending publication (the node is stopping). */
  dispose(): void {
    clearTimeout(this.#pending);
    this.#pending = undefined;
  }

  #changed(now: boolean): void {
    const since = Date.now() - this.#lastPublished;
    if (now || since >= this.#publishMs) {
      clearTimeout(this.#pending);
      this.#pending = undefined;
      this.#publish();
      return;
    }
    // A burst of byte counts: publish once when the interval is up, with the latest figures.
    this.#pending ??= setTimeout(() => {
      this.#pending = undefined;
      this.#publish();
    }, this.#publishMs - since);
  }

  #publish(): void {
    this.#lastPublished = Date.now();
    this.#onChange();
  }
}

/** The fraction done of `loaded` of `total` bytes, 0 while the total is unknown. */
export function loadFraction(loadedBytes: number, totalBytes: number): number {
  return totalBytes > 0 ? clampFraction(loadedBytes / totalBytes) : 0;
}

function clampFraction(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}
