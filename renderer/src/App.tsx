// The shell: a nav of pages on the left, the chosen page on the right, the node's state on top.
// The page is kept in the address's hash (#/chat), so a reload stays where the user was.
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import type { NodeInfo } from '../../shared/control.js';
import type { ControlClient, EventsStatus } from './control-client.js';
import { EventHub } from './event-hub.js';
import { ChatPage } from './pages/ChatPage.js';
import { DevicesPage } from './pages/DevicesPage.js';
import { ModelsPage } from './pages/ModelsPage.js';
import { ServerPage } from './pages/ServerPage.js';
import { ShardsPage } from './pages/ShardsPage.js';
import { useNode } from './use-node.js';

/** What every page gets: the node as it is now, the client for its API, and its live events. */
export interface PageProps {
  node: NodeInfo;
  client: ControlClient;
  hub: EventHub;
}

interface Page {
  id: string;
  title: string;
  icon: string;
  render: (props: PageProps) => ReactNode;
}

const PAGES: Page[] = [
  { id: 'devices', title: 'Devices', icon: '◎', render: (props) => <DevicesPage {...props} /> },
  { id: 'shards', title: 'Shards', icon: '▤', render: (props) => <ShardsPage {...props} /> },
  { id: 'chat', title: 'Chat', icon: '✎', render: (props) => <ChatPage {...props} /> },
  { id: 'models', title: 'Models', icon: '◆', render: (props) => <ModelsPage {...props} /> },
  { id: 'server', title: 'Server', icon: '⇄', render: (props) => <ServerPage {...props} /> },
];

function pageFromHash(): Page {
  const id = window.location.hash.replace(/^#\/?/, '');
  return PAGES.find((page) => page.id === id) ?? PAGES[0]!;
}

export function App({ client }: { client: ControlClient | undefined }) {
  const hub = useMemo(() => new EventHub(), []);
  const state = useNode(client, hub);
  const [page, setPage] = useState(pageFromHash);

  useEffect(() => {
    const onHashChange = () => setPage(pageFromHash());
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);
  useEffect(() => {
    document.title = `${page.title} · Tessera`;
  }, [page]);

  return (
    <div className="shell">
      <nav className="nav" aria-label="Pages">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Tessera
        </div>
        {PAGES.map((candidate) => (
          <a
            key={candidate.id}
            href={`#/${candidate.id}`}
            className={candidate.id === page.id ? 'nav-item active' : 'nav-item'}
            aria-current={candidate.id === page.id ? 'page' : undefined}
            data-testid={`nav-${candidate.id}`}
          >
            <span className="nav-icon" aria-hidden="true">
              {candidate.icon}
            </span>
            {candidate.title}
          </a>
        ))}
        {state.phase === 'ready' && (
          <div className="nav-foot">
            <span className="muted">{state.node.name}</span>
            <span className="muted small-text">v{state.node.version}</span>
          </div>
        )}
      </nav>
      <main className="content" data-page={page.id}>
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
        {state.phase === 'ready' && client && page.render({ node: state.node, client, hub })}
      </main>
    </div>
  );
}

const STATUS_TEXT: Record<EventsStatus, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };

function LiveBadge({ status }: { status: EventsStatus }) {
  return (
    <span className={`badge ${status}`} data-testid="events-status" data-status={status} role="status">
      {STATUS_TEXT[status]}
    </span>
  );
}
