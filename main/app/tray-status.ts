// What the tray item says about the cluster, kept as a small state folded from the node's control
// events (the same events the UI's WebSocket gets). Pure: tray.ts feeds it and draws the result.
import type { ControlEvent } from '../../shared/control.js';
import type { TesseraNode } from '../node/node.js';

export interface TrayStatus {
  /** Nodes in the cluster, this one included (1 when the node runs without a mesh). */
  nodeCount: number;
  /** Ids of the models this node serves (its own and those it forwards to a peer). */
  modelIds: readonly string[];
  /** Decode speed of the last answer this node's API gave, or null before the first one. */
  tokensPerSecond: number | null;
}

export const INITIAL_TRAY_STATUS: TrayStatus = { nodeCount: 1, modelIds: [], tokensPerSecond: null };

/** The status as the node has it now; events keep it current from here on. */
export function currentTrayStatus(node: Pick<TesseraNode, 'cluster' | 'models'>): TrayStatus {
  return {
    nodeCount: Math.max(1, node.cluster?.view().nodes.length ?? 1),
    modelIds: servedModelIds(node),
    tokensPerSecond: null,
  };
}

export function servedModelIds(node: Pick<TesseraNode, 'models'>): string[] {
  return node.models.list().map((model) => model.id);
}

/**
 * Folds one control event into the status. `currentModelIds` is read when an event says the
 * models changed: the `models` event carries no list, only the news that there is a new one.
 */
export function applyTrayEvent(status: TrayStatus, event: ControlEvent, currentModelIds: () => readonly string[]): TrayStatus {
  switch (event.type) {
    case 'cluster':
      // Remote models come and go with the cluster view too, so the list is read again.
      return { ...status, nodeCount: Math.max(1, event.cluster.nodes.length), modelIds: currentModelIds() };
    case 'models':
      return { ...status, modelIds: currentModelIds() };
    case 'request': {
      // The same figure the Devices page shows as this node's live rate.
      const { completionTokens, durationMs } = event.request;
      if (!completionTokens || durationMs <= 0) return status;
      return { ...status, tokensPerSecond: completionTokens / (durationMs / 1000) };
    }
    case 'hello':
    case 'device':
    case 'node':
    case 'download':
      return status;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/** The tray's words: a one-line tooltip and the status lines at the top of its menu. */
export interface TrayText {
  tooltip: string;
  lines: [nodes: string, model: string, speed: string];
}

export function trayText(status: TrayStatus): TrayText {
  const nodes = status.nodeCount === 1 ? '1 node' : `${status.nodeCount} nodes`;
  const model =
    status.modelIds.length === 0
      ? 'No model loaded'
      : status.modelIds.length === 1
        ? `Model: ${status.modelIds[0]}`
        : `Models: ${status.modelIds[0]} +${status.modelIds.length - 1}`;
  const speed = status.tokensPerSecond === null ? 'No answers yet' : `${status.tokensPerSecond.toFixed(1)} tokens/s (last answer)`;
  const tooltipModel = status.modelIds.length === 0 ? 'no model' : status.modelIds.join(', ');
  const tooltipSpeed = status.tokensPerSecond === null ? '' : ` · ${status.tokensPerSecond.toFixed(1)} tok/s`;
  return { tooltip: `Tessera · ${nodes} · ${tooltipModel}${tooltipSpeed}`, lines: [`Cluster: ${nodes}`, model, speed] };
}

/**
 * Keeps a node's tray status current from its events and reports the text whenever what the tray
 * shows would change (an event that changes nothing visible, like a device sample, reports nothing).
 */
export class TrayStatusFeed {
  #status: TrayStatus;
  #shown: string;
  readonly #unsubscribe: () => void;

  constructor(node: Pick<TesseraNode, 'cluster' | 'models' | 'subscribe'>, onChange: (text: TrayText) => void) {
    this.#status = currentTrayStatus(node);
    const first = trayText(this.#status);
    this.#shown = JSON.stringify(first);
    onChange(first);
    this.#unsubscribe = node.subscribe((event) => {
      this.#status = applyTrayEvent(this.#status, event, () => servedModelIds(node));
      const text = trayText(this.#status);
      const shown = JSON.stringify(text);
      if (shown === this.#shown) return;
      this.#shown = shown;
      onChange(text);
    });
  }

  get status(): TrayStatus {
    return this.#status;
  }

  stop(): void {
    this.#unsubscribe();
  }
}
