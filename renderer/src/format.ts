// How figures are written in the UI. Plain functions, tested under Node.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 16_777_216 -> "16.0 MiB"; one decimal from KiB up. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** Share of `part` in `whole` as a whole percentage, 0 when `whole` is 0. */
export function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 100) : 0;
}

/** A node's generation rate: 12.345 -> "12.3", 0 -> "0.0", unknown (an older peer) -> "—". */
export function formatRate(tokensPerSecond: number | null | undefined): string {
  return tokensPerSecond === null || tokensPerSecond === undefined || !Number.isFinite(tokensPerSecond) ? '—' : tokensPerSecond.toFixed(1);
}

/** Seconds -> "3 h 4 min", "5 min", "12 s". */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min`;
  return `${seconds} s`;
}
