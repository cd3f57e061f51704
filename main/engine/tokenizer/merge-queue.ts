// A binary heap of candidate merges between adjacent symbols, shared by the BPE and SentencePiece
// merge loops. Lower `priority` pops first; ties go to the leftmost pair, as in llama.cpp.

export interface MergeCandidate {
  left: number;
  right: number;
  priority: number;
  /** Combined length of both symbols when queued; a different length later means the entry is stale. */
  length: number;
  /** The token the merged symbol spells; -1 when it spells none. */
  made: number;
}

export class MergeQueue {
  private readonly heap: MergeCandidate[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(candidate: MergeCandidate): void {
    const heap = this.heap;
    heap.push(candidate);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  pop(): MergeCandidate | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === index) break;
        [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
        index = smallest;
      }
    }
    return top;
  }
}

function before(a: MergeCandidate, b: MergeCandidate): boolean {
  return a.priority < b.priority || (a.priority === b.priority && a.left < b.left);
}

/**
 * Symbols of one word as a doubly linked list over the word's characters: symbol `i` starts at
 * character `i` and spans `length[i]` characters (0 once merged into its left neighbour).
 */
export class SymbolList {
  readonly length: Int32Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;

  constructor(readonly chars: readonly string[]) {
    const count = chars.length;
    this.length = new Int32Array(count).fill(1);
    this.next = new Int32Array(count);
    this.prev = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      this.next[i] = i + 1 < count ? i + 1 : -1;
      this.prev[i] = i - 1;
    }
  }

  text(index: number): string {
    let out = '';
    const end = index + this.length[index]!;
    for (let i = index; i < end; i++) out += this.chars[i];
    return out;
  }

  isCurrent(candidate: MergeCandidate): boolean {
    const { left, right } = candidate;
    return (
      this.length[left]! > 0 &&
      this.length[right]! > 0 &&
      this.next[left] === right &&
      this.length[left]! + this.length[right]! === candidate.length
    );
  }

  /** Merges `right` into `left`. */
  merge(left: number, right: number): void {
    this.length[left] = this.length[left]! + this.length[right]!;
    this.length[right] = 0;
    const after = this.next[right]!;
    this.next[left] = after;
    if (after >= 0) this.prev[after] = left;
  }
}
