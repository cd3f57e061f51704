// GET /api/models, fetched again whenever the node says models changed.
import { useCallback, useEffect, useState } from 'react';
import type { ModelsState } from '../../shared/control.js';
import type { ControlClient } from './control-client.js';
import { useControlEvents, type EventHub } from './event-hub.js';
import { messageOf } from './ui/errors.js';

export function useModels(client: ControlClient, hub: EventHub): { models: ModelsState | undefined; error: string | undefined; refresh: () => void } {
  const [models, setModels] = useState<ModelsState>();
  const [error, setError] = useState<string>();
  const refresh = useCallback(() => {
    client.getModels().then(
      (state) => {
        setModels(state);
        setError(undefined);
      },
      (failure: unknown) => setError(messageOf(failure)),
    );
  }, [client]);
  useEffect(refresh, [refresh]);
  useControlEvents(hub, (event) => {
    if (event.type === 'models') refresh();
  });
  return { models, error, refresh };
}
