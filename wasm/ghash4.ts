// GHASH of four blocks at once in the four 32-bit lanes of a vector (NIST SP 800-38D §6.4 with
// the aggregated reduction of Gueron and Kounavis, "Intel Carry-Less Multiplication Instruction
// and its Usage for Computing the GCM Mode", rev. 2.02, 2014, §"aggregated reduction"):
// Y ← (Y ⊕ X1)·H^4 ⊕ X2·H^3 ⊕ X3·H^2 ⊕ X4·H, the four unreduced products summed before one
// reduction. Lane j carries block X(j+1) and the key power H^(4−j).
//
// Each 128 × 128 product is two levels of Karatsuba over 32-bit limbs (9 products of 32 × 32
// bits), and a 32 × 32 → 64 carry-less product is two 32-bit products with holes (as in
// ghash.ts, but on 32-bit lanes with `i32x4.mul`, one `pmulld`/`mul` for four lanes): with
// operands split into four masks of every fourth bit, at most 8 bit pairs meet at a position, so
// the counts never reach the next position of their class, and the low 32 bits of each lane's
// product are exact. The low half is the product itself; the high half is the bit-reversed low
// half of the product of the bit-reversed operands, shifted right by one (rev(a)·rev(b) =
// rev63(a·b) for 32-bit a, b). Multiplication time does not depend on the operands, there is no
// table, and nothing branches on data.
//
// The key side (H … H^4, their limb sums for Karatsuba, their reversals, each split into its four
// masks) is computed once per key into HPOW4; the data operands and products of a step go through
// GOPS and GRES. All three are zeroed by `wipe` with the other secret regions; only the masks at
// MASKS (public constants) stay.
//
// Measured against the scalar 64-bit form of ghash.ts (96 multiplications per block, which V8
// compiled with a spill for about every other instruction): GHASH 1.3–1.5× as fast, AES-GCM
// 1.12–1.2×. An earlier SIMD attempt with `i64x2.extmul_*_i32x4_u` was slower (V8 lowers each
// extmul to unpacks and a `pmuludq`); `i32x4.mul` is one instruction for four lanes.

import { GOPS, GRES, HPOW4, MASKS } from './layout';
import { absorb, h0, h1, hashBlock, reduce256, resetY, reverse, y0, y1 } from './ghash';

/** Writes the four masks of every fourth bit of a 32-bit lane to MASKS (public constants). */
export function initMasks(): void {
  v128.store(MASKS, i32x4.splat(0x11111111), 0);
  v128.store(MASKS, i32x4.splat(0x22222222), 16);
  v128.store(MASKS, i32x4.splat(0x44444444), 32);
  v128.store(MASKS, i32x4.splat(<i32>0x88888888), 48);
  memory.copy(MASKS + 64, MASKS, 64);
}

// Mask c of every fourth bit, read from memory (V8 folds such a load into the AND, where a
// constant would be rebuilt in a register at each use). The copy `mk2` at other addresses keeps
// the optimizer from merging the loads of the operand and the result masks into one register.
@inline function mk(c: i32): v128 {
  return v128.load(MASKS + (<usize>c << 4));
}
@inline function mk2(c: i32): v128 {
  return v128.load(MASKS + 64 + (<usize>c << 4));
}

// Low 32 bits of the carry-less products of the lanes of x and of the key operand whose four
// masked parts are at k.
@inline function clmulLo(x: v128, k: usize): v128 {
  const x0 = v128.and(x, mk(0)), x1 = v128.and(x, mk(1)), x2 = v128.and(x, mk(2)), x3 = v128.and(x, mk(3));
  const y0 = v128.load(k), y1 = v128.load(k, 16), y2 = v128.load(k, 32), y3 = v128.load(k, 48);
  // Written as chains (not trees): V8 then interleaves the multiplications with the XORs
  // instead of computing all sixteen products first and spilling them.
  let z0 = i32x4.mul(x0, y0), z1 = i32x4.mul(x0, y1), z2 = i32x4.mul(x0, y2), z3 = i32x4.mul(x0, y3);
  z0 = v128.xor(z0, i32x4.mul(x1, y3)); z1 = v128.xor(z1, i32x4.mul(x1, y0)); z2 = v128.xor(z2, i32x4.mul(x1, y1)); z3 = v128.xor(z3, i32x4.mul(x1, y2));
  z0 = v128.xor(z0, i32x4.mul(x2, y2)); z1 = v128.xor(z1, i32x4.mul(x2, y3)); z2 = v128.xor(z2, i32x4.mul(x2, y0)); z3 = v128.xor(z3, i32x4.mul(x2, y1));
  z0 = v128.xor(z0, i32x4.mul(x3, y1)); z1 = v128.xor(z1, i32x4.mul(x3, y2)); z2 = v128.xor(z2, i32x4.mul(x3, y3)); z3 = v128.xor(z3, i32x4.mul(x3, y0));
  return v128.or(v128.or(v128.or(v128.and(z0, mk2(0)), v128.and(z1, mk2(1))), v128.and(z2, mk2(2))), v128.and(z3, mk2(3)));
}

