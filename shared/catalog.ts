// Recommended models: what the Models page offers and `tessera pull` names accept without a hunt
// for files. Each entry gives the hub repo, the file for each quantization with its size, the
// architecture and layer count (what the planner needs before anything downloads), and what the
// model is good at. Sizes are as the hub lists them (bytes, rounded); a pull checks the real size
// and sha256 from the hub, so a drifted figure here only affects the fit estimate.

export interface CatalogFile {
  /** e.g. `Q4_K_M`. */
  readonly quant: string;
  /** Path inside the repo. */
  readonly file: string;
  readonly sizeBytes: number;
}

export interface CatalogEntry {
  /** Stable id used by the UI and the control API, e.g. `qwen3-8b`. */
  readonly id: string;
  readonly name: string;
  readonly repo: string;
  /** `general.architecture` of the files. */
  readonly architecture: 'qwen3' | 'qwen2' | 'llama';
  readonly layers: number;
  readonly parameters: string;
  readonly goodFor: string;
  /** First the default (Q4_K_M where the repo has it). */
  readonly files: readonly CatalogFile[];
}

const GB = 1_000_000_000;
const MB = 1_000_000;

export const CATALOG: readonly CatalogEntry[] = [
  {
    id: 'qwen3-0.6b', name: 'Qwen3 0.6B', repo: 'Qwen/Qwen3-0.6B-GGUF', architecture: 'qwen3', layers: 28, parameters: '0.6B',
    goodFor: 'trying Tessera out; quick answers on any machine',
    files: [{ quant: 'Q8_0', file: 'Qwen3-0.6B-Q8_0.gguf', sizeBytes: 639 * MB }],
  },
  {
    id: 'qwen3-1.7b', name: 'Qwen3 1.7B', repo: 'Qwen/Qwen3-1.7B-GGUF', architecture: 'qwen3', layers: 28, parameters: '1.7B',
    goodFor: 'chat and simple tool calls on a laptop',
    files: [{ quant: 'Q8_0', file: 'Qwen3-1.7B-Q8_0.gguf', sizeBytes: 1.83 * GB }],
  },
  {
    id: 'qwen3-4b', name: 'Qwen3 4B', repo: 'Qwen/Qwen3-4B-GGUF', architecture: 'qwen3', layers: 36, parameters: '4B',
    goodFor: 'everyday chat, reasoning and tool use',
    files: [
      { quant: 'Q4_K_M', file: 'Qwen3-4B-Q4_K_M.gguf', sizeBytes: 2.5 * GB },
      { quant: 'Q8_0', file: 'Qwen3-4B-Q8_0.gguf', sizeBytes: 4.28 * GB },
    ],
  },
  {
    id: 'qwen3-8b', name: 'Qwen3 8B', repo: 'Qwen/Qwen3-8B-GGUF', architecture: 'qwen3', layers: 36, parameters: '8B',
    goodFor: 'a strong general assistant with tool calling',
    files: [
      { quant: 'Q4_K_M', file: 'Qwen3-8B-Q4_K_M.gguf', sizeBytes: 5.03 * GB },
      { quant: 'Q8_0', file: 'Qwen3-8B-Q8_0.gguf', sizeBytes: 8.71 * GB },
    ],
  },
  {
    id: 'qwen3-14b', name: 'Qwen3 14B', repo: 'Qwen/Qwen3-14B-GGUF', architecture: 'qwen3', layers: 40, parameters: '14B',
    goodFor: 'harder reasoning and agents; split across two or three desktops',
    files: [
      { quant: 'Q4_K_M', file: 'Qwen3-14B-Q4_K_M.gguf', sizeBytes: 9.0 * GB },
      { quant: 'Q8_0', file: 'Qwen3-14B-Q8_0.gguf', sizeBytes: 15.7 * GB },
    ],
  },
  {
    id: 'qwen3-32b', name: 'Qwen3 32B', repo: 'Qwen/Qwen3-32B-GGUF', architecture: 'qwen3', layers: 64, parameters: '32B',
    goodFor: 'the best answers here; needs a cluster',
    files: [
      { quant: 'Q4_K_M', file: 'Qwen3-32B-Q4_K_M.gguf', sizeBytes: 19.8 * GB },
      { quant: 'Q8_0', file: 'Qwen3-32B-Q8_0.gguf', sizeBytes: 34.8 * GB },
    ],
  },
  {
    id: 'llama-3.2-1b', name: 'Llama 3.2 1B Instruct', repo: 'bartowski/Llama-3.2-1B-Instruct-GGUF', architecture: 'llama', layers: 16, parameters: '1B',
    goodFor: 'fast small-talk and summaries on modest hardware',
    files: [
      { quant: 'Q4_K_M', file: 'Llama-3.2-1B-Instruct-Q4_K_M.gguf', sizeBytes: 808 * MB },
      { quant: 'Q8_0', file: 'Llama-3.2-1B-Instruct-Q8_0.gguf', sizeBytes: 1.32 * GB },
    ],
  },
  {
    id: 'llama-3.2-3b', name: 'Llama 3.2 3B Instruct', repo: 'bartowski/Llama-3.2-3B-Instruct-GGUF', architecture: 'llama', layers: 28, parameters: '3B',
    goodFor: 'general chat on one desktop',
    files: [
      { quant: 'Q4_K_M', file: 'Llama-3.2-3B-Instruct-Q4_K_M.gguf', sizeBytes: 2.02 * GB },
      { quant: 'Q8_0', file: 'Llama-3.2-3B-Instruct-Q8_0.gguf', sizeBytes: 3.42 * GB },
    ],
  },
  {
    id: 'llama-3.1-8b', name: 'Llama 3.1 8B Instruct', repo: 'bartowski/Meta-Llama-3.1-8B-Instruct-GGUF', architecture: 'llama', layers: 32, parameters: '8B',
    goodFor: 'a well-known general assistant, long context',
    files: [
      { quant: 'Q4_K_M', file: 'Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf', sizeBytes: 4.92 * GB },
      { quant: 'Q8_0', file: 'Meta-Llama-3.1-8B-Instruct-Q8_0.gguf', sizeBytes: 8.54 * GB },
    ],
  },
  {
    id: 'qwen2.5-coder-7b', name: 'Qwen2.5-Coder 7B Instruct', repo: 'bartowski/Qwen2.5-Coder-7B-Instruct-GGUF', architecture: 'qwen2', layers: 28, parameters: '7B',
    goodFor: 'code completion and chat in the IDE',
    files: [
      { quant: 'Q4_K_M', file: 'Qwen2.5-Coder-7B-Instruct-Q4_K_M.gguf', sizeBytes: 4.68 * GB },
      { quant: 'Q8_0', file: 'Qwen2.5-Coder-7B-Instruct-Q8_0.gguf', sizeBytes: 8.1 * GB },
    ],
  },
  {
    id: 'qwen2.5-coder-14b', name: 'Qwen2.5-Coder 14B Instruct', repo: 'bartowski/Qwen2.5-Coder-14B-Instruct-GGUF', architecture: 'qwen2', layers: 48, parameters: '14B',
    goodFor: 'IDE agents and refactors across files',
    files: [
      { quant: 'Q4_K_M', file: 'Qwen2.5-Coder-14B-Instruct-Q4_K_M.gguf', sizeBytes: 8.99 * GB },
      { quant: 'Q8_0', file: 'Qwen2.5-Coder-14B-Instruct-Q8_0.gguf', sizeBytes: 15.7 * GB },
    ],
  },
  {
    id: 'qwen2.5-coder-32b', name: 'Qwen2.5-Coder 32B Instruct', repo: 'bartowski/Qwen2.5-Coder-32B-Instruct-GGUF', architecture: 'qwen2', layers: 64, parameters: '32B',
    goodFor: 'the strongest open coder here; needs a cluster',
    files: [
      { quant: 'Q4_K_M', file: 'Qwen2.5-Coder-32B-Instruct-Q4_K_M.gguf', sizeBytes: 19.9 * GB },
      { quant: 'Q8_0', file: 'Qwen2.5-Coder-32B-Instruct-Q8_0.gguf', sizeBytes: 34.8 * GB },
    ],
  },
  {
    id: 'mistral-7b', name: 'Mistral 7B Instruct v0.3', repo: 'bartowski/Mistral-7B-Instruct-v0.3-GGUF', architecture: 'llama', layers: 32, parameters: '7B',
    goodFor: 'general chat and function calling',
    files: [
      { quant: 'Q4_K_M', file: 'Mistral-7B-Instruct-v0.3-Q4_K_M.gguf', sizeBytes: 4.37 * GB },
      { quant: 'Q8_0', file: 'Mistral-7B-Instruct-v0.3-Q8_0.gguf', sizeBytes: 7.7 * GB },
    ],
  },
];

