// Bitsliced AES encryption of 8 blocks at once (the bulk path of CTR and GCM).
//
// The 8 blocks are transposed into 8 bit planes: byte p of plane j holds bit j of state byte p of
// the 8 blocks (bit k for block k). In this form (the round function is generated into sbox.ts)
// SubBytes is a Boolean circuit (AND/XOR, no table), ShiftRows and the column rotations of
// MixColumns are constant byte shuffles of every plane, multiplication by x is a renaming of planes
// with 3 XORs, and the round keys are planes of 0x00/0xff bytes. No memory address and no branch depends on a key or data bit.

import { rounds } from './aes';
import { BLOCKS8, PLANES, RK, RKB } from './layout';
import { roundPlanes, roundsPlanes } from './sbox';

// The 8 × 8 bit transpose of every byte position across 8 registers: three SWAPMOVE stages.
// Stage n exchanges bit q+n of register r with bit q of register r+n (r, q with bit n clear), so
// after the three stages a bit at (register r, bit q) is at (register q, bit r). An involution.
@inline function transpose(src: usize, dst: usize): void {
  let r0 = v128.load(src, 0), r1 = v128.load(src, 16), r2 = v128.load(src, 32), r3 = v128.load(src, 48);
  let r4 = v128.load(src, 64), r5 = v128.load(src, 80), r6 = v128.load(src, 96), r7 = v128.load(src, 112);
  let t: v128;
  const m1 = i8x16.splat(0x55), m2 = i8x16.splat(0x33), m4 = i8x16.splat(0x0f);
  t = v128.and(v128.xor(i32x4.shr_u(r0, 1), r1), m1); r1 = v128.xor(r1, t); r0 = v128.xor(r0, i32x4.shl(t, 1));
  t = v128.and(v128.xor(i32x4.shr_u(r2, 1), r3), m1); r3 = v128.xor(r3, t); r2 = v128.xor(r2, i32x4.shl(t, 1));
  t = v128.and(v128.xor(i32x4.shr_u(r4, 1), r5), m1); r5 = v128.xor(r5, t); r4 = v128.xor(r4, i32x4.shl(t, 1));
  t = v128.and(v128.xor(i32x4.shr_u(r6, 1), r7), m1); r7 = v128.xor(r7, t); r6 = v128.xor(r6, i32x4.shl(t, 1));
  t = v128.and(v128.xor(i32x4.shr_u(r0, 2), r2), m2); r2 = v128.xor(r2, t); r0 = v128.xor(r0, i32x4.shl(t, 2));
  t = v128.and(v128.xor(i32x4.shr_u(r1, 2), r3), m2); r3 = v128.xor(r3, t); r1 = v128.xor(r1, i32x4.shl(t, 2));
  t = v128.and(v128.xor(i32x4.shr_u(r4, 2), r6), m2); r6 = v128.xor(r6, t); r4 = v128.xor(r4, i32x4.shl(t, 2));
  t = v128.and(v128.xor(i32x4.shr_u(r5, 2), r7), m2); r7 = v128.xor(r7, t); r5 = v128.xor(r5, i32x4.shl(t, 2));
  t = v128.and(v128.xor(i32x4.shr_u(r0, 4), r4), m4); r4 = v128.xor(r4, t); r0 = v128.xor(r0, i32x4.shl(t, 4));
  t = v128.and(v128.xor(i32x4.shr_u(r1, 4), r5), m4); r5 = v128.xor(r5, t); r1 = v128.xor(r1, i32x4.shl(t, 4));
  t = v128.and(v128.xor(i32x4.shr_u(r2, 4), r6), m4); r6 = v128.xor(r6, t); r2 = v128.xor(r2, i32x4.shl(t, 4));
  t = v128.and(v128.xor(i32x4.shr_u(r3, 4), r7), m4); r7 = v128.xor(r7, t); r3 = v128.xor(r3, i32x4.shl(t, 4));
  v128.store(dst, r0, 0); v128.store(dst, r1, 16); v128.store(dst, r2, 32); v128.store(dst, r3, 48);
  v128.store(dst, r4, 64); v128.store(dst, r5, 80); v128.store(dst, r6, 96); v128.store(dst, r7, 112);
}

/**
 * Writes the round keys of the loaded key (RK) in plane form to RKB: bit j of every byte → 0x00/0xff.
 * The keys of rounds 1…nr carry the S-box's affine constant 0x63 (sbox.ts computes S(x) ⊕ 0x63;
 * ShiftRows and MixColumns leave 0x63-in-every-byte unchanged, so it can be added with the key).
 */
export function expandPlanes(): void {
  const nr = rounds;
  for (let r = 0; r <= nr; r++) {
    const k = r == 0 ? v128.load(RK) : v128.xor(v128.load(RK + (<usize>r << 4)), i8x16.splat(0x63));
    const o = RKB + (<usize>r << 7);
    v128.store(o, i8x16.shr_s(i8x16.shl(k, 7), 7), 0);
    v128.store(o, i8x16.shr_s(i8x16.shl(k, 6), 7), 16);
    v128.store(o, i8x16.shr_s(i8x16.shl(k, 5), 7), 32);
    v128.store(o, i8x16.shr_s(i8x16.shl(k, 4), 7), 48);
    v128.store(o, i8x16.shr_s(i8x16.shl(k, 3), 7), 64);
    v128.store(o, i8x16.shr_s(i8x16.shl(k, 2), 7), 80);
    v128.store(o, i8x16.shr_s(i8x16.shl(k, 1), 7), 96);
    v128.store(o, i8x16.shr_s(k, 7), 112);
  }
}

/** Encrypts the 8 blocks at BLOCKS8 in place (FIPS-197 §5.1 with SubBytes before ShiftRows). */
export function encrypt8(): void {
  const nr = rounds;
  transpose(BLOCKS8, PLANES);
  for (let j: usize = 0; j < 128; j += 16) v128.store(PLANES + j, v128.xor(v128.load(PLANES + j), v128.load(RKB + j)));
  roundsPlanes(RKB + 128, nr - 1);
  roundPlanes(RKB + (<usize>nr << 7), false);
  transpose(PLANES, BLOCKS8);
}
