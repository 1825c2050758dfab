/**
 * The enseal WebAssembly core (sources in `wasm/`, AssemblyScript with SIMD): compiled once,
 * asynchronously, from the base64 inlined in `wasm-binary.ts`, then used synchronously.
 *
 * The module has a fixed memory (8 pages, never grown, so views on it never detach) with a fixed
 * layout (`wasm/layout.ts`): JS writes the key, nonce and data into their regions, calls one
 * export, copies the result out, and wipes every region it used in a `finally`. No key, round key,
 * hash key or data byte stays in the module's memory after a call returns or throws. Each call
 * here is synchronous, so no other operation can interleave with it.
 *
 * AES is computed without secret-indexed memory accesses or branches: S-box lookups are
 * `i8x16.swizzle` register permutations over the whole table, and GHASH uses integer multiplies
 * with masked operands (see docs/SECURITY.md "WASM core" and the headers of wasm/aes.ts and
 * wasm/ghash.ts).
 *
 * @module
 */
import { fromBase64, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { WASM_BASE64 } from './wasm-binary.js';

/** The raw exports of the module (wasm/index.ts). */
interface Exports {
  readonly memory: WebAssembly.Memory;
  readonly KEY: WebAssembly.Global;
  readonly NONCE: WebAssembly.Global;
  readonly TAG: WebAssembly.Global;
  readonly NONCES: WebAssembly.Global;
  readonly LENS: WebAssembly.Global;
  readonly IO: WebAssembly.Global;
  readonly IO_SIZE: WebAssembly.Global;
  readonly STRIDE: WebAssembly.Global;
  readonly MAX_BATCH: WebAssembly.Global;
  readonly CRC_STATE: WebAssembly.Global;
  readonly CRC_IO: WebAssembly.Global;
  readonly CRC_IO_SIZE: WebAssembly.Global;
  aesKey(len: number): number;
  gcmInit(): void;
  gcmStart(): void;
  gcmAad(len: number): void;
  gcmSealWindow(len: number): void;
  gcmOpenWindow(len: number): void;
  gcmFinish(aadLen: number, ctLen: number): void;
  gcmCheck(aadLen: number, ctLen: number): number;
  gcmSealBatch(count: number, derive: number, first: number): void;
  gcmOpenBatch(count: number, derive: number, first: number): number;
  ctrBegin(): void;
  ctrWindow(len: number): void;
  ecbEncrypt(len: number): void;
  ecbDecrypt(len: number): void;
  wipe(n: number): void;
  crc64Update(len: number): void;
}

/** Plaintext bytes of a C2SP chunk: the largest message of the batch calls. */
export const WASM_CHUNK_SIZE = 16384;

/** Nonces of a batch: a list (one per message), or C2SP's base nonce and first chunk index. */
export type BatchNonces = { readonly list: readonly Uint8Array[] } | { readonly base: Uint8Array; readonly first: number };

/**
 * Synchronous AES-GCM, AES-CTR and AES block operations over the compiled module. Arguments are
 * checked by the callers (wasm.ts); every method wipes the module's memory before returning.
 */
export class WasmCore {
  readonly #x: Exports;
  readonly #mem: Uint8Array;
  readonly #key: number;
  readonly #nonce: number;
  readonly #tag: number;
  readonly #nonces: number;
  readonly #lens: number;
  readonly #io: number;
  readonly #crcState: number;
  readonly #crcIo: number;
  readonly #crcIoSize: number;
  /** Size of the I/O window in bytes (a multiple of 16). */
  readonly ioSize: number;
  /** Byte distance between the messages of a batch in the window. */
  readonly stride: number;
  /** Messages per batch call. */
  readonly maxBatch: number;

  /** @param instance - an instance of the enseal module */
  constructor(instance: WebAssembly.Instance) {
    const x = instance.exports as unknown as Exports;
    this.#x = x;
    this.#mem = new Uint8Array(x.memory.buffer);
    this.#key = x.KEY.value as number;
    this.#nonce = x.NONCE.value as number;
    this.#tag = x.TAG.value as number;
    this.#nonces = x.NONCES.value as number;
    this.#lens = x.LENS.value as number;
    this.#io = x.IO.value as number;
    this.ioSize = x.IO_SIZE.value as number;
    this.stride = x.STRIDE.value as number;
    this.maxBatch = x.MAX_BATCH.value as number;
    this.#crcState = x.CRC_STATE.value as number;
    this.#crcIo = x.CRC_IO.value as number;
    this.#crcIoSize = x.CRC_IO_SIZE.value as number;
  }

  /**
   * Advances a CRC-64/XZ register (init and xorout applied by the caller, src/integrity/crc64.ts)
   * over `data`, through the module's CRC window (wiped by the module after each piece; the
   * register slot is zeroed here).
   * @param register - the running register (a u64)
   * @param data - any length
   * @returns the new register
   * @example
   * ```ts
   * const r = core.crc64(0xffffffffffffffffn, bytes) ^ 0xffffffffffffffffn; // CRC-64/XZ(bytes)
   * ```
   */
  crc64(register: bigint, data: Uint8Array): bigint {
    const v = new DataView(this.#mem.buffer, this.#crcState, 8);
    let r = register;
    try {
      for (let off = 0; off < data.length; off += this.#crcIoSize) {
        const piece = data.subarray(off, Math.min(data.length, off + this.#crcIoSize));
        this.#mem.set(piece, this.#crcIo);
        v.setBigUint64(0, r, true);
        this.#x.crc64Update(piece.length);
        r = v.getBigUint64(0, true);
      }
      return r;
    } finally {
      v.setBigUint64(0, 0n, true);
    }
  }

  /** The module's whole memory (tests read it to check that nothing secret is left). */
  get memory(): Uint8Array {
    return this.#mem;
  }

  #loadKey(key: Uint8Array): void {
    this.#mem.set(key, this.#key);
    if (this.#x.aesKey(key.length) === 0) throw new RangeError(`"key" expected 16, 24 or 32 bytes, got ${key.length}`);
  }

  /** Hashes `aad` through the window; returns the bytes of the window it used. */
  #aad(aad: Uint8Array): number {
    let used = 0;
    for (let off = 0; off < aad.length; off += this.ioSize) {
      const piece = aad.subarray(off, Math.min(aad.length, off + this.ioSize));
      this.#mem.set(piece, this.#io);
      this.#x.gcmAad(piece.length);
      used = Math.max(used, piece.length);
    }
    return used;
  }

  /**
   * AES-GCM encryption (SP 800-38D §7.1) with a 12-byte nonce.
   * @param key - 16, 24 or 32 bytes
   * @param nonce - 12 bytes
   * @param plaintext - any length (streamed through the window)
   * @param aad - additional authenticated data (may be empty)
   * @returns `ciphertext || tag`
   * @throws RangeError for another key length
   * @example
   * ```ts
   * const sealed = (await loadWasmCore()).gcmSeal(key, nonce, data, new Uint8Array(0));
   * ```
   */
  gcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Bytes {
    const x = this.#x;
    const out = new Uint8Array(plaintext.length + 16);
    let used = 0;
    try {
      this.#loadKey(key);
      x.gcmInit();
      this.#mem.set(nonce, this.#nonce);
      x.gcmStart();
      used = this.#aad(aad);
      for (let off = 0; off < plaintext.length; off += this.ioSize) {
        const piece = plaintext.subarray(off, Math.min(plaintext.length, off + this.ioSize));
        this.#mem.set(piece, this.#io);
        x.gcmSealWindow(piece.length);
        out.set(this.#mem.subarray(this.#io, this.#io + piece.length), off);
        used = Math.max(used, piece.length);
      }
      x.gcmFinish(aad.length, plaintext.length);
      out.set(this.#mem.subarray(this.#tag, this.#tag + 16), plaintext.length);
      return out;
    } finally {
      x.wipe(used);
    }
  }

  /**
   * AES-GCM decryption (SP 800-38D §7.2). The module hashes and decrypts in one pass inside its
   * own memory; the tag is compared in constant time, and the plaintext leaves the module only
   * after it verified (a message larger than the window is staged in the output buffer, which is
   * wiped when the tag fails).
   * @param key - 16, 24 or 32 bytes
   * @param nonce - 12 bytes
   * @param sealed - `ciphertext || tag`, at least 16 bytes (checked by the caller)
   * @param aad - additional authenticated data (may be empty)
   * @returns the plaintext, or `undefined` when the tag does not verify
   * @throws RangeError for another key length
   */
  gcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Bytes | undefined {
    const x = this.#x;
    const n = sealed.length - 16;
    let used = 0;
    try {
      this.#loadKey(key);
      x.gcmInit();
      this.#mem.set(nonce, this.#nonce);
      x.gcmStart();
      used = this.#aad(aad);
      const out = new Uint8Array(n);
      for (let off = 0; off < n; off += this.ioSize) {
        const piece = sealed.subarray(off, Math.min(n, off + this.ioSize));
        this.#mem.set(piece, this.#io);
        x.gcmOpenWindow(piece.length);
        used = Math.max(used, piece.length);
        if (n > this.ioSize) out.set(this.#mem.subarray(this.#io, this.#io + piece.length), off);
      }
      this.#mem.set(sealed.subarray(n), this.#tag);
      if (x.gcmCheck(aad.length, n) !== 1) {
        out.fill(0);
        return undefined;
      }
      if (n <= this.ioSize) out.set(this.#mem.subarray(this.#io, this.#io + n));
      return out;
    } finally {
      x.wipe(used);
    }
  }

  #setNonces(nonces: BatchNonces, from: number, count: number): [derive: number, first: number] {
    if ('list' in nonces) {
      for (let i = 0; i < count; i++) this.#mem.set(nonces.list[from + i]!, this.#nonces + 12 * i);
      return [0, 0];
    }
    this.#mem.set(nonces.base, this.#nonce);
    return [1, nonces.first + from];
  }

  #setLens(lens: readonly number[], count: number): void {
    const v = new DataView(this.#mem.buffer, this.#lens, 4 * this.maxBatch);
    for (let i = 0; i < count; i++) v.setUint32(4 * i, lens[i]!, true);
  }

  /**
   * AES-GCM encryption without AAD of messages of at most 16 KiB each, `maxBatch` per call.
   * @param key - 16, 24 or 32 bytes
   * @param nonces - one 12-byte nonce per message, or C2SP's base nonce and first chunk index
   * @param plaintexts - the messages (≤ 16 KiB each, checked by the caller)
   * @returns one `ciphertext || tag` per message
   */
  gcmSealBatch(key: Uint8Array, nonces: BatchNonces, plaintexts: readonly Uint8Array[]): Bytes[] {
    const x = this.#x;
    const out: Bytes[] = [];
    let used = 0;
    try {
      this.#loadKey(key);
      x.gcmInit();
      for (let from = 0; from < plaintexts.length; from += this.maxBatch) {
        const count = Math.min(this.maxBatch, plaintexts.length - from);
        const [derive, first] = this.#setNonces(nonces, from, count);
        const lens: number[] = [];
        for (let i = 0; i < count; i++) {
          const p = plaintexts[from + i]!;
          this.#mem.set(p, this.#io + i * this.stride);
          lens.push(p.length);
        }
        this.#setLens(lens, count);
        used = Math.max(used, count * this.stride);
        x.gcmSealBatch(count, derive, first);
        for (let i = 0; i < count; i++) out.push(this.#mem.slice(this.#io + i * this.stride, this.#io + i * this.stride + lens[i]! + 16));
      }
      return out;
    } finally {
      x.wipe(used);
    }
  }

  /**
   * AES-GCM decryption without AAD of messages of at most 16 KiB + tag each. Nothing is returned
   * unless every message verified.
   * @param key - 16, 24 or 32 bytes
   * @param nonces - one 12-byte nonce per message, or C2SP's base nonce and first chunk index
   * @param sealed - the messages, `ciphertext || tag` of 16 … 16 KiB + 16 bytes each
   * @returns the plaintexts, or the index of the first message that failed
   */
  gcmOpenBatch(key: Uint8Array, nonces: BatchNonces, sealed: readonly Uint8Array[]): Bytes[] | number {
    const x = this.#x;
    const out: Bytes[] = [];
    let used = 0;
    try {
      this.#loadKey(key);
      x.gcmInit();
      for (let from = 0; from < sealed.length; from += this.maxBatch) {
        const count = Math.min(this.maxBatch, sealed.length - from);
        const [derive, first] = this.#setNonces(nonces, from, count);
        const lens: number[] = [];
        for (let i = 0; i < count; i++) {
          const s = sealed[from + i]!;
          this.#mem.set(s, this.#io + i * this.stride);
          lens.push(s.length - 16);
        }
        this.#setLens(lens, count);
        used = Math.max(used, count * this.stride);
        const bad = x.gcmOpenBatch(count, derive, first);
        if (bad >= 0) {
          for (const p of out) p.fill(0);
          return from + bad;
        }
        for (let i = 0; i < count; i++) out.push(this.#mem.slice(this.#io + i * this.stride, this.#io + i * this.stride + lens[i]!));
      }
      return out;
    } finally {
      x.wipe(used);
    }
  }

  /**
   * AES-CTR (SP 800-38A §6.5) with a 128-bit counter incremented modulo 2^128.
   * @param key - 16, 24 or 32 bytes
   * @param counterBlock - the first 16-byte counter block (big-endian)
   * @param data - any length
   * @returns `data` XOR the keystream
   */
  ctr(key: Uint8Array, counterBlock: Uint8Array, data: Uint8Array): Bytes {
    const x = this.#x;
    const out = new Uint8Array(data.length);
    let used = 0;
    try {
      this.#loadKey(key);
      this.#mem.set(counterBlock, this.#nonce);
      x.ctrBegin();
      for (let off = 0; off < data.length; off += this.ioSize) {
        const piece = data.subarray(off, Math.min(data.length, off + this.ioSize));
        this.#mem.set(piece, this.#io);
        x.ctrWindow(piece.length);
        out.set(this.#mem.subarray(this.#io, this.#io + piece.length), off);
        used = Math.max(used, piece.length);
      }
      return out;
    } finally {
      x.wipe(used);
    }
  }

  /**
   * The raw AES block function on whole blocks (ECB), forwards or inverse.
   * @param key - 16, 24 or 32 bytes
   * @param data - a multiple of 16 bytes (checked by the caller)
   * @param decrypt - the inverse cipher instead of the cipher
   * @returns the transformed blocks
   */
  blocks(key: Uint8Array, data: Uint8Array, decrypt: boolean): Bytes {
    const x = this.#x;
    const out = new Uint8Array(data.length);
    let used = 0;
    try {
      this.#loadKey(key);
      for (let off = 0; off < data.length; off += this.ioSize) {
        const piece = data.subarray(off, Math.min(data.length, off + this.ioSize));
        this.#mem.set(piece, this.#io);
        if (decrypt) x.ecbDecrypt(piece.length);
        else x.ecbEncrypt(piece.length);
        out.set(this.#mem.subarray(this.#io, this.#io + piece.length), off);
        used = Math.max(used, piece.length);
      }
      return out;
    } finally {
      x.wipe(used);
    }
  }
}

let compiled: Promise<WasmCore> | undefined;
let core: WasmCore | undefined;

/** `(module (func (result v128) (v128.const i32x4 0 0 0 0)))`: validates only where SIMD exists. */
const SIMD_PROBE = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x0b, // code: v128.const 0
);
let simd: boolean | undefined;

/**
 * True when this runtime has WebAssembly with SIMD, checked by validating a 43-byte module (no
 * compilation, so a CSP does not interfere; a refusal only shows when the core is compiled).
 * @returns whether the wasm backend can exist here
 * @example
 * ```ts
 * if (hasWebAssembly()) await loadWasmCore();
 * ```
 */
export function hasWebAssembly(): boolean {
  if (simd === undefined) {
    try {
      simd = typeof WebAssembly === 'object' && typeof WebAssembly.instantiate === 'function' && WebAssembly.validate(SIMD_PROBE);
    } catch {
      simd = false;
    }
  }
  return simd;
}

/**
 * Compiles and instantiates the module once; later calls return the same promise.
 * @returns the core, ready for synchronous use
 * @throws EnsealError `ERR_UNSUPPORTED` when WebAssembly is missing or refused (a CSP without
 *   `'wasm-unsafe-eval'`, or no SIMD support); a later call tries again
 * @example
 * ```ts
 * const core = await loadWasmCore();
 * ```
 */
export function loadWasmCore(): Promise<WasmCore> {
  if (compiled === undefined) {
    compiled = (async () => {
      if (!hasWebAssembly()) throw new EnsealError('ERR_UNSUPPORTED', 'the wasm backend needs WebAssembly with SIMD');
      try {
        const bytes = fromBase64(WASM_BASE64);
        const { instance } = await WebAssembly.instantiate(bytes, {});
        core = new WasmCore(instance);
        return core;
      } catch (cause) {
        throw new EnsealError('ERR_UNSUPPORTED', 'WebAssembly refused the wasm core (CSP without wasm-unsafe-eval, or no SIMD)', { cause });
      }
    })();
    compiled.catch(() => {
      compiled = undefined; // a refusal is not cached: the page's policy may change, tests may retry
    });
  }
  return compiled;
}

/**
 * The core when {@link loadWasmCore} has completed, else `undefined`.
 * @returns the compiled core or `undefined`
 */
export function wasmCoreIfReady(): WasmCore | undefined {
  return core;
}
