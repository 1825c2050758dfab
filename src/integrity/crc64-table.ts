/**
 * CRC-64/XZ in TypeScript (slicing-by-8 over 32-bit halves): the fallback of {@link Crc64}
 * where the WASM core is unavailable (no WebAssembly, or a CSP without `'wasm-unsafe-eval'`).
 * Same parameters as wasm/crc64.ts: polynomial 0x42F0E1EBA9EA3693 (ECMA-182) reflected, init
 * and xorout all ones. Checksums are not secret, so data-indexed table lookups are fine.
 *
 * @module
 */

/** Tables k = 0…7, entry b: low 32 bits at [2(256k + b)], high 32 bits at [2(256k + b) + 1]. */
let tables: Uint32Array | undefined;

function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256 * 2);
  // Reflected polynomial 0xC96C5795D7870F42 as two halves.
  const polyHi = 0xc96c5795;
  const polyLo = 0xd7870f42;
  for (let b = 0; b < 256; b++) {
    let hi = 0;
    let lo = b;
    for (let i = 0; i < 8; i++) {
      const m = -(lo & 1);
      lo = ((lo >>> 1) | (hi << 31)) ^ (polyLo & m);
      hi = (hi >>> 1) ^ (polyHi & m);
    }
    t[2 * b] = lo >>> 0;
    t[2 * b + 1] = hi >>> 0;
  }
  for (let k = 1; k < 8; k++) {
    for (let b = 0; b < 256; b++) {
      const p = 2 * (256 * (k - 1) + b);
      const lo = t[p]!;
      const hi = t[p + 1]!;
      const q = 2 * (lo & 0xff);
      t[2 * (256 * k + b)] = (((lo >>> 8) | (hi << 24)) ^ t[q]!) >>> 0;
      t[2 * (256 * k + b) + 1] = ((hi >>> 8) ^ t[q + 1]!) >>> 0;
    }
  }
  return t;
}

/**
 * Advances a CRC-64/XZ register (without init/xorout, which the caller applies) over `data`.
 * @param register - the running register as a u64
 * @param data - any bytes (subarrays at any offset)
 * @returns the new register
 * @example
 * ```ts
 * const crc = crc64Register(0xffffffffffffffffn, bytes) ^ 0xffffffffffffffffn;
 * ```
 */
export function crc64Register(register: bigint, data: Uint8Array): bigint {
  const t = (tables ??= buildTables());
  let lo = Number(register & 0xffffffffn) >>> 0;
  let hi = Number(register >> 32n) >>> 0;
  const n = data.length;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = lo ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    const b = hi ^ (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24));
    const e7 = 2 * (1792 + (a & 0xff));
    const e6 = 2 * (1536 + ((a >>> 8) & 0xff));
    const e5 = 2 * (1280 + ((a >>> 16) & 0xff));
    const e4 = 2 * (1024 + (a >>> 24));
    const e3 = 2 * (768 + (b & 0xff));
    const e2 = 2 * (512 + ((b >>> 8) & 0xff));
    const e1 = 2 * (256 + ((b >>> 16) & 0xff));
    const e0 = 2 * (b >>> 24);
    lo = t[e7]! ^ t[e6]! ^ t[e5]! ^ t[e4]! ^ t[e3]! ^ t[e2]! ^ t[e1]! ^ t[e0]!;
    hi = t[e7 + 1]! ^ t[e6 + 1]! ^ t[e5 + 1]! ^ t[e4 + 1]! ^ t[e3 + 1]! ^ t[e2 + 1]! ^ t[e1 + 1]! ^ t[e0 + 1]!;
  }
  for (; i < n; i++) {
    const q = 2 * ((lo ^ data[i]!) & 0xff);
    lo = ((lo >>> 8) | (hi << 24)) ^ t[q]!;
    hi = (hi >>> 8) ^ t[q + 1]!;
  }
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
