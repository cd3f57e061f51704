// Runs the real `tessera` command (bin/tessera.js) as a child process, the way a user would.
// By default it runs the TypeScript sources (TESSERA_FROM_SOURCE=1) so e2e tests see the code as it
// is now, not a stale dist/; pass `fromSource: false` to test the compiled build.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(REPOSITORY_ROOT, 'bin', 'tessera.js');
/** Time for a node to print its UI line (tsx compiles the sources on first run). */
const STARTUP_TIMEOUT_MS = 30_000;

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface SpawnOptions {
  fromSource?: boolean;
  env?: NodeJS.ProcessEnv;
}

export function spawnTessera(args: string[], options: SpawnOptions = {}): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, TESSERA_FROM_SOURCE: options.fromSource === false ? '0' : '1' };
  delete env.NODE_OPTIONS; // the test runner's own loader flags are not the user's
  return spawn(process.execPath, [BIN, ...args], { cwd: REPOSITORY_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a command to its end (it must end by itself within `timeoutMs`). */
export function runTessera(args: string[], options: SpawnOptions & { timeoutMs?: number } = {}): Promise<CliRun> {
  const child = spawnTessera(args, options);
  return collect(child, options.timeoutMs ?? STARTUP_TIMEOUT_MS);
}

function collect(child: ChildProcess, timeoutMs: number): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tessera did not exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // 'exit' can come before the pipes drain; 'close' comes after.
      child.once('close', () => resolve({ code, signal, stdout, stderr }));
    });
  });
}

export interface RunningNode {
  process: ChildProcess;
  /** `http://127.0.0.1:<port>/?token=…` as printed. */
  uiUrl: string;
  baseUrl: string;
  token: string;
  dataDir: string;
  /** Output so far. */
  output(): { stdout: string; stderr: string };
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<CliRun>;
}

/** Starts `tessera <command>` on a free port with a fresh data dir, and waits for its UI line. */
export async function startTessera(options: SpawnOptions & { command?: string; args?: string[]; dataDir?: string } = {}): Promise<RunningNode> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'tessera-e2e-')));
  const port = await freePort();
  // Tests must not meet each other on the default mesh port or by LAN discovery.
  const args = options.args ?? [];
  const meshDefaults = args.includes('--mesh-port') ? [] : ['--mesh-port', '0', '--no-discovery'];
  const child = spawnTessera([options.command ?? 'serve', '--port', String(port), '--data-dir', dataDir, ...meshDefaults, ...args], options);
  const done = collect(child, 24 * 60 * 60 * 1000);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));

  const uiUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no UI line within ${STARTUP_TIMEOUT_MS} ms\n${stdout}\n${stderr}`)), STARTUP_TIMEOUT_MS);
    // The address block ends with "Press Ctrl-C to stop."; wait for all of it (a pipe may split it).
    const look = () => {
      const match = /UI:\s+(http:\/\/\S+)/.exec(stdout);
      if (match && /Press Ctrl-C to stop\./.test(stdout)) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tessera exited with ${code} before printing its UI line\n${stdout}\n${stderr}`));
    });
  });
  const url = new URL(uiUrl);
  return {
    process: child,
    uiUrl,
    baseUrl: url.origin,
    token: url.searchParams.get('token') ?? '',
    dataDir,
    output: () => ({ stdout, stderr }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const result = await done;
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
      return result;
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
