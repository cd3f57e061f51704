// The plain scalar implementation of `ComputeBackend`: the specification every faster backend
// is tested against. It favours being obviously right over being fast: weights stay in their
// GGUF encoding and each matrix row is decoded with `gguf/quant.ts` when a product needs it,
// sums are taken in f64 (JavaScript numbers) and rounded to f32 when stored.
//
// It runs on the calling thread and allocates nothing per op beyond the one scratch row
// sized at upload time.

import type {
  Activation,
  AttentionShape,
  ComputeBackend,
  RopeStyle,
  Weight,
} from '../backend.js';
import { dequantizeInto, tensorByteLength } from '../gguf/quant.js';
import type { GGMLType } from '../gguf/types.js';
import { TesseraError } from '../../../shared/errors.js';

class ReferenceActivation implements Activation {
  constructor(readonly data: Float32Array) {}
  get length(): number {
    return this.data.length;
  }
}

class ReferenceWeight implements Weight {
  readonly rowBytes: number;
  constructor(
    readonly type: GGMLType,
    readonly rows: number,
    readonly cols: number,
    readonly bytes: Uint8Array,
  ) {
    this.rowBytes = tensorByteLength(type, cols);
  }
  /** The encoded bytes of row `r`. */
  row(r: number): Uint8Array {
    return this.bytes.subarray(r * this.rowBytes, (r + 1) * this.rowBytes);
  }
}

function data(activation: Activation): Float32Array {
  if (!(activation instanceof ReferenceActivation)) {
    throw new TypeError('activation was not allocated by the reference backend');
  }
  return activation.data;
}

function weightOf(weight: Weight): ReferenceWeight {
  if (!(weight instanceof ReferenceWeight)) {
    throw new TypeError('weight was not uploaded to the reference backend');
  }
  return weight;
}

export class ReferenceBackend implements ComputeBackend {
  readonly name = 'reference';
  readonly threads = 1;
  /** One decoded weight row; grows at upload to the widest matrix. */
  private scratch = new Float32Array(0);
  /** Attention scores of one query row; grows to the longest context seen. */
  private scores = new Float64Array(0);
  private disposed = false;

  alloc(length: number): Activation {
    this.checkOpen();
    return new ReferenceActivation(new Float32Array(length));
  }

  write(target: Activation, values: Float32Array, offset = 0): void {
    data(target).set(values, offset);
  }

  read(source: Activation, offset = 0, length = source.length - offset, target?: Float32Array): Float32Array {
    const values = data(source).subarray(offset, offset + length);
    if (target === undefined) return values.slice();
    if (target.length !== length) throw new RangeError(`cannot read ${length} elements into an array of ${target.length}`);
    target.set(values);
    return target;
  }

  copy(dst: Activation, dstOffset: number, src: Activation, srcOffset: number, length: number): void {
    data(dst).set(data(src).subarray(srcOffset, srcOffset + length), dstOffset);
  }

  uploadWeight(type: GGMLType, rows: number, cols: number, bytes: Uint8Array): Weight {
    this.checkOpen();
    const weight = new ReferenceWeight(type, rows, cols, bytes.slice(0, rows * tensorByteLength(type, cols)));
    if (weight.bytes.length !== rows * weight.rowBytes) {
      throw new RangeError(`weight ${rows}x${cols} needs ${rows * weight.rowBytes} bytes, got ${bytes.length}`);
    }
    if (cols > this.scratch.length) this.scratch = new Float32Array(cols);
    return weight;
  }

  dispose(): void {
    this.disposed = true;
    this.scratch = new Float32Array(0);
  }

  embed(out: Activation, table: Weight, tokens: Int32Array): void {
    const w = weightOf(table);
    const o = data(out);
    for (let t = 0; t < tokens.length; t++) {
      const token = tokens[t]!;
      if (token < 0 || token >= w.rows) throw new RangeError(`token ${token} is outside the vocabulary of ${w.rows}`);
      dequantizeInto(w.type, w.row(token), o, t * w.cols, w.cols);
    }
  }

  // out: [nTokens, rows], W: [rows, cols], x: [nTokens, cols]. Almost all time goes here.
  matmul(out: Activation, weight: Weight, x: Activation, nTokens: number): void {
    const w = weightOf(weight);
    const o = data(out);
    const input = data(x);
    const { rows, cols } = w;
    const row = this.scratch;
    for (let r = 0; r < rows; r++) {
      dequantizeInto(w.type, w.row(r), row, 0, cols);
      for (let t = 0; t < nTokens; t++) {
        const base = t * cols;
        let sum = 0;
        for (let c = 0; c < cols; c++) sum += row[c]! * input[base + c]!;
        o[t * rows + r] = sum;
      }
    }
  }

