// Plain scalar versions of every kernel, written straight from the GGUF block formats and the
// ComputeBackend contract, for tests to compare the SIMD kernels against. Slow on purpose: no
// tricks, f64 accumulation.
import { GGML_BLOCK, GGMLType } from '../gguf/types.js';

export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Nearest f16 bit pattern of a finite value in f16 range (test data only). */
export function f32ToF16(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude < 2 ** -14) return sign | Math.round(magnitude / 2 ** -24);
  const exponent = Math.floor(Math.log2(magnitude));
  let mantissa = Math.round((magnitude / 2 ** exponent - 1) * 1024);
  let e = exponent;
  if (mantissa === 1024) { mantissa = 0; e += 1; }
  return sign | ((e + 15) << 10) | mantissa;
}

function kScaleMin(scales: Uint8Array, j: number): [number, number] {
  if (j < 4) return [scales[j]! & 63, scales[j + 4]! & 63];
  return [(scales[j + 4]! & 0xf) | ((scales[j - 4]! >> 6) << 4), (scales[j + 4]! >> 4) | ((scales[j]! >> 6) << 4)];
}

/** Decodes `count` values of GGUF-encoded `bytes`. */
export function dequantizeReference(type: GGMLType, bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const half = (at: number): number => f16ToF32(view.getUint16(at, true));
  const block = GGML_BLOCK[type];
  for (let b = 0; b < count / block.elements; b++) {
    const p = b * block.bytes;
    const y = b * block.elements;
    switch (type) {
      case GGMLType.F32: out[y] = view.getFloat32(p, true); break;
      case GGMLType.F16: out[y] = half(p); break;
      case GGMLType.BF16: out[y] = new Float32Array(new Uint32Array([view.getUint16(p, true) << 16]).buffer)[0]!; break;
      case GGMLType.Q8_0:
        for (let i = 0; i < 32; i++) out[y + i] = half(p) * view.getInt8(p + 2 + i);
        break;
      case GGMLType.Q4_0:
        for (let i = 0; i < 16; i++) {
          out[y + i] = half(p) * ((bytes[p + 2 + i]! & 0xf) - 8);
          out[y + i + 16] = half(p) * ((bytes[p + 2 + i]! >> 4) - 8);
        }
        break;
      case GGMLType.Q4_K: case GGMLType.Q5_K: {
        const d = half(p), dmin = half(p + 2);
        const scales = bytes.subarray(p + 4, p + 16);
        const qh = p + 16;
        const qs = type === GGMLType.Q4_K ? p + 16 : p + 48;
        for (let j = 0; j < 8; j++) {
          const [scale, minimum] = kScaleMin(scales, j);
          for (let l = 0; l < 32; l++) {
            const byte = bytes[qs + 32 * (j >> 1) + l]!;
            let q = j % 2 === 0 ? byte & 0xf : byte >> 4;
            if (type === GGMLType.Q5_K) q += ((bytes[qh + l]! >> j) & 1) * 16;
            out[y + 32 * j + l] = d * scale * q - dmin * minimum;
          }
        }
        break;
      }
      case GGMLType.Q6_K: {
        const d = half(p + 208);
        for (let n = 0; n < 2; n++) {
          const ql = p + 64 * n, qh = p + 128 + 32 * n, sc = p + 192 + 8 * n;
          for (let l = 0; l < 32; l++) {
            const is = l >> 4;
            const h = bytes[qh + l]!;
            const values = [
              ((bytes[ql + l]! & 0xf) | ((h & 3) << 4)) - 32,
              ((bytes[ql + l + 32]! & 0xf) | (((h >> 2) & 3) << 4)) - 32,
              ((bytes[ql + l]! >> 4) | (((h >> 4) & 3) << 4)) - 32,
              ((bytes[ql + l + 32]! >> 4) | ((h >> 6) << 4)) - 32,
            ];
            for (let k = 0; k < 4; k++) out[y + 128 * n + l + 32 * k] = d * view.getInt8(sc + is + 2 * k) * values[k]!;
          }
        }
        break;
      }
      default: throw new Error(`no reference for type ${type}`);
    }
  }
  return out;
}

