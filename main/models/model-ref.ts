// Names of things in the model store: `owner/repo[:file.gguf]` as typed on the command line,
// the quantization a GGUF file name announces, split GGUF parts (`-00001-of-00003.gguf`) grouped
// into one model, and the default pick when no file is named.

import { TesseraError } from '../../shared/errors.js';

export interface ModelRef {
  /** `owner/name` on the hub. */
  readonly repo: string;
  /** A file path inside the repo, when one was named. */
  readonly file?: string;
}

const REPO_NAME = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;

/** Parses `owner/repo` or `owner/repo:file.gguf` (also `hf.co/owner/repo`). */
export function parseModelRef(text: string): ModelRef {
  const trimmed = text.trim().replace(/^(https?:\/\/)?(huggingface\.co|hf\.co)\//, '');
  const colon = trimmed.indexOf(':');
  const repo = colon === -1 ? trimmed : trimmed.slice(0, colon);
  const file = colon === -1 ? undefined : trimmed.slice(colon + 1);
  if (!REPO_NAME.test(repo)) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `"${text}" is not a model reference: use owner/repo or owner/repo:file.gguf`);
  }
  if (file !== undefined && (file === '' || file.split('/').includes('..'))) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `"${text}" names no usable file after the colon`);
  }
  return file === undefined ? { repo } : { repo, file };
}

const SPLIT_PART = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** `{ index: 1, count: 3 }` for `model-00001-of-00003.gguf`; undefined for a whole file. */
export function splitPart(fileName: string): { index: number; count: number } | undefined {
  const match = SPLIT_PART.exec(fileName);
  if (!match) return undefined;
  const index = Number(match[1]);
  const count = Number(match[2]);
  return index >= 1 && index <= count ? { index, count } : undefined;
}

/** The last path segment: the hub's `Q4_K_M/x.gguf` is stored flat as `x.gguf`. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The model's id in the local store: the file name without `.gguf` and without the split suffix
 * (`Qwen3-8B-Q4_K_M-00001-of-00002.gguf` → `Qwen3-8B-Q4_K_M`).
 */
export function modelIdOf(fileName: string): string {
  return baseName(fileName).replace(SPLIT_PART, '').replace(/\.gguf$/i, '');
}

// Longest names first so `Q4_K_M` wins over `Q4_K`.
const QUANT_NAMES = [
  'IQ1_S', 'IQ1_M', 'IQ2_XXS', 'IQ2_XS', 'IQ2_S', 'IQ2_M', 'IQ3_XXS', 'IQ3_XS', 'IQ3_S', 'IQ3_M', 'IQ4_XS', 'IQ4_NL',
  'Q2_K_S', 'Q2_K', 'Q3_K_S', 'Q3_K_M', 'Q3_K_L', 'Q4_K_S', 'Q4_K_M', 'Q4_K_L', 'Q5_K_S', 'Q5_K_M', 'Q5_K_L', 'Q6_K_L', 'Q6_K',
  'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'BF16', 'F16', 'F32',
].sort((a, b) => b.length - a.length);

/** The quantization a file name announces (`…-Q4_K_M.gguf` → `Q4_K_M`), case-insensitive. */
export function quantOf(fileName: string): string | undefined {
  const upper = modelIdOf(fileName).toUpperCase();
  let best: { name: string; at: number } | undefined;
  for (const name of QUANT_NAMES) {
    const at = upper.lastIndexOf(name);
    if (at === -1) continue;
    // Bounded by a separator or the ends, so `F16` does not match inside `BF16`.
    const before = at === 0 ? '' : upper[at - 1]!;
    const after = upper[at + name.length] ?? '';
    if (/[A-Z0-9]/.test(before) || /[A-Z0-9]/.test(after)) continue;
    if (best === undefined || at > best.at) best = { name, at };
  }
  return best?.name;
}

/** A file in a hub repo. */
export interface RepoFile {
  readonly path: string;
  readonly sizeBytes: number;
  /** sha256 from the hub's LFS metadata; undefined for a file not stored in LFS. */
  readonly sha256?: string;
}

/** One model in a repo: a whole GGUF file, or every part of a split one, in part order. */
export interface RepoModel {
  readonly id: string;
  readonly files: readonly RepoFile[];
  readonly sizeBytes: number;
  readonly quant: string | undefined;
}

/** Groups a repo's GGUF files into models; split parts missing a sibling are left out. */
export function groupModels(files: readonly RepoFile[]): RepoModel[] {
  const groups = new Map<string, RepoFile[]>();
  for (const file of files) {
    if (!/\.gguf$/i.test(file.path)) continue;
    const part = splitPart(file.path);
    const key = part ? `${file.path.replace(SPLIT_PART, '')}#${part.count}` : file.path;
    groups.set(key, [...(groups.get(key) ?? []), file]);
  }
  const models: RepoModel[] = [];
  for (const group of groups.values()) {
    const part = splitPart(group[0]!.path);
    if (part && group.length !== part.count) continue;
    const ordered = [...group].sort((a, b) => (splitPart(a.path)?.index ?? 0) - (splitPart(b.path)?.index ?? 0));
    models.push({
      id: modelIdOf(ordered[0]!.path),
      files: ordered,
      sizeBytes: ordered.reduce((sum, file) => sum + file.sizeBytes, 0),
      quant: quantOf(ordered[0]!.path),
    });
  }
  return models.sort((a, b) => a.sizeBytes - b.sizeBytes);
}

/** Preference when no file is named: the usual sweet spot of size and quality first. */
export const DEFAULT_QUANT_PREFERENCE = ['Q4_K_M', 'Q4_K_S', 'Q5_K_M', 'Q4_0', 'Q6_K', 'Q8_0', 'Q5_K_S', 'Q3_K_M'] as const;

/** The model `pull` takes when none is named; mmproj (vision projector) files are never it. */
export function pickDefaultModel(models: readonly RepoModel[]): RepoModel | undefined {
  const candidates = models.filter((model) => !/mmproj/i.test(model.id));
  for (const quant of DEFAULT_QUANT_PREFERENCE) {
    const found = candidates.find((model) => model.quant === quant);
    if (found) return found;
  }
  return candidates[0];
}

/** Finds the model a named file belongs to (any part of a split model names the whole). */
export function findModelByFile(models: readonly RepoModel[], file: string): RepoModel | undefined {
  return models.find((model) => model.files.some((entry) => entry.path === file || baseName(entry.path) === file));
}
