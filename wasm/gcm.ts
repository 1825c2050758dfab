// AES-GCM (NIST SP 800-38D) and AES-CTR (SP 800-38A §6.5) over the I/O window, in place.

import { encrypt4, encryptBlock } from './aes';
import { encrypt8 } from './aes8';
import { absorb, absorbBlock, hashBlock, resetY, reverse, setH } from './ghash';
import { absorb4, setPowers4 } from './ghash4';
import { BLOCKS8, SCRATCH, SCRATCH4 } from './layout';

/** J0 with its last 32-bit word cleared (96-bit IV: J0 = IV || 0^31 || 1, §7.1 step 2). */
let jbase: v128 = i64x2.splat(0);
/** E(K, J0), the tag mask. */
let ej0: v128 = i64x2.splat(0);
/** The next 32-bit counter value (inc32, §6.2). */
let ctr: u32 = 0;
/** The 128-bit counter of plain CTR mode, as big-endian halves. */
let cHi: u64 = 0;
let cLo: u64 = 0;

/** Computes H = E(K, 0^128); call once per key. */
export function gcmKey(): void {
  setH(encryptBlock(i64x2.splat(0)));
  setPowers4();
}

/** Starts one message with the 12-byte nonce at `nonce`: J0, E(K, J0), Y = 0. */
export function gcmNonce(nonce: usize): void {
  jbase = i32x4.replace_lane(v128.load(nonce), 3, 0);
  ej0 = encryptBlock(i32x4.replace_lane(jbase, 3, bswap<u32>(1)));
  ctr = 2;
  resetY();
}

@inline function counterBlock(c: u32): v128 {
  return i32x4.replace_lane(jbase, 3, bswap<u32>(c));
}

// XORs the 8 keystream blocks at BLOCKS8 into the 128 bytes at p.
@inline function xor128(p: usize): void {
  for (let j: usize = 0; j < 128; j += 16) v128.store(p + j, v128.xor(v128.load(p + j), v128.load(BLOCKS8 + j)));
}

/**
 * GCTR (§6.5) over `len` bytes at `p`, in place, continuing the 32-bit counter, with GHASH of
 * the ciphertext in the same pass: `seal` hashes each 128-byte group right after it was
 * encrypted, otherwise (open) each group is hashed before it is decrypted. (Hashing a group in
 * the middle of the next group's rounds, "stitched", measured no faster once GHASH ran on SIMD
 * too, and kept the AES rounds from running two per loop turn, which is 3.5% faster.)
 */
export function gcmCrypt(p: usize, len: usize, seal: bool): void {
  let c = ctr;
  let i: usize = 0;
  for (; i + 128 <= len; i += 128) {
    for (let j: u32 = 0; j < 8; j++) v128.store(BLOCKS8 + (<usize>j << 4), counterBlock(c + j));
    c += 8;
    if (!seal) {
      absorb4(p + i);
      absorb4(p + i + 64);
    }
    encrypt8();
    xor128(p + i);
    if (seal) {
      absorb4(p + i);
      absorb4(p + i + 64);
    }
  }
  ctr = c;
  if (seal) {
    gctr(p + i, len - i);
    ghash(p + i, len - i);
  } else {
    ghash(p + i, len - i);
    gctr(p + i, len - i);
  }
}

/** GCTR (§6.5) over `len` bytes at `p`, in place, continuing the 32-bit counter. */
export function gctr(p: usize, len: usize): void {
  let c = ctr;
  let i: usize = 0;
  for (; i + 128 <= len; i += 128) {
    for (let j: u32 = 0; j < 8; j++) v128.store(BLOCKS8 + (<usize>j << 4), counterBlock(c + j));
    c += 8;
    encrypt8();
    xor128(p + i);
  }
  for (; i + 64 <= len; i += 64) {
    encrypt4(counterBlock(c), counterBlock(c + 1), counterBlock(c + 2), counterBlock(c + 3));
    c += 4;
    v128.store(p + i, v128.xor(v128.load(p + i), v128.load(SCRATCH4)));
    v128.store(p + i, v128.xor(v128.load(p + i, 16), v128.load(SCRATCH4, 16)), 16);
    v128.store(p + i, v128.xor(v128.load(p + i, 32), v128.load(SCRATCH4, 32)), 32);
    v128.store(p + i, v128.xor(v128.load(p + i, 48), v128.load(SCRATCH4, 48)), 48);
  }
  for (; i + 16 <= len; i += 16) {
    v128.store(p + i, v128.xor(v128.load(p + i), encryptBlock(counterBlock(c))));
    c++;
  }
  if (i < len) {
    const n = len - i;
    memory.fill(SCRATCH, 0, 16);
    memory.copy(SCRATCH, p + i, n);
    v128.store(SCRATCH, v128.xor(v128.load(SCRATCH), encryptBlock(counterBlock(c))));
    memory.copy(p + i, SCRATCH, n);
    memory.fill(SCRATCH, 0, 16);
    c++;
  }
  ctr = c;
}

