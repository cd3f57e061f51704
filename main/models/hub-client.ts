// The Hugging Face hub through `@huggingface/hub`: listing a repo's files (with the sha256 of
// each LFS file) and reading byte ranges of one. The hub's address comes from HF_ENDPOINT and
// the token from HF_TOKEN, as in Hugging Face's own tools, so mirrors and tests work.
// Every hub failure leaves here as a TesseraError: HUB_NOT_FOUND (404), HUB_UNAUTHORIZED
// (401/403, e.g. a gated repo without a token), HUB_UNREACHABLE (network; worth retrying).

import { downloadFile, fileDownloadInfo, HubApiError, listFiles, type FileDownloadInfoOutput } from '@huggingface/hub';
import { TesseraError } from '../../shared/errors.js';
import type { RepoFile } from './model-ref.js';
import type { RangeSource } from './range-source.js';
import { DEFAULT_RETRY_POLICY, withRetries, type RetryPolicy } from './retry.js';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

export interface HubSettings {
  /** e.g. `https://huggingface.co` or a mirror; no trailing slash. */
  readonly hubUrl: string;
  readonly accessToken?: string;
  readonly retry?: RetryPolicy;
}

/** HF_ENDPOINT (default huggingface.co) and HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN). */
export function hubSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): HubSettings {
  const hubUrl = (env.HF_ENDPOINT?.trim() || DEFAULT_HUB_URL).replace(/\/+$/, '');
  const accessToken = env.HF_TOKEN?.trim() || env.HUGGING_FACE_HUB_TOKEN?.trim() || undefined;
  return accessToken ? { hubUrl, accessToken } : { hubUrl };
}

function credentials(settings: HubSettings): { hubUrl: string; accessToken?: string } {
  return settings.accessToken ? { hubUrl: settings.hubUrl, accessToken: settings.accessToken } : { hubUrl: settings.hubUrl };
}

/** Every file of a repo (recursively), with sizes and LFS sha256s. */
export async function listRepoFiles(repo: string, settings: HubSettings): Promise<RepoFile[]> {
  return withRetries(
    async () => {
      try {
        const files: RepoFile[] = [];
        for await (const entry of listFiles({ repo, recursive: true, ...credentials(settings) })) {
          if (entry.type !== 'file') continue;
          const sha256 = entry.lfs?.oid;
          files.push({ path: entry.path, sizeBytes: entry.lfs?.size ?? entry.size, ...(sha256 ? { sha256 } : {}) });
        }
        return files;
      } catch (error) {
        throw hubError(error, `repo ${repo}`, settings);
      }
    },
    settings.retry ?? DEFAULT_RETRY_POLICY,
  );
}

/** Opens one file of a repo for ranged reads; checks it exists and the token may read it. */
export async function openHubFile(repo: string, file: RepoFile, settings: HubSettings, signal?: AbortSignal): Promise<RangeSource> {
  const what = `${repo}/${file.path}`;
  const info = await withRetries(
    async () => {
      let found: FileDownloadInfoOutput | null;
      try {
        found = await fileDownloadInfo({ repo, path: file.path, ...credentials(settings), fetch: fetchWith(signal) });
      } catch (error) {
        throw hubError(error, what, settings);
      }
      if (found === null) throw new TesseraError('HUB_NOT_FOUND', `${what} does not exist on ${settings.hubUrl}`);
      return found;
    },
    settings.retry ?? DEFAULT_RETRY_POLICY,
    signal,
  );
  return {
    description: `hub ${what}`,
    sizeBytes: info.size,
    sha256: file.sha256,
    read: (start, end, readSignal) => readHubRange(repo, file, info, settings, start, end, readSignal),
  };
}

async function* readHubRange(
  repo: string,
  file: RepoFile,
  info: FileDownloadInfoOutput,
  settings: HubSettings,
  start: number,
  end: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  let blob: Blob | null;
  try {
    // xet: false reads through the plain resolve URL, which every hub file has.
    blob = await downloadFile({ repo, path: file.path, ...credentials(settings), downloadInfo: info, xet: false, fetch: fetchWith(signal) });
  } catch (error) {
    throw hubError(error, `${repo}/${file.path}`, settings);
  }
  if (blob === null) throw new TesseraError('HUB_NOT_FOUND', `${repo}/${file.path} does not exist on ${settings.hubUrl}`);
  const reader = blob.slice(start, end).stream().getReader();
  try {
    for (;;) {
      const step = await reader.read().catch((error: unknown) => {
        throw hubError(error, `${repo}/${file.path}`, settings);
      });
      if (step.done) return;
      yield step.value as Uint8Array;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** The hub library takes a fetch; this one carries our abort signal on every request it makes. */
function fetchWith(signal: AbortSignal | undefined): typeof fetch {
  if (signal === undefined) return fetch;
  return (input, init) => fetch(input, { ...init, signal });
}

/** Maps what the hub library throws to a TesseraError with one clear line. */
export function hubError(error: unknown, what: string, settings: HubSettings): Error {
  if (error instanceof TesseraError) return error;
  if (error instanceof HubApiError) {
    if (error.statusCode === 404) {
      return new TesseraError('HUB_NOT_FOUND', `${what} was not found on ${settings.hubUrl} (check the name)`, { cause: error });
    }
    if (error.statusCode === 401 || error.statusCode === 403) {
      const hint = settings.accessToken
        ? 'your HF_TOKEN has no access to it (accept its license on the hub?)'
        : 'it is gated or private: set HF_TOKEN to a hub access token';
      return new TesseraError('HUB_UNAUTHORIZED', `${what}: ${hint}`, { cause: error });
    }
    return new TesseraError('HUB_UNREACHABLE', `${settings.hubUrl} answered ${error.statusCode} for ${what}`, { cause: error });
  }
  if (error instanceof Error && error.name === 'AbortError') return error;
  const detail = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
  return new TesseraError('HUB_UNREACHABLE', `cannot reach ${settings.hubUrl} for ${what}: ${detail}`, { cause: error });
}