  rmsnorm(out: Activation, x: Activation, gain: Activation, nRows: number, eps: number): void {
    const o = data(out);
    const input = data(x);
    const g = data(gain);
    const width = g.length;
    for (let t = 0; t < nRows; t++) {
      const base = t * width;
      let sumSquares = 0;
      for (let i = 0; i < width; i++) sumSquares += input[base + i]! * input[base + i]!;
      const scale = 1 / Math.sqrt(sumSquares / width + eps);
      for (let i = 0; i < width; i++) o[base + i] = input[base + i]! * scale * g[i]!;
    }
  }

  addBias(x: Activation, bias: Activation, nRows: number): void {
    const values = data(x);
    const b = data(bias);
    const width = b.length;
    for (let t = 0; t < nRows; t++) {
      for (let i = 0; i < width; i++) values[t * width + i] = values[t * width + i]! + b[i]!;
    }
  }

  rope(
    x: Activation,
    nTokens: number,
    nHeads: number,
    headDim: number,
    startPosition: number,
    theta: number,
    style: RopeStyle,
    factors?: Activation,
  ): void {
    const values = data(x);
    const half = headDim / 2;
    const divisors = factors === undefined ? undefined : data(factors);
    if (divisors !== undefined && divisors.length < half) throw new RangeError(`rope needs ${half} frequency factors, got ${divisors.length}`);
    for (let t = 0; t < nTokens; t++) {
      const position = startPosition + t;
      for (let h = 0; h < nHeads; h++) {
        const base = (t * nHeads + h) * headDim;
        for (let i = 0; i < half; i++) {
          const angle = (position * Math.pow(theta, (-2 * i) / headDim)) / (divisors?.[i] ?? 1);
          const cos = Math.cos(angle);
          const sin = Math.sin(angle);
          // 'normal' rotates neighbours (2i, 2i+1); 'neox' rotates the two halves (i, i+d/2).
          const a = style === 'normal' ? base + 2 * i : base + i;
          const b = style === 'normal' ? a + 1 : a + half;
          const x0 = values[a]!;
          const x1 = values[b]!;
          values[a] = x0 * cos - x1 * sin;
          values[b] = x0 * sin + x1 * cos;
        }
      }
    }
  }

  storeKv(cache: Activation, src: Activation, startPosition: number, nTokens: number, nKvHeads: number, headDim: number): void {
    const c = data(cache), s = data(src);
    const capacity = c.length / (nKvHeads * headDim);
    for (let t = 0; t < nTokens; t++) {
      for (let h = 0; h < nKvHeads; h++) {
        const from = (t * nKvHeads + h) * headDim;
        c.set(s.subarray(from, from + headDim), (h * capacity + startPosition + t) * headDim);
      }
    }
  }

  attention(out: Activation, q: Activation, keys: Activation, values: Activation, shape: AttentionShape): void {
    const o = data(out);
    const query = data(q);
    const k = data(keys);
    const v = data(values);
    const { nHeads, nKvHeads, headDim, startPosition, nTokens, scale } = shape;
    const qWidth = nHeads * headDim;
    // The caches hold each kv head's positions back to back (see storeKv).
    const headStride = k.length / nKvHeads;
    if (this.scores.length < startPosition + nTokens) this.scores = new Float64Array(startPosition + nTokens);
    const scores = this.scores;
    for (let t = 0; t < nTokens; t++) {
      const position = startPosition + t;
      for (let h = 0; h < nHeads; h++) {
        const kvHead = Math.floor((h * nKvHeads) / nHeads);
        const qBase = t * qWidth + h * headDim;
        // Scores against every cached position up to and including this one (causal).
        let max = -Infinity;
        for (let p = 0; p <= position; p++) {
          const kBase = kvHead * headStride + p * headDim;
          let dot = 0;
          for (let i = 0; i < headDim; i++) dot += query[qBase + i]! * k[kBase + i]!;
          scores[p] = dot * scale;
          if (scores[p]! > max) max = scores[p]!;
        }
        let total = 0;
        for (let p = 0; p <= position; p++) {
          scores[p] = Math.exp(scores[p]! - max);
          total += scores[p]!;
        }
        // Weighted sum of the values.
        const oBase = t * qWidth + h * headDim;
        for (let i = 0; i < headDim; i++) {
          let sum = 0;
          for (let p = 0; p <= position; p++) sum += scores[p]! * v[kvHead * headStride + p * headDim + i]!;
          o[oBase + i] = sum / total;
        }
      }
    }
  }

  swiglu(out: Activation, gate: Activation, up: Activation, length: number): void {
    const o = data(out);
    const g = data(gate);
    const u = data(up);
    for (let i = 0; i < length; i++) {
      const x = g[i]!;
      o[i] = (x / (1 + Math.exp(-x))) * u[i]!;
    }
  }

  add(out: Activation, a: Activation, b: Activation, length: number): void {
    const o = data(out);
    const x = data(a);
    const y = data(b);
    for (let i = 0; i < length; i++) o[i] = x[i]! + y[i]!;
  }

  private checkOpen(): void {
    if (this.disposed) throw new TesseraError('ENGINE_CLOSED', 'the reference backend was disposed');
  }
}