/** GHASH over `len` bytes at `p`; a final partial block is zero-padded (§7.1 step 5). */
export function ghash(p: usize, len: usize): void {
  let i: usize = 0;
  for (; i + 64 <= len; i += 64) absorb4(p + i);
  for (; i + 16 <= len; i += 16) absorbBlock(v128.load(p + i));
  if (i < len) {
    memory.fill(SCRATCH, 0, 16);
    memory.copy(SCRATCH, p + i, len - i);
    absorbBlock(v128.load(SCRATCH));
    memory.fill(SCRATCH, 0, 16);
  }
}

/** The tag (§7.1 steps 5–6) after `aadLen` and `ctLen` bytes were hashed. */
export function gcmTag(aadLen: u64, ctLen: u64): v128 {
  absorb(aadLen << 3, ctLen << 3);
  return v128.xor(ej0, hashBlock());
}

/** 1 when the tag at `t` equals the computed one, else 0; compares all 16 bytes (no early exit). */
export function gcmVerify(aadLen: u64, ctLen: u64, t: usize): i32 {
  const diff = v128.xor(gcmTag(aadLen, ctLen), v128.load(t));
  return 1 - <i32>v128.any_true(diff);
}

/** Stores the tag at `t`. */
export function gcmStoreTag(aadLen: u64, ctLen: u64, t: usize): void {
  v128.store(t, gcmTag(aadLen, ctLen));
}

/** Loads the 16-byte big-endian counter block at `p` for CTR mode. */
export function ctrStart(p: usize): void {
  const r = reverse(v128.load(p));
  cLo = i64x2.extract_lane(r, 0);
  cHi = i64x2.extract_lane(r, 1);
}

@inline function ctrBlock(): v128 {
  const b = reverse(i64x2.replace_lane(i64x2.splat(cLo), 1, cHi));
  cLo += 1;
  cHi += <u64>(cLo == 0); // the 128-bit increment (SP 800-38A §B.1 with m = 128)
  return b;
}

/** CTR over `len` bytes at `p`, in place, continuing the 128-bit counter. */
export function ctrRun(p: usize, len: usize): void {
  let i: usize = 0;
  for (; i + 128 <= len; i += 128) {
    for (let j: usize = 0; j < 128; j += 16) v128.store(BLOCKS8 + j, ctrBlock());
    encrypt8();
    xor128(p + i);
  }
  for (; i + 64 <= len; i += 64) {
    const a = ctrBlock();
    const b = ctrBlock();
    const c = ctrBlock();
    const d = ctrBlock();
    encrypt4(a, b, c, d);
    v128.store(p + i, v128.xor(v128.load(p + i), v128.load(SCRATCH4)));
    v128.store(p + i, v128.xor(v128.load(p + i, 16), v128.load(SCRATCH4, 16)), 16);
    v128.store(p + i, v128.xor(v128.load(p + i, 32), v128.load(SCRATCH4, 32)), 32);
    v128.store(p + i, v128.xor(v128.load(p + i, 48), v128.load(SCRATCH4, 48)), 48);
  }
  for (; i + 16 <= len; i += 16) v128.store(p + i, v128.xor(v128.load(p + i), encryptBlock(ctrBlock())));
  if (i < len) {
    const n = len - i;
    memory.fill(SCRATCH, 0, 16);
    memory.copy(SCRATCH, p + i, n);
    v128.store(SCRATCH, v128.xor(v128.load(SCRATCH), encryptBlock(ctrBlock())));
    memory.copy(p + i, SCRATCH, n);
    memory.fill(SCRATCH, 0, 16);
  }
}

/** Forgets the per-message state. */
export function wipeGcm(): void {
  jbase = i64x2.splat(0);
  ej0 = i64x2.splat(0);
  ctr = 0;
  cHi = 0;
  cLo = 0;
}
