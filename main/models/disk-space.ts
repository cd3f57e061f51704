// The free-disk check a download makes before it starts, so a 20 GB pull fails in the first
// second with a clear line rather than at 97% with ENOSPC.

import { statfs } from 'node:fs/promises';
import { TesseraError } from '../../shared/errors.js';

/** Room left beyond the download itself, so the disk is not filled to the last byte. */
export const DISK_HEADROOM_BYTES = 256 * 1024 * 1024;

/** How many bytes a folder's file system has free for this user. */
export type FreeSpaceProbe = (dir: string) => Promise<number>;

export const statfsFreeBytes: FreeSpaceProbe = async (dir) => {
  const stats = await statfs(dir);
  return Number(stats.bavail) * Number(stats.bsize);
};

/** Throws DISK_FULL when `dir` cannot take `neededBytes` more plus the headroom. */
export async function ensureFreeSpace(dir: string, neededBytes: number, probe: FreeSpaceProbe = statfsFreeBytes): Promise<void> {
  if (neededBytes <= 0) return;
  const free = await probe(dir);
  if (free < neededBytes + DISK_HEADROOM_BYTES) {
    throw new TesseraError(
      'DISK_FULL',
      `not enough disk space in ${dir}: the download needs ${formatBytes(neededBytes)}, ${formatBytes(free)} is free`,
    );
  }
}

/** Turns ENOSPC from a write into DISK_FULL; other errors pass through. */
export function diskError(error: unknown, path: string): unknown {
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC') {
    return new TesseraError('DISK_FULL', `the disk holding ${path} is full`, { cause: error });
  }
  return error;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1536 → "1.5 KB" (powers of 1024, as file managers show sizes). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(value >= 100 ? 0 : 1)} ${UNITS[unit]}`;
}
