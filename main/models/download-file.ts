// Downloads one whole file from a RangeSource: into `<destination>.partial`, continuing from the
// bytes already there (a Range request from where a killed pull stopped), retrying a dropped
// connection with backoff, checking the sha256, and only then renaming to `<destination>`. So a
// file under its final name is always complete and verified; a mismatch is downloaded again once
// and never left where a loader could find it.

import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat, truncate } from 'node:fs/promises';
import { TesseraError } from '../../shared/errors.js';
import { diskError } from './disk-space.js';
import type { RangeSource } from './range-source.js';
import { aborted, backoffDelayMs, DEFAULT_RETRY_POLICY, isRetryable, sleep, type RetryPolicy } from './retry.js';

export const PARTIAL_SUFFIX = '.partial';

export interface FileDownloadOptions {
  readonly source: RangeSource;
  readonly destination: string;
  /** Expected sha256 (hex); the source's when absent. With neither, the file is not verified. */
  readonly sha256?: string;
  readonly signal?: AbortSignal;
  /** Called with the bytes on disk so far (including those resumed from). */
  readonly onProgress?: (receivedBytes: number) => void;
  readonly retry?: RetryPolicy;
}

export interface FileDownloadResult {
  readonly path: string;
  readonly sizeBytes: number;
  /** The sha256 of the bytes written (hex). */
  readonly sha256: string;
  /** Whether it matched an expected hash (false when none was known). */
  readonly verified: boolean;
  /** Bytes that were already in the partial file when this download started. */
  readonly resumedFromBytes: number;
}

export async function downloadToFile(options: FileDownloadOptions): Promise<FileDownloadResult> {
  const expected = (options.sha256 ?? options.source.sha256)?.toLowerCase();
  const partial = options.destination + PARTIAL_SUFFIX;
  const first = await fillPartial(options, partial);
  let hash = first.hash;
  if (expected !== undefined && hash !== expected) {
    // A bad byte on disk or on the wire: start again from nothing, once.
    await rm(partial, { force: true });
    hash = (await fillPartial(options, partial)).hash;
    if (hash !== expected) {
      await rm(partial, { force: true });
      throw new TesseraError(
        'DOWNLOAD_HASH_MISMATCH',
        `${options.source.description} arrived with sha256 ${hash.slice(0, 12)}…, expected ${expected.slice(0, 12)}… (downloaded twice; the file was not kept)`,
      );
    }
  }
  await rename(partial, options.destination);
  return {
    path: options.destination,
    sizeBytes: options.source.sizeBytes,
    sha256: hash,
    verified: expected !== undefined,
    resumedFromBytes: first.resumedFromBytes,
  };
}

/** Brings the partial file to the source's full size; returns the sha256 of all its bytes. */
async function fillPartial(options: FileDownloadOptions, partial: string): Promise<{ hash: string; resumedFromBytes: number }> {
  const { source, signal } = options;
  const total = source.sizeBytes;
  let have = await existingBytes(partial);
  if (have > total) {
    await truncate(partial, 0);
    have = 0;
  }
  const resumedFromBytes = have;
  const hasher = createHash('sha256');
  if (have > 0) await hashFile(partial, have, hasher);
  options.onProgress?.(have);

  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const handle = await open(partial, have > 0 ? 'r+' : 'w');
  try {
    let failures = 0;
    while (have < total) {
      if (signal?.aborted) throw aborted();
      const before = have;
      try {
        for await (const chunk of source.read(have, total, signal)) {
          const take = Math.min(chunk.byteLength, total - have);
          await writeAll(handle, chunk.subarray(0, take), have, partial);
          hasher.update(chunk.subarray(0, take));
          have += take;
          options.onProgress?.(have);
          if (have >= total) break;
        }
        if (have < total) throw new TesseraError('HUB_UNREACHABLE', `${source.description} ended at byte ${have} of ${total}`);
      } catch (error) {
        if (signal?.aborted) throw aborted();
        if (!isRetryable(error)) throw error;
        // A connection that moved bytes before it dropped starts the count afresh.
        failures = have > before ? 1 : failures + 1;
        if (failures > policy.retries) {
          throw new TesseraError(
            'HUB_UNREACHABLE',
            `the network failed ${failures} times in a row while downloading ${source.description} (${have} of ${total} bytes kept; run the same command again to continue)`,
            { cause: error },
          );
        }
        await sleep(backoffDelayMs(policy, failures - 1), signal);
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { hash: hasher.digest('hex'), resumedFromBytes };
}

async function existingBytes(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashFile(path: string, length: number, hasher: Hash): Promise<void> {
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1 })) hasher.update(chunk as Buffer);
}

async function writeAll(handle: import('node:fs/promises').FileHandle, bytes: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  try {
    while (done < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
      done += bytesWritten;
    }
  } catch (error) {
    throw diskError(error, path);
  }
}
