// AES (FIPS-197) without secret-indexed memory accesses or secret-dependent branches.
//
// SubBytes is a 256-entry table lookup done entirely in registers: the S-box is split into 16
// vectors of 16 bytes, and `i8x16.swizzle` (a register permutation: x86 `pshufb`, Arm `tbl`)
// looks every state byte up in each of them. `swizzle` returns 0 for an index ≥ 16, so with the
// index x − 16·k (mod 256) only the vector k = x >> 4 contributes; OR-ing the 16 results gives
// S[x]. Every lookup touches the same 16 vectors in the same order whatever the data, and the
// table addresses are constants. ShiftRows is a constant shuffle; MixColumns is shuffles, shifts
// and XORs (FIPS-197 §5.1.3 written as out = a ⊕ t ⊕ xtime(a ⊕ rot1(a)), t the column parity).

import { RK, SBOX, INV_SBOX, SCRATCH4 } from './layout';

/** Number of rounds of the expanded key (10, 12 or 14), 0 when no key is loaded. */
export let rounds: i32 = 0;

/** Fills the S-box tables (FIPS-197 §5.1.1) from the field arithmetic: public constants. */
export function initTables(): void {
  let p: u32 = 1;
  let q: u32 = 1;
  do {
    // p ← p · 3, q ← q / 3 in GF(2^8); q = p^-1 throughout.
    p = (p ^ (p << 1) ^ ((p & 0x80) != 0 ? 0x1b : 0)) & 0xff;
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if ((q & 0x80) != 0) q ^= 0x09;
    const x = q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4);
    store<u8>(SBOX + p, <u8>(x ^ 0x63));
  } while (p != 1);
  store<u8>(SBOX, 0x63);
  for (let i: u32 = 0; i < 256; i++) store<u8>(INV_SBOX + load<u8>(SBOX + i), <u8>i);
}

@inline function rotl8(x: u32, n: u32): u32 {
  return ((x << n) | (x >> (8 - n))) & 0xff;
}

/** Looks every byte of `x` up in the 256-byte table at `t` (constant time, see above). */
@inline export function lookup(x: v128, t: usize): v128 {
  const d = i8x16.splat(0x10);
  let r = v128.swizzle(v128.load(t), x);
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 16), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 32), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 48), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 64), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 80), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 96), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 112), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 128), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 144), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 160), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 176), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 192), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 208), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 224), x));
  x = i8x16.sub(x, d); r = v128.or(r, v128.swizzle(v128.load(t, 240), x));
  return r;
}

// Four lookups sharing each table load (four independent blocks keep the pipeline busy).
@inline function lookup4(t: usize, a: v128, b: v128, c: v128, e: v128): void {
  const d = i8x16.splat(0x10);
  let k = v128.load(t);
  let ra = v128.swizzle(k, a);
  let rb = v128.swizzle(k, b);
  let rc = v128.swizzle(k, c);
  let re = v128.swizzle(k, e);
  for (let o: usize = 16; o < 256; o += 16) {
    k = v128.load(t + o);
    a = i8x16.sub(a, d); ra = v128.or(ra, v128.swizzle(k, a));
    b = i8x16.sub(b, d); rb = v128.or(rb, v128.swizzle(k, b));
    c = i8x16.sub(c, d); rc = v128.or(rc, v128.swizzle(k, c));
    e = i8x16.sub(e, d); re = v128.or(re, v128.swizzle(k, e));
  }
  v128.store(SCRATCH4, ra);
  v128.store(SCRATCH4, rb, 16);
  v128.store(SCRATCH4, rc, 32);
  v128.store(SCRATCH4, re, 48);
}

// Byte permutations are swizzles by constants rather than `i8x16.shuffle`: V8 (x64) rebuilds a
// generic shuffle's mask at every use, but keeps a constant in a register (in the bitsliced
// rounds of sbox.ts this made CTR 25% faster). rot2 stays a shuffle: V8 recognises it.

// FIPS-197 §5.1.2: row r of the state (bytes r, r+4, r+8, r+12) rotates left by r.
@inline function shiftRows(x: v128): v128 {
  return v128.swizzle(x, i8x16(0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11));
}

// FIPS-197 §5.3.1.
@inline function invShiftRows(x: v128): v128 {
  return v128.swizzle(x, i8x16(0, 13, 10, 7, 4, 1, 14, 11, 8, 5, 2, 15, 12, 9, 6, 3));
}

// Multiplication by x in GF(2^8) (FIPS-197 §4.2.1), branch-free: 0x1b where the top bit was set.
@inline function xtime(x: v128): v128 {
  return v128.xor(i8x16.add(x, x), v128.and(i8x16.shr_s(x, 7), i8x16.splat(0x1b)));
}

@inline function rot1(x: v128): v128 {
  return v128.swizzle(x, i8x16(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12));
}

