// React state for "this node": loaded once over HTTP, then kept live by the event socket.
import { useEffect, useState } from 'react';
import type { ControlEvent, NodeInfo } from '../../shared/control.js';
import { ControlApiError, type ControlClient, type EventsStatus } from './control-client.js';
import type { EventHub } from './event-hub.js';
import { forgetToken } from './token.js';

export type NodeState =
  | { phase: 'loading' }
  | { phase: 'unauthorized' }
  | { phase: 'failed'; message: string }
  | { phase: 'ready'; node: NodeInfo; events: EventsStatus };

/** Applies one event to the node the UI shows. Pure, so every event type is handled here. */
export function applyEvent(node: NodeInfo, event: ControlEvent): NodeInfo {
  switch (event.type) {
    case 'hello':
    case 'node':
      return event.node;
    case 'device':
      return { ...node, device: event.device };
    case 'request':
    case 'models':
    case 'cluster':
    case 'download':
      return node; // for the pages that listen (see event-hub.ts)
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

export function useNode(client: ControlClient | undefined, hub?: EventHub): NodeState {
  const [state, setState] = useState<NodeState>(client ? { phase: 'loading' } : { phase: 'unauthorized' });

  useEffect(() => {
    if (!client) return;
    let unsubscribe: (() => void) | undefined;
    let cancelled = false;
    client
      .getNode()
      .then((node) => {
        if (cancelled) return;
        setState({ phase: 'ready', node, events: 'connecting' });
        unsubscribe = client.subscribe(
          (event) => {
            hub?.emit(event);
            setState((previous) => (previous.phase === 'ready' ? { ...previous, node: applyEvent(previous.node, event) } : previous));
          },
          (events) => setState((previous) => (previous.phase === 'ready' ? { ...previous, events } : previous)),
        );
      })
      .catch((error: unknown) => {
        if (cancelled) return;
        if (error instanceof ControlApiError && error.status === 401) {
          forgetToken();
          setState({ phase: 'unauthorized' });
        } else {
          setState({ phase: 'failed', message: error instanceof Error ? error.message : String(error) });
        }
      });
    return () => {
      cancelled = true;
      unsubscribe?.();
    };
  }, [client, hub]);

  return state;
}