/** GGUF bytes of a rows x cols matrix of `type` with random content and sane scales (test data). */
export function randomWeightBytes(type: GGMLType, rows: number, cols: number, random: () => number): Uint8Array {
  const block = GGML_BLOCK[type];
  const blocks = (rows * cols) / block.elements;
  const bytes = new Uint8Array(blocks * block.bytes);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  const view = new DataView(bytes.buffer);
  const setHalf = (at: number, value: number): void => view.setUint16(at, f32ToF16(value), true);
  for (let b = 0; b < blocks; b++) {
    const p = b * block.bytes;
    switch (type) {
      case GGMLType.F32: view.setFloat32(p, random() * 2 - 1, true); break;
      case GGMLType.F16: setHalf(p, random() * 2 - 1); break;
      case GGMLType.BF16: view.setUint16(p, new Uint32Array(new Float32Array([random() * 2 - 1]).buffer)[0]! >>> 16, true); break;
      case GGMLType.Q8_0: case GGMLType.Q4_0: setHalf(p, 0.001 + random() * 0.02); break;
      case GGMLType.Q4_K: case GGMLType.Q5_K: setHalf(p, 0.001 + random() * 0.01); setHalf(p + 2, random() * 0.01); break;
      case GGMLType.Q6_K: setHalf(p + 208, 0.0005 + random() * 0.002); break;
      default: throw new Error(`no random data for type ${type}`);
    }
  }
  return bytes;
}

/** out[t, r] = sum_c w[r, c] * x[t, c]. */
export function matmulReference(w: Float32Array, rows: number, cols: number, x: Float32Array, nTokens: number): Float32Array {
  const out = new Float32Array(nTokens * rows);
  for (let t = 0; t < nTokens; t++) {
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += w[r * cols + c]! * x[t * cols + c]!;
      out[t * rows + r] = sum;
    }
  }
  return out;
}

export function rmsnormReference(x: Float32Array, gain: Float32Array, nRows: number, eps: number): Float32Array {
  const width = gain.length;
  const out = new Float32Array(nRows * width);
  for (let t = 0; t < nRows; t++) {
    let sum = 0;
    for (let i = 0; i < width; i++) sum += x[t * width + i]! ** 2;
    const scale = 1 / Math.sqrt(sum / width + eps);
    for (let i = 0; i < width; i++) out[t * width + i] = x[t * width + i]! * scale * gain[i]!;
  }
  return out;
}

export function ropeReference(
  x: Float32Array, nTokens: number, nHeads: number, headDim: number, startPosition: number, theta: number, style: 'normal' | 'neox',
  factors?: Float32Array,
): Float32Array {
  const out = Float32Array.from(x);
  for (let t = 0; t < nTokens; t++) {
    for (let h = 0; h < nHeads; h++) {
      const base = (t * nHeads + h) * headDim;
      for (let i = 0; i < headDim / 2; i++) {
        const angle = ((startPosition + t) * theta ** ((-2 * i) / headDim)) / (factors?.[i] ?? 1);
        const [a, b] = style === 'neox' ? [base + i, base + i + headDim / 2] : [base + 2 * i, base + 2 * i + 1];
        const x0 = x[a]!, x1 = x[b]!;
        out[a] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
        out[b] = x0 * Math.sin(angle) + x1 * Math.cos(angle);
      }
    }
  }
  return out;
}

/** Causal GQA attention with a plain two-pass softmax. */
export function attentionReference(
  q: Float32Array, keys: Float32Array, values: Float32Array,
  shape: { nHeads: number; nKvHeads: number; headDim: number; startPosition: number; nTokens: number; scale: number },
): Float32Array {
  const { nHeads, nKvHeads, headDim, startPosition, nTokens, scale } = shape;
  const out = new Float32Array(nTokens * nHeads * headDim);
  const kvWidth = nKvHeads * headDim;
  for (let t = 0; t < nTokens; t++) {
    for (let h = 0; h < nHeads; h++) {
      const kvHead = Math.floor((h * nKvHeads) / nHeads);
      const positions = startPosition + t + 1;
      const scores = new Float64Array(positions);
      for (let p = 0; p < positions; p++) {
        let dot = 0;
        for (let i = 0; i < headDim; i++) dot += q[(t * nHeads + h) * headDim + i]! * keys[p * kvWidth + kvHead * headDim + i]!;
        scores[p] = dot * scale;
      }
      const maximum = Math.max(...scores);
      let total = 0;
      for (let p = 0; p < positions; p++) total += (scores[p] = Math.exp(scores[p]! - maximum));
      for (let i = 0; i < headDim; i++) {
        let sum = 0;
        for (let p = 0; p < positions; p++) sum += scores[p]! * values[p * kvWidth + kvHead * headDim + i]!;
        out[(t * nHeads + h) * headDim + i] = sum / total;
      }
    }
  }
  return out;
}

export function swigluReference(gate: Float32Array, up: Float32Array): Float32Array {
  return gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
}
