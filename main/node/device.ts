// What this machine is and how much memory it has free right now, read from `node:os`.
// The sampler re-reads the live figures every few seconds for the UI's device card (and later
// for the mesh, which reports every node's device to its peers).
import { readFileSync } from 'node:fs';
import { arch, cpus, freemem, hostname, platform, release, totalmem, type, version } from 'node:os';
import type { DeviceInfo } from '../../shared/control.js';

/** How often live device figures are re-read and sent to the UI. */
export const DEVICE_SAMPLE_INTERVAL_MS = 2_000;

export function readDeviceInfo(): DeviceInfo {
  const processors = cpus();
  return {
    hostname: hostname(),
    os: { platform: platform(), description: describeOs(), arch: arch() },
    cpu: { model: processors[0]?.model.trim() || 'unknown CPU', cores: processors.length },
    memory: { totalBytes: totalmem(), freeBytes: freemem() },
    sampledAt: Date.now(),
  };
}

let cachedOsDescription: string | undefined;

/** "Debian GNU/Linux 12 (bookworm), Linux 6.1.0", "macOS (Darwin 23.1.0)", "Windows 11 Pro". */
export function describeOs(): string {
  cachedOsDescription ??= computeOsDescription();
  return cachedOsDescription;
}

function computeOsDescription(): string {
  switch (platform()) {
    case 'linux': {
      const distribution = linuxPrettyName();
      const kernel = `Linux ${release()}`;
      return distribution ? `${distribution}, ${kernel}` : kernel;
    }
    case 'darwin':
      return `macOS (Darwin ${release()})`;
    case 'win32':
      return version() || `Windows ${release()}`;
    default:
      return `${type()} ${release()}`;
  }
}

function linuxPrettyName(): string | undefined {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
    return match?.[1] || undefined;
  } catch {
    return undefined; // not every Linux has it (minimal containers); the kernel alone will do
  }
}

/** Calls `onSample` with fresh figures every `intervalMs` until stopped. */
export class DeviceSampler {
  #timer: NodeJS.Timeout | undefined;
  #latest: DeviceInfo = readDeviceInfo();

  constructor(
    private readonly onSample: (device: DeviceInfo) => void,
    private readonly intervalMs = DEVICE_SAMPLE_INTERVAL_MS,
  ) {}

  get latest(): DeviceInfo {
    return this.#latest;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.#latest = readDeviceInfo();
      this.onSample(this.#latest);
    }, this.intervalMs);
    this.#timer.unref(); // sampling alone never keeps the process alive
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
