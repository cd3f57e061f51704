// Picks the n largest logits without sorting the whole vocabulary: a size-n min-heap over one
// pass, O(V log n). Result is ordered by logit descending, ties by lower id first.

export function topCandidates(logits: Float32Array, n: number): Int32Array {
  const count = Math.min(n, logits.length);
  const heap = new Int32Array(count);
  let size = 0;
  // Heap order: the root is the "worst" kept candidate (lowest logit, then highest id).
  const worse = (a: number, b: number) => logits[a]! < logits[b]! || (logits[a] === logits[b] && a > b);
  const siftDown = (start: number) => {
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let worst = index;
      if (left < size && worse(heap[left]!, heap[worst]!)) worst = left;
      if (right < size && worse(heap[right]!, heap[worst]!)) worst = right;
      if (worst === index) return;
      const swap = heap[index]!;
      heap[index] = heap[worst]!;
      heap[worst] = swap;
      index = worst;
    }
  };
  for (let id = 0; id < logits.length; id++) {
    if (size < count) {
      heap[size] = id;
      let index = size++;
      while (index > 0) {
        const parent = (index - 1) >> 1;
        if (!worse(heap[index]!, heap[parent]!)) break;
        const swap = heap[index]!;
        heap[index] = heap[parent]!;
        heap[parent] = swap;
        index = parent;
      }
    } else if (count > 0 && worse(heap[0]!, id)) {
      heap[0] = id;
      siftDown(0);
    }
  }
  // Drain worst-first into the back of the result.
  const sorted = new Int32Array(count);
  for (let out = count - 1; out >= 0; out--) {
    sorted[out] = heap[0]!;
    heap[0] = heap[--size]!;
    siftDown(0);
  }
  return sorted;
}
