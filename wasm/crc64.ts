// CRC-64/XZ, the CRC that Alibaba Cloud OSS returns as `x-oss-hash-crc64ecma` (ECMA-182
// polynomial 0x42F0E1EBA9EA3693, reflected input and output, init and xorout all ones; check
// value of "123456789" = 0x995DC9BBDF1939FA). Slicing-by-8 over eight 256-entry tables.
//
// A checksum is not a secret, so table lookups indexed by data are fine here; the data itself
// may be plaintext, so the window is wiped at the end of every call (and the state slot by JS).

import { CRC_IO, CRC_IO_SIZE, CRC_STATE, CRC_TABLES } from './layout';

/** The reflected polynomial (bit-reversed 0x42F0E1EBA9EA3693). */
const POLY: u64 = 0xc96c5795d7870f42;

@inline function entry(k: usize, b: usize): u64 {
  return load<u64>(CRC_TABLES + ((k << 8) + b) * 8);
}

/** Fills table 0 with the CRC of each byte, tables 1…7 with the CRC of that byte followed by k zero bytes. */
export function initCrcTables(): void {
  for (let b: u32 = 0; b < 256; b++) {
    let c: u64 = <u64>b;
    for (let i = 0; i < 8; i++) c = (c >> 1) ^ (POLY & (0 - (c & 1)));
    store<u64>(CRC_TABLES + <usize>b * 8, c);
  }
  for (let k: usize = 1; k < 8; k++) {
    for (let b: usize = 0; b < 256; b++) {
      const prev = entry(k - 1, b);
      store<u64>(CRC_TABLES + ((k << 8) + b) * 8, (prev >> 8) ^ entry(0, <usize>(prev & 0xff)));
    }
  }
}

/**
 * Runs the register stored at CRC_STATE (already inverted: the JS side applies init and xorout)
 * over the `len` bytes at CRC_IO, stores it back, and zeroes those bytes.
 */
export function crc64Update(len: u32): void {
  const n = <usize>min<u32>(len, <u32>CRC_IO_SIZE);
  let c = load<u64>(CRC_STATE);
  let p = CRC_IO;
  const end = CRC_IO + n;
  while (p + 8 <= end) {
    const x = c ^ load<u64>(p);
    c =
      entry(7, <usize>(x & 0xff)) ^
      entry(6, <usize>((x >> 8) & 0xff)) ^
      entry(5, <usize>((x >> 16) & 0xff)) ^
      entry(4, <usize>((x >> 24) & 0xff)) ^
      entry(3, <usize>((x >> 32) & 0xff)) ^
      entry(2, <usize>((x >> 40) & 0xff)) ^
      entry(1, <usize>((x >> 48) & 0xff)) ^
      entry(0, <usize>(x >> 56));
    p += 8;
  }
  while (p < end) {
    c = entry(0, <usize>((c ^ <u64>load<u8>(p)) & 0xff)) ^ (c >> 8);
    p++;
  }
  store<u64>(CRC_STATE, c);
  memory.fill(CRC_IO, 0, n);
}
