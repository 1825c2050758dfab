// GHASH (NIST SP 800-38D §6.4) from integer multiplications, without tables.
//
// A 64 × 64 carry-less product is computed with ordinary multiplications on operands with
// "holes" (the technique of BearSSL's ghash_ctmul64, re-derived here): each operand is split into
// four masks of every fourth bit, so a product of two parts has, at every bit position of its
// class, the *count* of contributing bit pairs. At most 15 pairs meet below bit 60 (16 only at
// positions 60..63, whose carry leaves the 64-bit word), so a count never spills into the next
// position of the same class, and its low bit is the carry-less result. Multiplication time does
// not depend on operand values on the CPUs we target (64-bit multipliers are constant-latency).
//
// Blocks are read as big-endian 128-bit integers, i.e. GCM's bit-reflected field elements. For
// reflected operands rev(a)·rev(b) = rev255(a·b), so the 256-bit product shifted left by one bit
// is the reflected field product before reduction. The high half of a 64 × 64 product is the
// bit-reversed low half of the product of the bit-reversed operands, shifted right by one.
//
// The reduction modulo P = z^128 + z^7 + z^2 + z + 1 in reflected form: with V the high and W
// the low 128 bits, W·z^128 ≡ W·(1 + z + z^2 + z^7), which in reflected form is W ⊕ W>>1 ⊕ W>>2 ⊕
// W>>7, where the bits shifted out (degrees 128..134) are first folded back into the top word.

import { HPOW } from './layout';

/** The hash key H = E(K, 0^128), as big-endian halves, and derived operands. */
let h0: u64 = 0; // low 64 bits (bytes 8..15)
let h1: u64 = 0; // high 64 bits (bytes 0..7)
let h2: u64 = 0; // h0 ^ h1 (Karatsuba middle term)
let r0: u64 = 0; // rev64(h0)
let r1: u64 = 0;
let r2: u64 = 0;
/** The running hash Y. */
export let y0: u64 = 0;
export let y1: u64 = 0;

@inline function rev64(x: u64): u64 {
  x = ((x >> 1) & 0x5555555555555555) | ((x & 0x5555555555555555) << 1);
  x = ((x >> 2) & 0x3333333333333333) | ((x & 0x3333333333333333) << 2);
  x = ((x >> 4) & 0x0f0f0f0f0f0f0f0f) | ((x & 0x0f0f0f0f0f0f0f0f) << 4);
  x = ((x >> 8) & 0x00ff00ff00ff00ff) | ((x & 0x00ff00ff00ff00ff) << 8);
  x = ((x >> 16) & 0x0000ffff0000ffff) | ((x & 0x0000ffff0000ffff) << 16);
  return (x >> 32) | (x << 32);
}

/** Low 64 bits of the carry-less product of x and y (see the header). */
@inline function bmul64(x: u64, y: u64): u64 {
  const m0: u64 = 0x1111111111111111;
  const m1: u64 = 0x2222222222222222;
  const m2: u64 = 0x4444444444444444;
  const m3: u64 = 0x8888888888888888;
  const x0 = x & m0, x1 = x & m1, x2 = x & m2, x3 = x & m3;
  const y0_ = y & m0, y1_ = y & m1, y2_ = y & m2, y3_ = y & m3;
  const z0 = (x0 * y0_) ^ (x1 * y3_) ^ (x2 * y2_) ^ (x3 * y1_);
  const z1 = (x0 * y1_) ^ (x1 * y0_) ^ (x2 * y3_) ^ (x3 * y2_);
  const z2 = (x0 * y2_) ^ (x1 * y1_) ^ (x2 * y0_) ^ (x3 * y3_);
  const z3 = (x0 * y3_) ^ (x1 * y2_) ^ (x2 * y1_) ^ (x3 * y0_);
  return (z0 & m0) | (z1 & m1) | (z2 & m2) | (z3 & m3);
}

/**
 * Byte-reverses a block: big-endian halves ↔ lanes. A swizzle by a constant rather than
 * `i8x16.shuffle`: V8 (x64) rebuilds a generic shuffle's mask at every use, a constant once.
 */
