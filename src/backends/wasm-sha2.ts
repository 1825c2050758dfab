/**
 * Synchronous HMAC-SHA-2 (RFC 2104) and HKDF-Expand (RFC 5869 §2.3) on enseal's small SHA-2
 * WebAssembly module (wasm/sha2.ts, inlined as base64 in wasm-sha2-binary.ts): the keyed
 * HMAC ({@link SyncHmac}) of the node:crypto and WebCrypto backends. A message's HMACs are a few
 * short inputs under one key, where a platform call costs more than the hashing; here the padded
 * key blocks are compressed once per key, every MAC is one call, and an HKDF-Expand of several
 * blocks is one call too.
 *
 * SHA-2 indexes no table by data and branches only on lengths, so it is constant time for a
 * given length. Key hygiene: the module wipes its working state (running state, blocks, schedule,
 * HMAC states) before every call returns; this file wipes the input and output windows after each
 * copy, and a keyed HMAC keeps its two states (the only key-derived bytes) in a slot of the module's
 * memory (or, with every slot taken, in a JS buffer) that `dispose()` zeroes.
 *
 * The module is compiled synchronously on first use (4.8 KB, below every engine's main-thread
 * limit); where WebAssembly is missing or refused (a Content-Security-Policy without
 * `'wasm-unsafe-eval'`), {@link wasmSha2Hmac} returns `undefined` and the backends keep their own
 * HMAC.
 *
 * @module
 */
