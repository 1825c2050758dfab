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
//
// This file hashes single blocks (tails, the length block, the key powers); the bulk of the data
// goes four blocks at a time through the SIMD form of ghash4.ts.

/** The hash key H = E(K, 0^128), as big-endian halves, and derived operands. */
export let h0: u64 = 0; // low 64 bits (bytes 8..15)
export let h1: u64 = 0; // high 64 bits (bytes 0..7)
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

/**
 * Y ← the 256-bit carry-less product p3:p2:p1:p0 (p0 the lowest word) reduced modulo P, after
 * the shift by one bit of the reflected representation (see the header).
 */
@inline export function reduce256(p0: u64, p1: u64, p2: u64, p3: u64): void {
  p3 = (p3 << 1) | (p2 >> 63);
  p2 = (p2 << 1) | (p1 >> 63);
  p1 = (p1 << 1) | (p0 >> 63);
  p0 = p0 << 1;
  // Reduction (see the header): fold the bits that W>>1, W>>2, W>>7 shift out into the top word.
  const w1 = p1 ^ (p0 << 63) ^ (p0 << 62) ^ (p0 << 57);
  y1 = p3 ^ w1 ^ (w1 >> 1) ^ (w1 >> 2) ^ (w1 >> 7);
  y0 = p2 ^ p0 ^ (p0 >> 1) ^ (w1 << 63) ^ (p0 >> 2) ^ (w1 << 62) ^ (p0 >> 7) ^ (w1 << 57);
}

/** Sets H from the block E(K, 0^128) and resets Y (ghash4.ts setPowers4 then derives H^2…H^4). */
export function setH(h: v128): void {
  const r = reverse(h);
  h0 = i64x2.extract_lane(r, 0);
  h1 = i64x2.extract_lane(r, 1);
  h2 = h0 ^ h1;
  r0 = rev64(h0);
  r1 = rev64(h1);
  r2 = r0 ^ r1;
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
  // The 256-bit product p3:p2:p1:p0.
  reduce256(z0, zh0 ^ z2, z1 ^ zh2, zh1);
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

/** Forgets H and Y (the powers at HPOW4 are zeroed with the memory). */
export function wipeGhash(): void {
  h0 = 0; h1 = 0; h2 = 0; r0 = 0; r1 = 0; r2 = 0; y0 = 0; y1 = 0;
}
