// The enseal WASM core: exports over a fixed memory layout (./layout.ts). JS writes inputs into
// the regions, calls one of these, reads the output, and calls `wipe` before returning, so no
// key, key schedule, hash key, counter or data byte outlives an operation.

import { decryptBlock, encryptBlock, expandKey, initTables, rounds } from './aes';
import { ctrRun, ctrStart, gcmCrypt, gcmKey, gcmNonce, gcmStoreTag, gcmVerify, ghash, wipeGcm } from './gcm';
import { expandPlanes } from './aes8';
import { wipeGhash } from './ghash';
import * as L from './layout';
import { initCrcTables } from './crc64';
import { initMasks } from './ghash4';

export { KEY, NONCE, TAG, NONCES, LENS, IO, IO_SIZE, STRIDE, MAX_BATCH, CRC_STATE, CRC_IO, CRC_IO_SIZE } from './layout';
export { crc64Update } from './crc64';

initTables();
initCrcTables();
initMasks();

/** Expands the `len`-byte key (16, 24 or 32) written at KEY, then wipes KEY. Returns the rounds. */
export function aesKey(len: i32): i32 {
  if (len != 16 && len != 24 && len != 32) return 0;
  expandKey(L.KEY, len);
  expandPlanes();
  memory.fill(L.KEY, 0, 32);
  return rounds;
}

/** GCM: H = E(K, 0^128) under the loaded key. */
export function gcmInit(): void {
  gcmKey();
}

/** GCM: starts a message with the 12-byte nonce at NONCE. */
export function gcmStart(): void {
  gcmNonce(L.NONCE);
}

/** GCM: hashes `len` AAD bytes at IO (a multiple of 16 except for the last call). */
export function gcmAad(len: u32): void {
  ghash(L.IO, <usize>len);
}

/** GCM seal: encrypts `len` bytes at IO in place and hashes the ciphertext. */
export function gcmSealWindow(len: u32): void {
  gcmCrypt(L.IO, <usize>len, true);
}

/**
 * GCM open: hashes `len` ciphertext bytes at IO and decrypts them in place. The caller releases
 * nothing before `gcmCheck` returned 1, and wipes the window otherwise.
 */
export function gcmOpenWindow(len: u32): void {
  gcmCrypt(L.IO, <usize>len, false);
}

/** GCM: writes the tag of the message to TAG. */
export function gcmFinish(aadLen: f64, ctLen: f64): void {
  gcmStoreTag(<u64>aadLen, <u64>ctLen, L.TAG);
}

/** GCM: 1 when the tag at TAG is the message's tag (constant-time compare), else 0. */
export function gcmCheck(aadLen: f64, ctLen: f64): i32 {
  return gcmVerify(<u64>aadLen, <u64>ctLen, L.TAG);
}

// Sets the nonce of chunk `i` of a batch: from the NONCES list, or (derive) C2SP
// chunked-encryption's nonce_i = base_nonce XOR uint96_be(first + i) from the base at NONCE.
function batchNonce(i: u32, derive: i32, first: f64): void {
  if (derive != 0) {
    memory.copy(L.SCRATCH, L.NONCE, 12);
    const idx = <u64>first + <u64>i;
    for (let b: usize = 0; b < 8; b++) {
      const p = L.SCRATCH + 11 - b;
      store<u8>(p, load<u8>(p) ^ <u8>(idx >> (b << 3)));
    }
  } else {
    memory.copy(L.SCRATCH, L.NONCES + <usize>i * 12, 12);
  }
  gcmNonce(L.SCRATCH);
  memory.fill(L.SCRATCH, 0, 16);
}

/**
 * GCM seal of `count` (≤ MAX_BATCH) messages without AAD: message i has LENS[i] bytes at
 * IO + i·STRIDE and gets its tag right after them.
 */
export function gcmSealBatch(count: u32, derive: i32, first: f64): void {
  if (count > L.MAX_BATCH) return;
  for (let i: u32 = 0; i < count; i++) {
    batchNonce(i, derive, first);
    const p = L.IO + <usize>i * L.STRIDE;
    const n = <usize>min<u32>(load<u32>(L.LENS + (<usize>i << 2)), 16384);
    gcmCrypt(p, n, true);
    gcmStoreTag(0, <u64>n, p + n);
  }
}

/**
 * GCM open of `count` messages laid out as by `gcmSealBatch` (LENS[i] = ciphertext length
 * without the tag), each decrypted in place while it is hashed. Returns −1 when all verified,
 * else the index of the first failure, whose decrypted bytes are zeroed at once (the later
 * messages are not touched; the caller wipes the window and releases nothing).
 */
export function gcmOpenBatch(count: u32, derive: i32, first: f64): i32 {
  if (count > L.MAX_BATCH) return 0;
  for (let i: u32 = 0; i < count; i++) {
    batchNonce(i, derive, first);
    const p = L.IO + <usize>i * L.STRIDE;
    const n = <usize>min<u32>(load<u32>(L.LENS + (<usize>i << 2)), 16384);
    gcmCrypt(p, n, false);
    if (gcmVerify(0, <u64>n, p + n) == 0) {
      memory.fill(p, 0, n);
      return <i32>i;
    }
  }
  return -1;
}

/** CTR: loads the 16-byte counter block at NONCE. */
export function ctrBegin(): void {
  ctrStart(L.NONCE);
}

/** CTR: en/decrypts `len` bytes at IO in place (a multiple of 16 except for the last call). */
export function ctrWindow(len: u32): void {
  ctrRun(L.IO, <usize>len);
}

/** ECB encryption of the `len` bytes (whole blocks) at IO, in place. */
export function ecbEncrypt(len: u32): void {
  for (let i: usize = 0; i + 16 <= <usize>len; i += 16) v128.store(L.IO + i, encryptBlock(v128.load(L.IO + i)));
}

/** ECB decryption of the `len` bytes (whole blocks) at IO, in place. */
export function ecbDecrypt(len: u32): void {
  for (let i: usize = 0; i + 16 <= <usize>len; i += 16) v128.store(L.IO + i, decryptBlock(v128.load(L.IO + i)));
}

/** Zeroes every secret: key, nonce, tag, scratch, round keys, batch lists, H, Y, counters, IO[0, n). */
export function wipe(n: u32): void {
  memory.fill(L.KEY, 0, L.SBOX - L.KEY);
  memory.fill(L.RK, 0, L.WIPE_END - L.RK);
  memory.fill(L.IO, 0, <usize>min<u32>(n, <u32>L.IO_SIZE));
  wipeGhash();
  wipeGcm();
  wipeRounds();
}

import { wipeRounds } from './aes';