import type { Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import type { HashName } from './backend.js';
import type { KeyedHmac, SyncHmac } from './sync.js';
import { SHA2_WASM_BASE64 } from './wasm-sha2-binary.js';

interface Sha2Exports {
  readonly memory: WebAssembly.Memory;
  readonly KEYS: WebAssembly.Global;
  readonly OUT: WebAssembly.Global;
  readonly IO: WebAssembly.Global;
  readonly IO_SIZE: WebAssembly.Global;
  readonly SLOTS: WebAssembly.Global;
  readonly SLOT_COUNT: WebAssembly.Global;
  digestBegin(alg: number): void;
  digestEnd(): void;
  hmacSetup(alg: number, keyLen: number, to: number): void;
  hmacBegin(alg: number, at: number): void;
  update(len: number): void;
  hmacEnd(): void;
  hmac(alg: number, len: number, at: number): void;
  hkdfExpand(alg: number, infoLen: number, outLen: number, at: number): void;
}

interface Sha2 {
  readonly x: Sha2Exports;
  readonly mem: Uint8Array;
  readonly keys: number;
  readonly out: number;
  readonly io: number;
  readonly ioSize: number;
  /** Addresses of the free state slots. */
  readonly free: number[];
}

/** Algorithm id, block size and digest length of each hash (FIPS 180-4). */
const ALGS: Readonly<Record<HashName, { id: number; block: number; hl: number }>> = {
  'SHA-256': { id: 256, block: 64, hl: 32 },
  'SHA-384': { id: 384, block: 128, hl: 48 },
  'SHA-512': { id: 512, block: 128, hl: 64 },
};
/** Bytes of the two HMAC states (inner, outer) as the module lays them out. */
const STATES = 128;

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const atob_ = (globalThis as { atob?: (s: string) => string }).atob;
  if (typeof atob_ === 'function') {
    const s = atob_(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  const B = (globalThis as { Buffer?: { from(s: string, e: string): Uint8Array } }).Buffer;
  if (B === undefined) throw new Error('no base64 decoder');
  const bytes = B.from(b64, 'base64');
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

/** The instantiated module (`null`: it cannot run here). */
let instance: Sha2 | null | undefined;

function load(): typeof instance {
  if (instance !== undefined) return instance;
  try {
    const WA = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
    if (WA === undefined) return (instance = null);
    const x = new WA.Instance(new WA.Module(decode(SHA2_WASM_BASE64)), {}).exports as unknown as Sha2Exports;
    const slots = x.SLOTS.value as number;
    instance = {
      x,
      mem: new Uint8Array(x.memory.buffer), // a fixed memory (never grown): the view stays valid
      keys: x.KEYS.value as number,
      out: x.OUT.value as number,
      io: x.IO.value as number,
      ioSize: x.IO_SIZE.value as number,
      free: Array.from({ length: x.SLOT_COUNT.value as number }, (_, i) => slots + STATES * (x.SLOT_COUNT.value - 1 - i)),
    };
  } catch {
    instance = null; // refused (CSP) or unsupported: the backends keep their own HMAC
  }
  return instance;
}

function checkHash(hash: HashName): { id: number; block: number; hl: number } {
  const a = Object.hasOwn(ALGS, hash) ? ALGS[hash] : undefined;
  if (a === undefined) throw new TypeError(`"hash" expected SHA-256, SHA-384 or SHA-512, got ${String(hash)}`);
  return a;
}

function disposedHmac(): EnsealError {
  return new EnsealError('ERR_STATE', 'the HMAC key was disposed');
}

/**
 * The module's keyed HMAC, or `undefined` where WebAssembly cannot run.
 * @returns a {@link SyncHmac} (keys of any length; a key longer than the block is hashed first)
 * @example
 * ```ts
 * const keyed = wasmSha2Hmac()?.('SHA-512', prk);
 * ```
 */
export function wasmSha2Hmac(): SyncHmac | undefined {
  return load() === null ? undefined : keyedHmac;
}

const keyedHmac: SyncHmac = (hash, key) => new WasmHmac(checkHash(hash), load()!, key);

/**
 * A keyed HMAC of the module. Its two states (the only key-derived bytes) live in one of the
 * module's slots, zeroed and freed by `dispose()`; when every slot is taken (keys not yet
 * disposed), in a JS buffer instead, copied in for each MAC and zeroed by `dispose()`.
 */
class WasmHmac implements KeyedHmac {
  readonly #a: { id: number; block: number; hl: number };
  readonly #m: Sha2;
  /** The slot holding the states, or -1 (then {@link #states}). */
  #slot: number;
  #states: Uint8Array | undefined;
  #gone = false;

  constructor(a: { id: number; block: number; hl: number }, m: Sha2, key: Uint8Array) {
    this.#a = a;
    this.#m = m;
    const { x, mem, out, io } = m;
    // RFC 2104 §2: a key longer than the block is replaced by its hash.
    let k0: Uint8Array = key;
    if (key.length > a.block) {
      x.digestBegin(a.id);
      this.#put(key, (n) => x.update(n));
      x.digestEnd();
      k0 = mem.slice(out, out + a.hl);
      mem.fill(0, out, out + a.hl);
    }
    this.#slot = m.free.pop() ?? -1;
    mem.set(k0, io);
    x.hmacSetup(a.id, k0.length, this.#slot >= 0 ? this.#slot : out);
    mem.fill(0, io, io + k0.length);
    if (k0 !== key) k0.fill(0);
    if (this.#slot < 0) {
      this.#states = mem.slice(out, out + STATES);
      mem.fill(0, out, out + STATES);
    }
  }

  /** Feeds `data` through the input window, zeroing it after each piece. */
  #put(data: Uint8Array, run: (n: number) => void): void {
    const { mem, io, ioSize } = this.#m;
    for (let off = 0; off === 0 || off < data.length; off += ioSize) {
      const n = Math.min(ioSize, data.length - off);
      mem.set(data.subarray(off, off + n), io);
      run(n);
      mem.fill(0, io, io + n);
    }
  }

  /** The address of the states, copying them in when they are held in JS. */
  #at(): number {
    if (this.#gone) throw disposedHmac();
    if (this.#slot >= 0) return this.#slot;
    this.#m.mem.set(this.#states!, this.#m.keys);
    return this.#m.keys;
  }

  mac(data: Uint8Array): Bytes {
    const at = this.#at();
    const { x, mem, out, io, ioSize } = this.#m;
    if (data.length <= ioSize) {
      mem.set(data, io);
      x.hmac(this.#a.id, data.length, at);
      mem.fill(0, io, io + data.length);
    } else {
      x.hmacBegin(this.#a.id, at);
      this.#put(data, (n) => x.update(n));
      x.hmacEnd();
    }
    const r = mem.slice(out, out + this.#a.hl);
    mem.fill(0, out, out + this.#a.hl);
    return r;
  }

  expand(info: Uint8Array, length: number): Bytes | undefined {
    return this.expandWith(info, length, (okm) => okm.slice()); // `mem` is a plain Uint8Array: slice() copies
  }

  expandWith<T>(info: Uint8Array, length: number, use: (okm: Uint8Array) => T): T | undefined {
    const { x, mem, io, ioSize } = this.#m;
    if (info.length + length + this.#a.hl > ioSize) {
      if (this.#gone) throw disposedHmac();
      return undefined; // one MAC per block instead
    }
    const at = this.#at();
    mem.set(info, io);
    x.hkdfExpand(this.#a.id, info.length, length, at);
    try {
      return use(mem.subarray(io + info.length, io + info.length + length));
    } finally {
      mem.fill(0, io, io + info.length + length);
    }
  }

  dispose(): void {
    if (this.#gone) return;
    this.#gone = true;
    if (this.#slot >= 0) {
      this.#m.mem.fill(0, this.#slot, this.#slot + STATES);
      this.#m.free.push(this.#slot);
      this.#slot = -1;
    }
    this.#states?.fill(0);
  }
}

/**
 * The module's linear memory, for the hygiene tests (this is an internal module, exported from no
 * entry point): after every call, nothing in it but the public constants may be non-zero.
 * @returns a view of the memory, or `undefined` where the module cannot run
 * @example
 * ```ts
 * wasmSha2Memory()?.subarray(8192).every((b) => b === 0); // true between calls
 * ```
 */
export function wasmSha2Memory(): Uint8Array | undefined {
  return load()?.mem ?? undefined;
}