@inline function rot2(x: v128): v128 {
  return i8x16.shuffle(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
}

// FIPS-197 §5.1.3: out_i = 2a_i ⊕ 3a_{i+1} ⊕ a_{i+2} ⊕ a_{i+3}
//                        = a_i ⊕ (a_0 ⊕ a_1 ⊕ a_2 ⊕ a_3) ⊕ 2(a_i ⊕ a_{i+1}).
@inline function mixColumns(a: v128): v128 {
  const b = v128.xor(a, rot1(a));
  const t = v128.xor(b, rot2(b));
  return v128.xor(v128.xor(a, t), xtime(b));
}

// FIPS-197 §5.3.3, as MixColumns after adding 4(a_i ⊕ a_{i+2}) to every byte (the matrix
// {0e 0b 0d 09} is {02 03 01 01} · {05 00 04 00}).
@inline function invMixColumns(a: v128): v128 {
  const w = xtime(xtime(v128.xor(a, rot2(a))));
  return mixColumns(v128.xor(a, w));
}

@inline function subWord(w: u32): u32 {
  return i32x4.extract_lane(lookup(i32x4.splat(w), SBOX), 0);
}

/**
 * Key expansion (FIPS-197 §5.2) of the `len`-byte key at `key` into RK. Words are read
 * little-endian, so RotWord is a right rotation by 8 and Rcon goes into the low byte.
 */
export function expandKey(key: usize, len: i32): void {
  const nk = len >> 2;
  rounds = nk + 6;
  const total = 4 * (rounds + 1);
  memory.copy(RK, key, <usize>len);
  let rcon: u32 = 1;
  for (let i = nk; i < total; i++) {
    let t = load<u32>(RK + ((<usize>i - 1) << 2));
    const m = i % nk;
    if (m == 0) {
      t = subWord(rotr<u32>(t, 8)) ^ rcon;
      rcon = ((rcon << 1) ^ ((rcon >> 7) * 0x11b)) & 0xff;
    } else if (nk > 6 && m == 4) {
      t = subWord(t);
    }
    store<u32>(RK + (<usize>i << 2), load<u32>(RK + (<usize>(i - nk) << 2)) ^ t);
  }
}

/** Encrypts one block (FIPS-197 §5.1). */
export function encryptBlock(x: v128): v128 {
  const nr = rounds;
  x = v128.xor(x, v128.load(RK));
  for (let r = 1; r < nr; r++) {
    x = mixColumns(lookup(shiftRows(x), SBOX));
    x = v128.xor(x, v128.load(RK + (<usize>r << 4)));
  }
  return v128.xor(lookup(shiftRows(x), SBOX), v128.load(RK + (<usize>nr << 4)));
}

/** Decrypts one block (the inverse cipher of FIPS-197 §5.3). */
export function decryptBlock(x: v128): v128 {
  const nr = rounds;
  x = v128.xor(x, v128.load(RK + (<usize>nr << 4)));
  for (let r = nr - 1; r > 0; r--) {
    x = lookup(invShiftRows(x), INV_SBOX);
    x = invMixColumns(v128.xor(x, v128.load(RK + (<usize>r << 4))));
  }
  return v128.xor(lookup(invShiftRows(x), INV_SBOX), v128.load(RK));
}

/** Encrypts four independent blocks; the results go to SCRATCH4 (64 bytes). */
export function encrypt4(a: v128, b: v128, c: v128, e: v128): void {
  const nr = rounds;
  let k = v128.load(RK);
  a = v128.xor(a, k); b = v128.xor(b, k); c = v128.xor(c, k); e = v128.xor(e, k);
  for (let r = 1; r < nr; r++) {
    lookup4(SBOX, shiftRows(a), shiftRows(b), shiftRows(c), shiftRows(e));
    k = v128.load(RK + (<usize>r << 4));
    a = v128.xor(mixColumns(v128.load(SCRATCH4)), k);
    b = v128.xor(mixColumns(v128.load(SCRATCH4, 16)), k);
    c = v128.xor(mixColumns(v128.load(SCRATCH4, 32)), k);
    e = v128.xor(mixColumns(v128.load(SCRATCH4, 48)), k);
  }
  lookup4(SBOX, shiftRows(a), shiftRows(b), shiftRows(c), shiftRows(e));
  k = v128.load(RK + (<usize>nr << 4));
  v128.store(SCRATCH4, v128.xor(v128.load(SCRATCH4), k));
  v128.store(SCRATCH4, v128.xor(v128.load(SCRATCH4, 16), k), 16);
  v128.store(SCRATCH4, v128.xor(v128.load(SCRATCH4, 32), k), 32);
  v128.store(SCRATCH4, v128.xor(v128.load(SCRATCH4, 48), k), 48);
}

/** Forgets the round count (the round keys are zeroed by the caller). */
export function wipeRounds(): void {
  rounds = 0;
}
