// The shell: a nav of pages on the left, the chosen page on the right, the node's state on top.
// Pages to come (Devices, Shards, Chat, Models, Server) are one entry each in PAGES.
import { useState, type ReactNode } from 'react';
import type { NodeInfo } from '../../shared/control.js';
import type { ControlClient, EventsStatus } from './control-client.js';
import { ThisDevicePage } from './pages/ThisDevicePage.js';
import { useNode } from './use-node.js';

interface Page {
  id: string;
  title: string;
  render: (node: NodeInfo) => ReactNode;
}

const PAGES: Page[] = [{ id: 'device', title: 'This device', render: (node) => <ThisDevicePage node={node} /> }];

export function App({ client }: { client: ControlClient | undefined }) {
  const state = useNode(client);
  const [pageId, setPageId] = useState(PAGES[0]!.id);
  const page = PAGES.find((candidate) => candidate.id === pageId) ?? PAGES[0]!;

  return (
    <div className="shell">
      <nav className="nav" aria-label="Pages">
        <div className="brand">Tessera</div>
        {PAGES.map((candidate) => (
          <button
            key={candidate.id}
            type="button"
            className={candidate.id === page.id ? 'nav-item active' : 'nav-item'}
            aria-current={candidate.id === page.id ? 'page' : undefined}
            onClick={() => setPageId(candidate.id)}
          >
            {candidate.title}
          </button>
        ))}
      </nav>
      <main className="content">
        <header className="topbar">
          <h1>{page.title}</h1>
          {state.phase === 'ready' && <LiveBadge status={state.events} />}
        </header>
        {state.phase === 'loading' && <p className="notice">Connecting to the node…</p>}
        {state.phase === 'unauthorized' && (
          <p className="notice error" role="alert">
            This page needs the node’s token. Open the link that <code>tessera serve</code> printed (it ends in{' '}
            <code>?token=…</code>).
          </p>
        )}
        {state.phase === 'failed' && (
          <p className="notice error" role="alert">
            Cannot reach the node: {state.message}
          </p>
        )}
        {state.phase === 'ready' && page.render(state.node)}
      </main>
    </div>
  );
}

const STATUS_TEXT: Record<EventsStatus, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };

function LiveBadge({ status }: { status: EventsStatus }) {
  return (
    <span className={`badge ${status}`} data-testid="events-status" data-status={status}>
      {STATUS_TEXT[status]}
    </span>
  );
}
