// Fixed layout of the module's linear memory. Nothing is allocated at run time: every buffer is
// one of these regions, and `wipe` zeroes the secret ones after every operation.
//
//   KEY      the raw AES key (16/24/32 bytes), written by JS, wiped as soon as it is expanded
//   NONCE    a 12-byte GCM nonce / base nonce, or a 16-byte CTR counter block
//   TAG      a GCM tag (written by seal, read by open)
//   SCRATCH  one zero-padded partial block
//   RK       the expanded encryption round keys (15 × 16 bytes)
//   SBOX     the AES S-box and its inverse (public constants)
//   MASKS    the bit masks of the 4-lane GHASH (public constants)
//   PLANES   8 blocks in bit-plane form (bitsliced AES, aes8.ts), BLOCKS8 the same 8 blocks bytewise
//   RKB      the round keys in bit-plane form (15 × 128 bytes)
//   HPOW4    the GHASH key powers H … H^4 and their derived operands
//   GOPS     the data operands of the 4-lane GHASH and (GRES) their products
//   NONCES   12-byte nonces of a batch (one per chunk)
//   LENS     u32 plaintext lengths of a batch
//   IO       the I/O window: data is encrypted and decrypted in place here
//   CRC_*    CRC-64 (crc64.ts): its register, its public tables, and its own input window

export const KEY: usize = 64;
export const NONCE: usize = 96;
export const TAG: usize = 112;
export const SCRATCH: usize = 128;
export const SCRATCH4: usize = 160;
export const SBOX: usize = 256;
export const INV_SBOX: usize = 512;
/** The four 32-bit-lane masks of every fourth bit of ghash4.ts, twice (public constants, 128 bytes). */
export const MASKS: usize = 768;
export const RK: usize = 1024;
export const NONCES: usize = 1536;
export const LENS: usize = 1792;
export const PLANES: usize = 2048;
export const BLOCKS8: usize = 2176;
export const RKB: usize = 2304;
/** H^4, H^3, H^2, H for the 4-lane GHASH: 18 operands × 4 masked vectors (ghash4.ts). */
export const HPOW4: usize = 4352;
/** The 18 data operands of one 4-lane GHASH step (ghash4.ts, 18 × 16 bytes). */
export const GOPS: usize = 5504;
/** Their 18 products (ghash4.ts, 18 × 16 bytes). */
export const GRES: usize = 5792;
/** End of the secret regions after RK (RK … WIPE_END is zeroed by `wipe`). */
export const WIPE_END: usize = 6080;
export const IO: usize = 65536;
/** Bytes per chunk slot of a batch: a 16 KiB plaintext and its tag. */
export const STRIDE: usize = 16400;
/** Chunks per batch call. */
export const MAX_BATCH: u32 = 16;
/** Size of the I/O window. */
export const IO_SIZE: usize = STRIDE * MAX_BATCH;
/** The CRC-64 register of the running call (8 bytes, wiped by JS after each call). */
export const CRC_STATE: usize = 6080;
/** The eight public CRC-64 slicing tables (8 × 256 × 8 bytes). */
export const CRC_TABLES: usize = 8192;
/** The CRC-64 input window, above the I/O window (wiped after each call). */
export const CRC_IO: usize = 344064;
/** Size of the CRC-64 input window. */
export const CRC_IO_SIZE: usize = 65536;
