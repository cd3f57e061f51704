// Discovery between machines, as far as one machine can show it: two network namespaces joined by
// a veth pair (their own addresses, 10.213.77.1 and .2, that exist nowhere else), one real
// `tessera serve` in each with discovery on and no --peer. They must find each other over mDNS
// and link up. Needs root for `ip netns add`; where that fails (non-root CI) the test is skipped
// and says why. Namespaces and links are removed in every case.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClusterView } from '../shared/control.js';
import { REPOSITORY_ROOT } from './support/tessera-process.js';

const TAG = `ts${process.pid % 100_000}`;
const SIDES = [
  { namespace: `${TAG}-a`, device: `${TAG}a`, address: '10.213.77.1' },
  { namespace: `${TAG}-b`, device: `${TAG}b`, address: '10.213.77.2' },
] as const;
const HTTP_PORT = 7340;
const SECRET = 'tessera-netns-test-secret';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Sets up both namespaces; returns why it cannot, or undefined when it did. */
function setUpNamespaces(): string | undefined {
  try {
    ip('netns', 'add', SIDES[0].namespace);
  } catch (error) {
    return `ip netns add failed (needs root and iproute2): ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
  ip('netns', 'add', SIDES[1].namespace);
  ip('link', 'add', SIDES[0].device, 'netns', SIDES[0].namespace, 'type', 'veth', 'peer', 'name', SIDES[1].device, 'netns', SIDES[1].namespace);
  for (const side of SIDES) {
    const inside = (...args: string[]) => ip('netns', 'exec', side.namespace, 'ip', ...args);
    inside('link', 'set', 'lo', 'up');
    inside('addr', 'add', `${side.address}/24`, 'dev', side.device);
    inside('link', 'set', side.device, 'up');
    // mDNS goes to 224.0.0.251: send it out of the veth, not nowhere.
    inside('route', 'add', '224.0.0.0/4', 'dev', side.device);
  }
  return undefined;
}

function tearDownNamespaces(): void {
  for (const side of SIDES) {
    try {
      ip('netns', 'delete', side.namespace); // takes its end of the veth pair, and so the pair, with it
    } catch {
      // never made, or gone already
    }
  }
}

interface NamespacedNode {
  child: ChildProcess;
  token: Promise<string>;
  output: () => string;
  dataDir: string;
}

function startInNamespace(namespace: string, dataDir: string): NamespacedNode {
  const env: NodeJS.ProcessEnv = { ...process.env, TESSERA_FROM_SOURCE: '1' };
  delete env.NODE_OPTIONS;
  const child = spawn(
    'ip',
    ['netns', 'exec', namespace, process.execPath, join(REPOSITORY_ROOT, 'bin', 'tessera.js'), 'serve',
      '--port', String(HTTP_PORT), '--data-dir', dataDir, '--mesh-port', '7341', '--join', SECRET, '--threads', '1'],
    { cwd: REPOSITORY_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const token = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no UI line from the node in ${namespace}:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /[?&]token=([^\s&]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(decodeURIComponent(match[1]!));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the node in ${namespace} exited (${code}):\n${output}`)));
  });
  token.catch(() => {});
  return { child, token, output: () => output, dataDir };
}

/** GET /api/cluster from inside the node's namespace (its HTTP server is on that namespace's loopback). */
function clusterView(namespace: string, token: string): ClusterView {
  const body = execFileSync('ip', ['netns', 'exec', namespace, 'curl', '-sf', '-H', `authorization: Bearer ${token}`, `http://127.0.0.1:${HTTP_PORT}/api/cluster`], {
    encoding: 'utf8',
    timeout: 5_000,
  });
  return JSON.parse(body) as ClusterView;
}

async function stopNode(node: NamespacedNode | undefined): Promise<void> {
  if (node === undefined || node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.kill('SIGTERM');
  const timer = setTimeout(() => node.child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

describe('discovery across network namespaces', { timeout: 90_000 }, () => {
  let skipReason: string | undefined;
  const nodes: NamespacedNode[] = [];

  before(() => {
    tearDownNamespaces(); // leftovers of a killed run with this pid
    skipReason = setUpNamespaces();
  });

  after(async () => {
    await Promise.allSettled(nodes.map((node) => stopNode(node)));
    tearDownNamespaces();
    await Promise.allSettled(nodes.map((node) => rm(node.dataDir, { recursive: true, force: true })));
  });

  it('two nodes, one per namespace, find each other with no manual peers', async (context) => {
    if (skipReason !== undefined) {
      context.skip(skipReason);
      return;
    }
    for (const side of SIDES) nodes.push(startInNamespace(side.namespace, await mkdtemp(join(tmpdir(), `tessera-netns-${side.device}-`))));
    const [tokenA, tokenB] = await Promise.all(nodes.map((node) => node.token));
    const deadline = Date.now() + 30_000;
    let views: [ClusterView, ClusterView] | undefined;
    for (;;) {
      try {
        views = [clusterView(SIDES[0].namespace, tokenA!), clusterView(SIDES[1].namespace, tokenB!)];
        if (views.every((view) => view.nodes.length === 2)) break;
      } catch {
        // not answering yet
      }
      if (Date.now() > deadline) {
        assert.fail(`no link within 30 s: ${JSON.stringify(views?.map((view) => view.nodes.length))}\nA:\n${nodes[0]!.output()}\nB:\n${nodes[1]!.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const [a, b] = views!;
    assert.deepEqual(a.manualPeers, [], 'A was given no peer');
    assert.deepEqual(b.manualPeers, [], 'B was given no peer');
    assert.ok(a.nodes.some((node) => node.nodeId === b.selfId), 'A sees B');
    assert.ok(b.nodes.some((node) => node.nodeId === a.selfId), 'B sees A');
  });
});
