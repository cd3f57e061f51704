// The node's downloads as the control API sees them: start a pull, watch it, cancel it. Each
// download publishes a `download` control event when it starts, a few times a second while bytes
// arrive, and when it ends, so the Models page can draw progress without polling.

import { randomUUID } from 'node:crypto';
import type { DownloadRequest, DownloadState } from '../../shared/control.js';
import { isTesseraError } from '../../shared/errors.js';
import type { HubSettings } from './hub-client.js';
import { baseName, parseModelRef } from './model-ref.js';
import type { ModelStore } from './model-store.js';
import { ProgressMeter } from './progress-meter.js';
import { pullModel, type PeerSourceFinder } from './pull-model.js';

/** Progress events per download are published at most this often. */
export const DOWNLOAD_EVENT_INTERVAL_MS = 250;
/** Finished downloads kept in the list for the UI. */
export const MAX_FINISHED_DOWNLOADS = 50;

export interface DownloadManagerOptions {
  readonly store: ModelStore;
  readonly nodeId: string;
  /** Read at each start, so HF_TOKEN changes apply to the next pull. */
  readonly hub: () => HubSettings;
  readonly publish: (state: DownloadState) => void;
  readonly peerSource?: PeerSourceFinder;
}

export class DownloadManager {
  private readonly downloads = new Map<string, { state: DownloadState; abort: AbortController; done: Promise<void> }>();

  constructor(private readonly options: DownloadManagerOptions) {}

  list(): DownloadState[] {
    return [...this.downloads.values()].map((entry) => entry.state);
  }

  get(id: string): DownloadState | undefined {
    return this.downloads.get(id)?.state;
  }

  /** Starts a pull in the background; resolves with its first state. Bad references throw here. */
  start(request: DownloadRequest): DownloadState {
    const ref = parseModelRef(request.file ? `${request.repo}:${request.file}` : request.repo);
    const id = randomUUID();
    const abort = new AbortController();
    let state: DownloadState = {
      id,
      nodeId: this.options.nodeId,
      repo: ref.repo,
      file: ref.file ?? null,
      layers: request.layers ?? null,
      state: 'running',
      receivedBytes: 0,
      totalBytes: 0,
      bytesPerSecond: 0,
      etaSeconds: null,
      modelId: null,
      error: null,
      startedAt: Date.now(),
    };
    const update = (next: Partial<DownloadState>): void => {
      state = { ...state, ...next };
      const entry = this.downloads.get(id);
      if (entry) entry.state = state;
      this.options.publish(state);
    };
    let meter: ProgressMeter | undefined;
    let lastPublished = 0;
    const done = pullModel({
      ref,
      store: this.options.store,
      hub: this.options.hub(),
      signal: abort.signal,
      ...(request.layers ? { layers: request.layers } : {}),
      ...(this.options.peerSource ? { peerSource: this.options.peerSource } : {}),
      onEvent: (event) => {
        if (event.type === 'resolved') update({ file: baseName(event.model.files[0]!.path), totalBytes: event.model.sizeBytes });
        if (event.type !== 'progress') return;
        if (meter === undefined || meter.totalBytes !== event.totalBytes) meter = new ProgressMeter(event.totalBytes, event.receivedBytes);
        const figures = meter.update(event.receivedBytes);
        const now = performance.now();
        if (now - lastPublished < DOWNLOAD_EVENT_INTERVAL_MS) {
          state = { ...state, ...figures };
          this.downloads.get(id)!.state = state;
          return;
        }
        lastPublished = now;
        update(figures);
      },
    }).then(
      (result) => update({ state: 'done', modelId: result.manifest.id, etaSeconds: 0, receivedBytes: state.totalBytes || state.receivedBytes }),
      (error: unknown) =>
        update({
          state: abort.signal.aborted ? 'cancelled' : 'failed',
          error: isTesseraError(error) ? { code: error.code, message: error.message } : { code: 'INTERNAL', message: String(error) },
        }),
    ).finally(() => this.prune());
    this.downloads.set(id, { state, abort, done });
    this.options.publish(state);
    return state;
  }

  /** Stops a running download; its partial file stays, so a later pull continues it. */
  async cancel(id: string): Promise<DownloadState | undefined> {
    const entry = this.downloads.get(id);
    if (!entry) return undefined;
    entry.abort.abort();
    await entry.done;
    return this.downloads.get(id)?.state;
  }

  /** Waits for a download to end (tests, shutdown). */
  async settled(id: string): Promise<DownloadState | undefined> {
    await this.downloads.get(id)?.done;
    return this.downloads.get(id)?.state;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.downloads.keys()].map((id) => this.cancel(id)));
  }

  private prune(): void {
    const finished = [...this.downloads.entries()].filter(([, entry]) => entry.state.state !== 'running');
    for (const [id] of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_DOWNLOADS))) this.downloads.delete(id);
  }
}