// Bit reversal of every 32-bit lane: every byte bit-reversed with two nibble lookups (register
// permutations by constants), then the bytes of each lane reversed.
@inline function rev32(x: v128): v128 {
  const lo = v128.and(x, i8x16.splat(0x0f));
  const hi = i8x16.shr_u(x, 4);
  const revLoToHi = i8x16(0x00, -0x80, 0x40, -0x40, 0x20, -0x60, 0x60, -0x20, 0x10, -0x70, 0x50, -0x30, 0x30, -0x50, 0x70, -0x10);
  const revHiToLo = i8x16(0x0, 0x8, 0x4, 0xc, 0x2, 0xa, 0x6, 0xe, 0x1, 0x9, 0x5, 0xd, 0x3, 0xb, 0x7, 0xf);
  const b = v128.or(v128.swizzle(revLoToHi, lo), v128.swizzle(revHiToLo, hi));
  return v128.swizzle(b, i8x16(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12));
}

@inline function lo32(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
}
@inline function hi32(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
}
@inline function lo64(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}
@inline function hi64(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
}

// [Σ lanes of a, Σ lanes of b, Σ lanes of c, Σ lanes of d] (XOR sums).
@inline function hsum(a: v128, b: v128, c: v128, d: v128): v128 {
  const t0 = v128.xor(lo32(a, b), hi32(a, b)); // a0^a2, b0^b2, a1^a3, b1^b3
  const t1 = v128.xor(lo32(c, d), hi32(c, d));
  return v128.xor(lo64(t0, t1), hi64(t0, t1));
}

/** Offset of operand `op` (0…17) of the key powers at HPOW4: 4 masked vectors of 16 bytes. */
@inline function kop(op: usize): usize {
  return HPOW4 + (op << 6);
}

// Stores the four masked parts of the vector v as key operand `op`.
function storeOp(op: usize, v: v128): void {
  const o = kop(op);
  v128.store(o, v128.and(v, mk(0)), 0);
  v128.store(o, v128.and(v, mk(1)), 16);
  v128.store(o, v128.and(v, mk(2)), 32);
  v128.store(o, v128.and(v, mk(3)), 48);
}

// Stores the 9 Karatsuba operands of the limb vectors k0…k3 (limb i of lane j = limb i of
// H^(4−j)) as key operands base … base + 8, in the order of absorb4.
function storeOps(base: usize, k0: v128, k1: v128, k2: v128, k3: v128): void {
  storeOp(base, k0);
  storeOp(base + 1, k1);
  storeOp(base + 2, v128.xor(k0, k1));
  storeOp(base + 3, k2);
  storeOp(base + 4, k3);
  storeOp(base + 5, v128.xor(k2, k3));
  storeOp(base + 6, v128.xor(k0, k2));
  storeOp(base + 7, v128.xor(k1, k3));
  storeOp(base + 8, v128.xor(v128.xor(k0, k1), v128.xor(k2, k3)));
}

// The big-endian 128-bit integer hi:lo in a vector (i64 lane 0 the low half).
@inline function block(lo: u64, hi: u64): v128 {
  return i64x2.replace_lane(i64x2.splat(lo), 1, hi);
}

// Y ← H^k · H for H^k = hi:lo (absorb with Y = 0 and X = H^k); returns it as a vector.
@inline function timesH(lo: u64, hi: u64): v128 {
  resetY();
  absorb(hi, lo);
  return block(y0, y1);
}

/**
 * Computes H^2, H^3, H^4 from the H set by `setH` and stores the key operands of absorb4 at
 * HPOW4; leaves Y = 0.
 */
export function setPowers4(): void {
  const p1 = block(h0, h1);
  const p2 = timesH(h0, h1);
  const p3 = timesH(i64x2.extract_lane(p2, 0), i64x2.extract_lane(p2, 1));
  const p4 = timesH(i64x2.extract_lane(p3, 0), i64x2.extract_lane(p3, 1));
  resetY();
  // Lane j of limb vector k_i = limb i of H^(4−j).
  const t0 = lo32(p4, p3), t1 = lo32(p2, p1), t2 = hi32(p4, p3), t3 = hi32(p2, p1);
  const k0 = lo64(t0, t1), k1 = hi64(t0, t1), k2 = lo64(t2, t3), k3 = hi64(t2, t3);
  storeOps(0, k0, k1, k2, k3);
  storeOps(9, rev32(k0), rev32(k1), rev32(k2), rev32(k3));
}

// The words of a 64 × 64 product from its three Karatsuba products (level 2): with q0 = x0·y0,
// q1 = x1·y1, qm = (x0 ⊕ x1)(y0 ⊕ y1), x·y = q1·2^64 ⊕ (qm ⊕ q0 ⊕ q1)·2^32 ⊕ q0. Low halves
// (lo) go to words 0, 1, 2 and high halves (still bit-reversed, hr) to words 1, 2, 3.

