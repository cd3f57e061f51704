// The OpenAI-compatible server: its base URL and key, setup for common clients, and a live log
// of the requests it answered.
import { useEffect, useState } from 'react';
import type { RequestLogEntry, ServerInfo } from '../../../shared/control.js';
import type { PageProps } from '../App.js';
import { useControlEvents } from '../event-hub.js';
import { useModels } from '../use-models.js';
import { CopyButton } from '../ui/CopyButton.js';
import { messageOf } from '../ui/errors.js';
import { setupSnippets } from './server-snippets.js';

/** Rows the log shows (newest first). */
const LOG_ROWS = 100;

export function ServerPage({ client, hub }: PageProps) {
  const [server, setServer] = useState<ServerInfo>();
  const [requests, setRequests] = useState<RequestLogEntry[]>([]);
  const [error, setError] = useState<string>();
  const [snippetId, setSnippetId] = useState('continue');
  const [showKey, setShowKey] = useState(false);
  const { models } = useModels(client, hub);

  useEffect(() => {
    client.getServer().then(setServer, (failure: unknown) => setError(messageOf(failure)));
    client.getRequests().then(setRequests, (failure: unknown) => setError(messageOf(failure)));
  }, [client]);
  useControlEvents(hub, (event) => {
    if (event.type === 'request') setRequests((previous) => [...previous.filter((entry) => entry.id !== event.request.id), event.request].slice(-LOG_ROWS));
  });

  if (error) return <p className="notice error" role="alert">Cannot read the server settings: {error}</p>;
  if (!server) return <p className="notice">Loading…</p>;
  const model = models?.loaded[0]?.id ?? 'your-model';
  const snippets = setupSnippets(server.openAiBaseUrl, server.apiKey, model);
  const snippet = snippets.find((candidate) => candidate.id === snippetId) ?? snippets[0]!;

  return (
    <div className="stack">
      <section className="card" aria-labelledby="endpoint-title">
        <h2 id="endpoint-title">OpenAI-compatible endpoint</h2>
        <dl className="facts">
          <div className="fact">
            <dt>Base URL</dt>
            <dd className="row tight">
              <code data-testid="server-base-url">{server.openAiBaseUrl}</code>
              <CopyButton text={server.openAiBaseUrl} label="Copy the base URL" />
            </dd>
          </div>
          <div className="fact">
            <dt>API key</dt>
            <dd className="row tight" data-testid="server-api-key">
              {server.apiKey ? (
                <>
                  <code>{showKey ? server.apiKey : '•'.repeat(Math.min(server.apiKey.length, 16))}</code>
                  <button type="button" className="button small" onClick={() => setShowKey(!showKey)} aria-pressed={showKey}>
                    {showKey ? 'Hide' : 'Show'}
                  </button>
                  <CopyButton text={server.apiKey} label="Copy the API key" />
                </>
              ) : (
                <span>
                  None — any local client may call it. Start the node with <code>--api-key</code> (or <code>TESSERA_API_KEY</code>) to require one.
                </span>
              )}
            </dd>
          </div>
          <div className="fact">
            <dt>Models served</dt>
            <dd>{models && models.loaded.length > 0 ? models.loaded.map((loaded) => loaded.id).join(', ') : 'none loaded (see Models)'}</dd>
          </div>
        </dl>
      </section>

      <section className="card" aria-labelledby="setup-title">
        <h2 id="setup-title">Use it from your tools</h2>
        <div className="tabs" role="tablist" aria-label="Client">
          {snippets.map((candidate) => (
            <button
              key={candidate.id}
              type="button"
              role="tab"
              id={`tab-${candidate.id}`}
              aria-selected={candidate.id === snippet.id}
              aria-controls="snippet-panel"
              tabIndex={candidate.id === snippet.id ? 0 : -1}
              className={candidate.id === snippet.id ? 'tab active' : 'tab'}
              onClick={() => setSnippetId(candidate.id)}
              onKeyDown={(event) => {
                const index = snippets.indexOf(candidate);
                const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
                if (step === 0) return;
                const next = snippets[(index + step + snippets.length) % snippets.length]!;
                setSnippetId(next.id);
                document.getElementById(`tab-${next.id}`)?.focus();
              }}
            >
              {candidate.title}
            </button>
          ))}
        </div>
        <div id="snippet-panel" role="tabpanel" aria-labelledby={`tab-${snippet.id}`} className="snippet">
          <div className="row spread">
            <span className="muted small-text">{snippet.where}</span>
            <CopyButton text={snippet.text} label={`Copy the ${snippet.title} setup`} testId="copy-snippet" />
          </div>
          <pre tabIndex={0} aria-label={`${snippet.title} setup`} data-testid="snippet-text">
            {snippet.text}
          </pre>
        </div>
      </section>

      <section className="card" aria-labelledby="log-title">
        <div className="card-head">
          <h2 id="log-title">Request log</h2>
          <span className="muted small-text">live · last {LOG_ROWS}</span>
        </div>
        {requests.length === 0 ? (
          <p className="empty muted" data-testid="request-log-empty">No requests yet. Calls to {server.openAiBaseUrl} appear here as they finish.</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="request-log">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Request</th>
                  <th scope="col">Model</th>
                  <th scope="col" className="num">Tokens in / out</th>
                  <th scope="col" className="num">Duration</th>
                  <th scope="col" className="num">Status</th>
                </tr>
              </thead>
              <tbody>
                {[...requests].reverse().map((entry) => (
                  <tr key={entry.id} data-testid="request-log-row">
                    <td className="muted">{new Date(entry.at).toLocaleTimeString()}</td>
                    <td className="mono">
                      {entry.method} {entry.path}
                      {entry.stream && <span className="pill small-pill">stream</span>}
                    </td>
                    <td>{entry.model ?? '—'}</td>
                    <td className="num">{entry.promptTokens === null ? '—' : `${entry.promptTokens} / ${entry.completionTokens ?? 0}`}</td>
                    <td className="num">{entry.durationMs < 1000 ? `${entry.durationMs} ms` : `${(entry.durationMs / 1000).toFixed(1)} s`}</td>
                    <td className="num">
                      <span className={entry.status < 400 ? 'pill ok' : 'pill bad'}>{entry.status}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
