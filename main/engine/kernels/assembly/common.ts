// Small SIMD helpers shared by the kernels.

// f16 -> f32 without touching a subnormal float: the K-quants' super-block scales (d, dmin) are
// often f16 subnormals (below 6.1e-5), and on x86 an arithmetic op with a subnormal operand takes a
// slow microcode path (one per super-block cost a third of the Q6_K prefill). Normal halves: move
// the bits into place and add 112 to the exponent, in integers. Subnormal halves: the same bits
// with exponent 113 read as 2^-14 * (1 + m / 1024); subtracting 2^-14 leaves m * 2^-24 exactly.

/** (127 - 15) << 23: rebias an f16 exponent moved into f32 position. */
const F16_EXPONENT_REBIAS: u32 = 112 << 23;
/** Magnitude bits (shifted by 13) below this are f16 subnormals (exponent 0). */
const F16_SUBNORMAL_LIMIT: u32 = 1 << 23;
const TWO_TO_MINUS_14: f32 = 6.103515625e-5;

/** One IEEE half at `ptr` as f32, exact for normals, subnormals and zeros. Inf/NaN (never in weights) become large. */
@inline export function f16At(ptr: usize): f32 {
  const h = <u32>load<u16>(ptr);
  const bits = (h & 0x7fff) << 13;
  const magnitude = bits >= F16_SUBNORMAL_LIMIT
    ? reinterpret<f32>(bits + F16_EXPONENT_REBIAS)
    : reinterpret<f32>(bits + F16_EXPONENT_REBIAS + F16_SUBNORMAL_LIMIT) - TWO_TO_MINUS_14;
  return h & 0x8000 ? -magnitude : magnitude;
}

/** Four consecutive halves at `ptr` as f32x4 (same rule as f16At). */
@inline export function f16x4At(ptr: usize): v128 {
  const h = v128.load16x4_u(ptr);
  const bits = i32x4.shl(v128.and(h, i32x4.splat(0x7fff)), 13);
  const normal = i32x4.add(bits, i32x4.splat(F16_EXPONENT_REBIAS));
  const subnormal = f32x4.sub(i32x4.add(normal, i32x4.splat(F16_SUBNORMAL_LIMIT)), f32x4.splat(TWO_TO_MINUS_14));
  const magnitude = v128.bitselect(normal, subnormal, i32x4.ge_u(bits, i32x4.splat(F16_SUBNORMAL_LIMIT)));
  return v128.or(magnitude, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/** Four consecutive bfloat16 at `ptr` as f32x4: bf16 is the top half of an f32. */
@inline export function bf16x4At(ptr: usize): v128 {
  return i32x4.shl(v128.load16x4_u(ptr), 16);
}

@inline export function bf16At(ptr: usize): f32 {
  return reinterpret<f32>(<u32>load<u16>(ptr) << 16);
}

/** [sum(a0), sum(a1), sum(a2), sum(a3)] of four i32x4. */
@inline export function horizontalSum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t0 = i32x4.add(i32x4.shuffle(a0, a1, 0, 4, 2, 6), i32x4.shuffle(a0, a1, 1, 5, 3, 7));
  const t1 = i32x4.add(i32x4.shuffle(a2, a3, 0, 4, 2, 6), i32x4.shuffle(a2, a3, 1, 5, 3, 7));
  return i32x4.add(i32x4.shuffle(t0, t1, 0, 1, 4, 5), i32x4.shuffle(t0, t1, 2, 3, 6, 7));
}

/** [sum(a0), sum(a1), sum(a2), sum(a3)] of four f32x4. */
@inline export function horizontalSumF32x4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t0 = f32x4.add(f32x4.shuffle(a0, a1, 0, 4, 2, 6), f32x4.shuffle(a0, a1, 1, 5, 3, 7));
  const t1 = f32x4.add(f32x4.shuffle(a2, a3, 0, 4, 2, 6), f32x4.shuffle(a2, a3, 1, 5, 3, 7));
  return f32x4.add(f32x4.shuffle(t0, t1, 0, 1, 4, 5), f32x4.shuffle(t0, t1, 2, 3, 6, 7));
}

@inline export function sumI32x4(a: v128): i32 {
  const t = i32x4.add(a, i32x4.shuffle(a, a, 2, 3, 0, 1));
  return i32x4.extract_lane(t, 0) + i32x4.extract_lane(t, 1);
}