@inline export function reverse(x: v128): v128 {
  return v128.swizzle(x, i8x16(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
}

// The 256-bit product (before reduction) is accumulated in these, so that four products share one
// Karatsuba recombination, one bit reversal and one reduction (aggregated reduction: the sum of
// the unreduced products reduces to the sum of the reduced ones).
let z0: u64 = 0, z1: u64 = 0, z2: u64 = 0, zh0: u64 = 0, zh1: u64 = 0, zh2: u64 = 0;

/** Adds the unreduced product of (a1:a0, with ar = rev64 of each half) and the key power at `k`. */
@inline function mulAcc(a0: u64, a1: u64, ar0: u64, ar1: u64, k: usize): void {
  z0 ^= bmul64(a0, load<u64>(k, 0));
  z1 ^= bmul64(a1, load<u64>(k, 8));
  z2 ^= bmul64(a0 ^ a1, load<u64>(k, 16));
  zh0 ^= bmul64(ar0, load<u64>(k, 24));
  zh1 ^= bmul64(ar1, load<u64>(k, 32));
  zh2 ^= bmul64(ar0 ^ ar1, load<u64>(k, 40));
}

/** Y ← the reduced sum of the accumulated products; clears the accumulators. */
@inline function reduceAcc(): void {
  let p2x = z2 ^ z0 ^ z1;
  let q2 = zh2 ^ zh0 ^ zh1;
  const q0 = rev64(zh0) >> 1;
  const q1 = rev64(zh1) >> 1;
  q2 = rev64(q2) >> 1;
  // 256-bit product p3:p2:p1:p0, then << 1 (reflection).
  let p3 = q1;
  let p2 = z1 ^ q2;
  let p1 = q0 ^ p2x;
  let p0 = z0;
  p3 = (p3 << 1) | (p2 >> 63);
  p2 = (p2 << 1) | (p1 >> 63);
  p1 = (p1 << 1) | (p0 >> 63);
  p0 = p0 << 1;
  // Reduction (see the header): fold the bits that W>>1, W>>2, W>>7 shift out into the top word.
  const w1 = p1 ^ (p0 << 63) ^ (p0 << 62) ^ (p0 << 57);
  y1 = p3 ^ w1 ^ (w1 >> 1) ^ (w1 >> 2) ^ (w1 >> 7);
  y0 = p2 ^ p0 ^ (p0 >> 1) ^ (w1 << 63) ^ (p0 >> 2) ^ (w1 << 62) ^ (p0 >> 7) ^ (w1 << 57);
  z0 = 0; z1 = 0; z2 = 0; zh0 = 0; zh1 = 0; zh2 = 0;
  p2x = 0;
}

// Bit reversal of every byte with two 16-entry nibble lookups (register permutations, constant time).
@inline function bitrevBytes(x: v128): v128 {
  const lo = v128.and(x, i8x16.splat(0x0f));
  const hi = i8x16.shr_u(x, 4);
  const revLoToHi = i8x16(0x00, -0x80, 0x40, -0x40, 0x20, -0x60, 0x60, -0x20, 0x10, -0x70, 0x50, -0x30, 0x30, -0x50, 0x70, -0x10);
  const revHiToLo = i8x16(0x0, 0x8, 0x4, 0xc, 0x2, 0xa, 0x6, 0xe, 0x1, 0x9, 0x5, 0xd, 0x3, 0xb, 0x7, 0xf);
  return v128.or(v128.swizzle(revLoToHi, lo), v128.swizzle(revHiToLo, hi));
}

// Adds the product of the block x (GCM byte order) with the key power at k.
@inline function mulAccBlock(x: v128, k: usize): void {
  const r = reverse(x); // big-endian halves as lanes
  const b = bitrevBytes(x); // rev64 of each big-endian half, as little-endian lanes
  mulAcc(i64x2.extract_lane(r, 0), i64x2.extract_lane(r, 1), i64x2.extract_lane(b, 1), i64x2.extract_lane(b, 0), k);
}

/** Y ← (((Y ⊕ X1)·H ⊕ X2)·H ⊕ X3)·H ⊕ X4)·H = (Y ⊕ X1)·H^4 ⊕ X2·H^3 ⊕ X3·H^2 ⊕ X4·H, X at p. */
export function absorb4(p: usize): void {
  mulAccBlock(v128.xor(v128.load(p), hashBlock()), HPOW + 144);
  mulAccBlock(v128.load(p, 16), HPOW + 96);
  mulAccBlock(v128.load(p, 32), HPOW + 48);
  mulAccBlock(v128.load(p, 48), HPOW);
  reduceAcc();
}

// Stores the operands of the key power hi:lo at k (lo, hi, lo^hi and their bit reversals).
function storePower(k: usize, lo: u64, hi: u64): void {
  store<u64>(k, lo, 0);
  store<u64>(k, hi, 8);
  store<u64>(k, lo ^ hi, 16);
  store<u64>(k, rev64(lo), 24);
  store<u64>(k, rev64(hi), 32);
  store<u64>(k, rev64(lo) ^ rev64(hi), 40);
}

/** Sets H from the block E(K, 0^128), computes H^2..H^4 for absorb4, and resets Y. */
export function setH(h: v128): void {
  const r = reverse(h);
  h0 = i64x2.extract_lane(r, 0);
  h1 = i64x2.extract_lane(r, 1);
  h2 = h0 ^ h1;
  r0 = rev64(h0);
  r1 = rev64(h1);
  r2 = r0 ^ r1;
  storePower(HPOW, h0, h1);
  // H^(k+1) = H^k · H: absorb with Y = 0 and X = H^k computes exactly that.
  for (let k: usize = 1; k < 4; k++) {
    y0 = 0;
    y1 = 0;
    absorb(load<u64>(HPOW + (k - 1) * 48, 8), load<u64>(HPOW + (k - 1) * 48, 0));
    storePower(HPOW + k * 48, y0, y1);
  }
  y0 = 0;
  y1 = 0;
}

/** Y ← (Y ⊕ X)·H for the block X given as big-endian halves (SP 800-38D §6.4 step 4). */
@inline export function absorb(xh: u64, xl: u64): void {
  const a0 = y0 ^ xl;
  const a1 = y1 ^ xh;
  const a2 = a0 ^ a1;
  const ar0 = rev64(a0);
  const ar1 = rev64(a1);
  const ar2 = ar0 ^ ar1;
  const z0 = bmul64(a0, h0);
  const z1 = bmul64(a1, h1);
  let z2 = bmul64(a2, h2);
  let zh0 = bmul64(ar0, r0);
  let zh1 = bmul64(ar1, r1);
  let zh2 = bmul64(ar2, r2);
  z2 ^= z0 ^ z1;
  zh2 ^= zh0 ^ zh1;
  zh0 = rev64(zh0) >> 1;
  zh1 = rev64(zh1) >> 1;
  zh2 = rev64(zh2) >> 1;
  // 256-bit product p3:p2:p1:p0, then << 1 (reflection).
  let p3 = zh1;
  let p2 = z1 ^ zh2;
  let p1 = zh0 ^ z2;
  let p0 = z0;
  p3 = (p3 << 1) | (p2 >> 63);
  p2 = (p2 << 1) | (p1 >> 63);
  p1 = (p1 << 1) | (p0 >> 63);
  p0 = p0 << 1;
  // Reduction (see the header): fold the bits that W>>1, W>>2, W>>7 shift out into the top word.
  const w1 = p1 ^ (p0 << 63) ^ (p0 << 62) ^ (p0 << 57);
  y1 = p3 ^ w1 ^ (w1 >> 1) ^ (w1 >> 2) ^ (w1 >> 7);
  y0 = p2 ^ p0 ^ (p0 >> 1) ^ (w1 << 63) ^ (p0 >> 2) ^ (w1 << 62) ^ (p0 >> 7) ^ (w1 << 57);
}

/** Y ← 0 (a new message under the same H). */
export function resetY(): void {
  y0 = 0;
  y1 = 0;
}

/** Absorbs one block from memory. */
@inline export function absorbBlock(x: v128): void {
  const r = reverse(x);
  absorb(i64x2.extract_lane(r, 1), i64x2.extract_lane(r, 0));
}

/** Y as a block (big-endian bytes). */
export function hashBlock(): v128 {
  return reverse(i64x2.replace_lane(i64x2.splat(y0), 1, y1));
}

/** Forgets H and Y (the powers at HPOW are zeroed with the memory). */
export function wipeGhash(): void {
  h0 = 0; h1 = 0; h2 = 0; r0 = 0; r1 = 0; r2 = 0; y0 = 0; y1 = 0;
  z0 = 0; z1 = 0; z2 = 0; zh0 = 0; zh1 = 0; zh2 = 0;
}