// Product `op` of absorb4.
@inline function res(op: usize): v128 {
  return v128.load(GRES + (op << 4));
}

// Stores the 9 Karatsuba operands of the limb vectors a0…a3 at GOPS (operands base … base + 8).
@inline function storeOps4(base: usize, a0: v128, a1: v128, a2: v128, a3: v128): void {
  const o = GOPS + (base << 4);
  v128.store(o, a0, 0);
  v128.store(o, a1, 16);
  v128.store(o, v128.xor(a0, a1), 32);
  v128.store(o, a2, 48);
  v128.store(o, a3, 64);
  v128.store(o, v128.xor(a2, a3), 80);
  const m0 = v128.xor(a0, a2), m1 = v128.xor(a1, a3);
  v128.store(o, m0, 96);
  v128.store(o, m1, 112);
  v128.store(o, v128.xor(m0, m1), 128);
}

/**
 * Y ← (Y ⊕ X1)·H^4 ⊕ X2·H^3 ⊕ X3·H^2 ⊕ X4·H for the four blocks X at p (GCM byte order), with
 * the key operands stored by setPowers4.
 */
export function absorb4(p: usize): void {
  // The blocks as big-endian 128-bit integers (i32 lane i = limb i, limb 0 the lowest), then
  // transposed: a_i holds limb i of the four blocks.
  const b0 = reverse(v128.xor(v128.load(p), hashBlock()));
  const b1 = reverse(v128.load(p, 16));
  const b2 = reverse(v128.load(p, 32));
  const b3 = reverse(v128.load(p, 48));
  const t0 = lo32(b0, b1), t1 = lo32(b2, b3), t2 = hi32(b0, b1), t3 = hi32(b2, b3);
  const a0 = lo64(t0, t1), a1 = hi64(t0, t1), a2 = lo64(t2, t3), a3 = hi64(t2, t3);
  storeOps4(0, a0, a1, a2, a3);
  storeOps4(9, rev32(a0), rev32(a1), rev32(a2), rev32(a3));
  // The 18 products, one at a time through memory: the store of one and the loads of the next
  // keep V8 from scheduling all 288 multiplications at once (and spilling them); two per turn
  // of the loop (3% faster than one).
  for (let op: usize = 0; op < 18; op += 2) {
    v128.store(GRES + (op << 4), clmulLo(v128.load(GOPS + (op << 4)), kop(op)));
    v128.store(GRES + (op << 4), clmulLo(v128.load(GOPS + (op << 4), 16), kop(op + 1)), 16);
  }
  const lL0 = res(0), lL1 = v128.xor(v128.xor(res(0), res(1)), res(2)), lL2 = res(1);
  const lH0 = res(3), lH1 = v128.xor(v128.xor(res(3), res(4)), res(5)), lH2 = res(4);
  const lM0 = res(6), lM1 = v128.xor(v128.xor(res(6), res(7)), res(8)), lM2 = res(7);
  const hL1 = res(9), hL2 = v128.xor(v128.xor(res(9), res(10)), res(11)), hL3 = res(10);
  const hH1 = res(12), hH2 = v128.xor(v128.xor(res(12), res(13)), res(14)), hH3 = res(13);
  const hM1 = res(15), hM2 = v128.xor(v128.xor(res(15), res(16)), res(17)), hM3 = res(16);

  // Level 1 recombination: P = PH·2^128 ⊕ S·2^64 ⊕ PL with S = PM ⊕ PL ⊕ PH, word by word.
  const lS0 = v128.xor(v128.xor(lM0, lL0), lH0), lS1 = v128.xor(v128.xor(lM1, lL1), lH1), lS2 = v128.xor(v128.xor(lM2, lL2), lH2);
  const hS1 = v128.xor(v128.xor(hM1, hL1), hH1), hS2 = v128.xor(v128.xor(hM2, hL2), hH2), hS3 = v128.xor(v128.xor(hM3, hL3), hH3);
  const zero = i64x2.splat(0);
  // Sum over the lanes (the aggregated products), then the high halves out of bit reversal.
  const llo = hsum(lL0, lL1, v128.xor(lL2, lS0), lS1);
  const lhi = hsum(v128.xor(lH0, lS2), lH1, lH2, zero);
  const hlo = hsum(zero, hL1, hL2, v128.xor(hL3, hS1));
  const hhi = hsum(hS2, v128.xor(hH1, hS3), hH2, hH3);
  const wlo = v128.xor(llo, i32x4.shr_u(rev32(hlo), 1));
  const whi = v128.xor(lhi, i32x4.shr_u(rev32(hhi), 1));
  reduce256(i64x2.extract_lane(wlo, 0), i64x2.extract_lane(wlo, 1), i64x2.extract_lane(whi, 0), i64x2.extract_lane(whi, 1));
}
