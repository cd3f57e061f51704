// The cluster: a graph of nodes and links, each node's figures, adding a peer by address, the join
// secret to copy, removing a peer. This node's own card stays below, live.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { CONTROL_CLUSTER_PEERS_PATH, clusterViewSchema, type ClusterView as ClusterState } from '../../../shared/control.js';
import type { PageProps } from '../App.js';
import { clusterViewFrom, fetchClusterState, fetchJoinSecret, selfOnlyView, type ClusterView } from '../cluster-view.js';
import { useControlEvents } from '../event-hub.js';
import { formatBytes, formatRate } from '../format.js';
import { CopyButton } from '../ui/CopyButton.js';
import { messageOf } from '../ui/errors.js';
import { ClusterGraph, linkLabel } from './ClusterGraph.js';
import { ThisDevicePage } from './ThisDevicePage.js';

export function DevicesPage({ node, client, hub }: PageProps) {
  const [state, setState] = useState<ClusterState | null>();
  const [joinSecret, setJoinSecret] = useState<string | null>(null);
  const [address, setAddress] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'error' | 'ok'; text: string }>();
  /** Tokens per second of this node's latest answer (from the request log), for a node without the mesh's live rate. */
  const [selfRate, setSelfRate] = useState<number | null>(null);

  const refresh = useCallback(() => {
    fetchClusterState(client).then(
      (next) => {
        setState(next ?? null);
        if (next) fetchJoinSecret(client).then(setJoinSecret, () => setJoinSecret(null));
      },
      (error: unknown) => setMessage({ kind: 'error', text: `Cannot read the cluster: ${messageOf(error)}` }),
    );
  }, [client]);
  useEffect(refresh, [refresh]);
  useControlEvents(hub, (event) => {
    if (event.type === 'cluster') setState(event.cluster);
    if (event.type === 'request' && event.request.completionTokens && event.request.durationMs > 0) {
      setSelfRate(event.request.completionTokens / (event.request.durationMs / 1000));
    }
  });
  const view: ClusterView = state ? clusterViewFrom(state, node) : selfOnlyView(node);
  const meshMissing = state === null;

  const addPeer = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setMessage(undefined);
    try {
      const next = clusterViewSchemaSafe(await client.call('POST', CONTROL_CLUSTER_PEERS_PATH, { address: address.trim() }));
      if (next) setState(next);
      setMessage({ kind: 'ok', text: `Connecting to ${address.trim()}…` });
      setAddress('');
    } catch (error) {
      setMessage({ kind: 'error', text: messageOf(error) });
    } finally {
      setBusy(false);
    }
  };
  const removePeer = async (peer: string) => {
    setMessage(undefined);
    try {
      const next = clusterViewSchemaSafe(await client.call('DELETE', CONTROL_CLUSTER_PEERS_PATH, { address: peer }));
      if (next) setState(next);
      setMessage({ kind: 'ok', text: `Removed ${peer}.` });
    } catch (error) {
      setMessage({ kind: 'error', text: messageOf(error) });
    }
  };

  const alone = view.nodes.length <= 1;
  return (
    <div className="stack">
      <section className="card" aria-labelledby="cluster-title">
        <div className="card-head">
          <h2 id="cluster-title">Cluster</h2>
          <span className="muted small-text" data-testid="cluster-summary">
            {view.nodes.length} node{view.nodes.length === 1 ? '' : 's'} · {formatBytes(view.nodes.reduce((sum, entry) => sum + (entry.device?.memory.freeBytes ?? 0), 0))} free in all
          </span>
        </div>
        <ClusterGraph nodes={view.nodes} links={view.links} />
        {alone && (
          <div className="empty" data-testid="devices-empty">
            <p>
              <strong>This computer is on its own.</strong> Start Tessera on another desktop on your network: it finds this one by itself,
              or add it below by address. Both need the same join secret.
            </p>
            {meshMissing && (
              <p className="muted" data-testid="mesh-unavailable">
                The mesh is not running on this node, so peers cannot be added yet.
              </p>
            )}
          </div>
        )}
        {!alone && (
          <div className="table-wrap">
            <table className="table" data-testid="cluster-nodes">
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">OS / CPU</th>
                  <th scope="col">Memory used / free</th>
                  <th scope="col">Role</th>
                  <th scope="col" className="num">Tokens/s</th>
                  <th scope="col" className="actions">Offered</th>
                </tr>
              </thead>
              <tbody>
                {view.nodes.map((entry) => (
                  <tr key={entry.id} data-testid="cluster-node-row">
                    <th scope="row">
                      {entry.name} {entry.self && <span className="pill">you</span>}
                      <div className="muted mono small-text">{entry.id.slice(0, 12)}</div>
                    </th>
                    <td>
                      {entry.device ? (
                        <>
                          <div>{entry.device.os.description}</div>
                          <div className="muted small-text">{entry.device.cpu.model} · {entry.device.cpu.cores} cores</div>
                        </>
                      ) : (
                        <span className="muted">not reported yet</span>
                      )}
                    </td>
                    <td>{entry.device ? <MemoryBar total={entry.device.memory.totalBytes} free={entry.device.memory.freeBytes} /> : '—'}</td>
                    <td>{entry.role}</td>
                    <td className="num" data-testid="node-rate">
                      {formatRate(entry.tokensPerSecond ?? (entry.self ? selfRate : null))}
                    </td>
                    <td className="actions">
                      {entry.offeredMemoryBytes !== null && <span className="muted small-text">offers {formatBytes(entry.offeredMemoryBytes)}</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {view.links.length > 0 && (
          <ul className="link-list" aria-label="Links" data-testid="cluster-links">
            {view.links.map((link) => (
              <li key={`${link.from}-${link.to}`}>
                {nameOf(view, link.from)} ↔ {nameOf(view, link.to)}: <span className="mono">{linkLabel(link)}</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="card" aria-labelledby="join-title">
        <h2 id="join-title">Add a computer</h2>
        <form className="row" onSubmit={(event) => void addPeer(event)}>
          <label className="field grow">
            <span>Peer address (host:port of its mesh{view.meshPort ? `; this node’s mesh port is ${view.meshPort}` : ''})</span>
            <input
              type="text"
              value={address}
              onChange={(event) => setAddress(event.target.value)}
              placeholder="192.168.1.20:7341"
              spellCheck={false}
              data-testid="peer-address"
            />
          </label>
          <button type="submit" className="button primary" disabled={busy || address.trim() === '' || meshMissing} data-testid="add-peer">
            {busy ? 'Adding…' : 'Add peer'}
          </button>
        </form>
        {view.manualPeers.length > 0 && (
          <ul className="peer-list" aria-label="Peers added by address" data-testid="manual-peers">
            {view.manualPeers.map((peer) => (
              <li key={peer}>
                <span className="mono">{peer}</span>
                <button type="button" className="button small danger" onClick={() => void removePeer(peer)} data-testid="remove-peer">
                  Remove<span className="visually-hidden"> {peer}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
        <div className="join-secret">
          <span className="muted">Join secret</span>
          {joinSecret ? (
            <>
              <code data-testid="join-secret">{joinSecret}</code>
              <CopyButton text={joinSecret} label="Copy the join secret" testId="copy-join-secret" />
            </>
          ) : (
            <span className="muted">{meshMissing ? 'available once the mesh runs' : 'loading…'}</span>
          )}
        </div>
        {message && (
          <p className={message.kind === 'error' ? 'notice error' : 'notice ok'} role={message.kind === 'error' ? 'alert' : 'status'} data-testid="devices-message">
            {message.text}
          </p>
        )}
      </section>

      <ThisDevicePage node={node} />
    </div>
  );
}

function nameOf(view: ClusterView, id: string): string {
  return view.nodes.find((entry) => entry.id === id)?.name ?? id.slice(0, 8);
}

function MemoryBar({ total, free }: { total: number; free: number }) {
  const used = Math.max(0, total - free);
  return (
    <div className="mini-meter">
      <progress max={total} value={used} aria-label={`${formatBytes(used)} used of ${formatBytes(total)}`} />
      <span className="small-text">
        {formatBytes(used)} / {formatBytes(free)} free
      </span>
    </div>
  );
}

function clusterViewSchemaSafe(value: unknown): ClusterState | undefined {
  const parsed = clusterViewSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