@inline export function sumF32x4(a: v128): f32 {
  const t = f32x4.add(a, f32x4.shuffle(a, a, 2, 3, 0, 1));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1);
}

/** Dot product of 16 int8 (as i8x16, sign-extended) with 16 int16 at `x`: partial sums as i32x4. */
@inline export function dot16S(q: v128, x: usize): v128 {
  return i32x4.add(
    i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(q), v128.load(x)),
    i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(q), v128.load(x, 16)),
  );
}

/** As dot16S for unsigned q (0..255). */
@inline export function dot16U(q: v128, x: usize): v128 {
  return i32x4.add(
    i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(q), v128.load(x)),
    i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(q), v128.load(x, 16)),
  );
}

/** The [start, end) share of `count` items that lane `lane` of `nLanes` works on. */
@inline export function shareStart(count: i32, lane: i32, nLanes: i32): i32 {
  return <i32>((<i64>count * lane) / nLanes);
}

/** a * b + c: one fused multiply-add with relaxed SIMD (x86 FMA3, ARM fmla), else a multiply and an add. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// wasm's f32x4.min/max order NaNs and signed zeros, and trunc_sat saturates: on x86 each is five to
// seven instructions. Where the operands are never NaN and the values fit in i32, the relaxed forms
// (one instruction each) give the same results.

@inline export function minF32x4(a: v128, b: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? f32x4.relaxed_min(a, b) : f32x4.min(a, b);
}

@inline export function maxF32x4(a: v128, b: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? f32x4.relaxed_max(a, b) : f32x4.max(a, b);
}

/** Truncation to i32 of values known to be in range (and not NaN). */
@inline export function truncF32x4(a: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? i32x4.relaxed_trunc_f32x4_s(a) : i32x4.trunc_sat_f32x4_s(a);
}

const LOG2_E: f32 = 1.4426950408889634;
/** ln 2 in two parts (Cody-Waite): n * LN2_HIGH is exact for |n| < 2^15, so r keeps its low bits. */
const LN2_HIGH: f32 = 0.693359375;
const LN2_LOW: f32 = -2.12194440e-4;

/**
 * e^x for four lanes, within about 2 ulp of Mathf.exp over the range that matters: e^x = 2^n e^r
 * with n = round(x / ln 2), |r| <= ln 2 / 2, e^r by its Taylor polynomial to r^7 (error < 1e-8).
 * x is clamped to [-87.3, 88]: below, the result is ~1.2e-38 instead of a subnormal or 0; above,
 * ~1.65e38 instead of Infinity (softmax only sees x <= 0; silu only needs "huge").
 */
@inline export function expF32x4(x: v128): v128 {
  const clamped = maxF32x4(minF32x4(x, f32x4.splat(88)), f32x4.splat(-87.3));
  const n = f32x4.nearest(f32x4.mul(clamped, f32x4.splat(LOG2_E)));
  const r = f32x4.sub(f32x4.sub(clamped, f32x4.mul(n, f32x4.splat(LN2_HIGH))), f32x4.mul(n, f32x4.splat(LN2_LOW)));
  let p = madd(f32x4.splat(<f32>1 / 5040), r, f32x4.splat(<f32>1 / 720));
  p = madd(p, r, f32x4.splat(<f32>1 / 120));
  p = madd(p, r, f32x4.splat(<f32>1 / 24));
  p = madd(p, r, f32x4.splat(<f32>1 / 6));
  p = madd(p, r, f32x4.splat(0.5));
  p = madd(p, r, f32x4.splat(1));
  p = madd(p, r, f32x4.splat(1));
  const twoToN = i32x4.shl(i32x4.add(truncF32x4(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, twoToN);
}

/**
 * `value`, after storing it to `fence`. The four-token kernels pass each token's sum through this
 * before the next token's activations are loaded: V8 keeps memory accesses in program order, so
 * the store holds those loads back. Without it V8 issued all sixteen activation loads of a step
 * first and spilled half of them to the stack (x86 has 16 vector registers): 8-14 % slower.
 */
@inline export function fenced(value: v128, fence: usize): v128 {
  v128.store(fence, value);
  return value;
}