/**
 * Memory a model needs beyond its weights: KV cache, activations and the runtime, as a share of
 * the file size (never under 512 MB). A rough figure for "will it fit", not the planner's.
 */
export const FIT_OVERHEAD_FRACTION = 0.2;
export const FIT_MIN_OVERHEAD_BYTES = 512 * MB;

export function memoryNeededBytes(file: CatalogFile): number {
  return file.sizeBytes + Math.max(FIT_MIN_OVERHEAD_BYTES, file.sizeBytes * FIT_OVERHEAD_FRACTION);
}

/** Whether a file fits in `memoryBytes` (one node's memory, or the cluster's sum). */
export function fitsInMemory(file: CatalogFile, memoryBytes: number): boolean {
  return memoryNeededBytes(file) <= memoryBytes;
}

/** The catalog with each file marked for a memory budget, as the control API serves it. */
export function catalogWithFit(memoryBytes: number): Array<CatalogEntry & { files: Array<CatalogFile & { fits: boolean; memoryNeededBytes: number }> }> {
  return CATALOG.map((entry) => ({
    ...entry,
    files: entry.files.map((file) => ({ ...file, fits: fitsInMemory(file, memoryBytes), memoryNeededBytes: memoryNeededBytes(file) })),
  }));
}

export function findCatalogEntry(id: string): CatalogEntry | undefined {
  return CATALOG.find((entry) => entry.id === id);
}
