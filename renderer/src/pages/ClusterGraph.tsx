// The cluster as a picture: nodes on a ring (this node first), links as lines labelled with
// latency and bandwidth. Plain SVG; the same facts are in the table beside it for screen readers.
import type { ClusterLinkView, ClusterNodeView } from '../cluster-view.js';
import { formatBytes, formatRate } from '../format.js';

const WIDTH = 640;
const HEIGHT = 250;
const NODE_RADIUS = 30;

export function ClusterGraph({ nodes, links }: { nodes: ClusterNodeView[]; links: ClusterLinkView[] }) {
  const positions = new Map(nodes.map((node, index) => [node.id, place(index, nodes.length)]));
  const summary = `${nodes.length} node${nodes.length === 1 ? '' : 's'}, ${links.length} link${links.length === 1 ? '' : 's'}`;
  return (
    <svg className="graph" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`Cluster graph: ${summary}`} data-testid="cluster-graph">
      {links.map((link) => {
        const from = positions.get(link.from);
        const to = positions.get(link.to);
        if (!from || !to) return null;
        const middle = { x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 };
        return (
          <g key={`${link.from}-${link.to}`} className="graph-link" data-testid="graph-link">
            <line x1={from.x} y1={from.y} x2={to.x} y2={to.y} />
            <text x={middle.x} y={middle.y - 8} textAnchor="middle">
              {linkLabel(link)}
            </text>
          </g>
        );
      })}
      {nodes.map((node) => {
        const { x, y } = positions.get(node.id)!;
        const memory = node.device ? `${formatBytes(node.device.memory.freeBytes)} free` : '';
        const rate = node.tokensPerSecond === null ? '' : `${formatRate(node.tokensPerSecond)} tok/s`;
        return (
          <g key={node.id} className={node.self ? 'graph-node self' : 'graph-node'} data-testid="graph-node">
            <circle cx={x} cy={y} r={NODE_RADIUS} />
            <text x={x} y={y + 4} textAnchor="middle" className="graph-role">
              {node.role}
            </text>
            <text x={x} y={y + NODE_RADIUS + 18} textAnchor="middle" className="graph-name">
              {node.name}
            </text>
            <text x={x} y={y + NODE_RADIUS + 34} textAnchor="middle" className="graph-detail">
              {[memory, rate].filter(Boolean).join(' · ')}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export function linkLabel(link: ClusterLinkView): string {
  const latency = link.rttMs === null ? '… ms' : `${link.rttMs < 10 ? link.rttMs.toFixed(1) : Math.round(link.rttMs)} ms`;
  const bandwidth = link.bandwidthBytesPerSecond === null ? 'measuring' : `${formatBytes(link.bandwidthBytesPerSecond)}/s`;
  return `${latency} · ${bandwidth}`;
}

/** One node in the middle; more on an ellipse, the first at the left. */
function place(index: number, count: number): { x: number; y: number } {
  if (count === 1) return { x: WIDTH / 2, y: HEIGHT / 2 - 20 };
  const angle = Math.PI + (2 * Math.PI * index) / count;
  return { x: WIDTH / 2 + Math.cos(angle) * (WIDTH / 2 - 110), y: HEIGHT / 2 - 20 + Math.sin(angle) * (HEIGHT / 2 - 70) };
}
