/**
 * The wasm backend: AES-256/192/128-GCM, AES-CTR and the AES block function from enseal's own
 * WebAssembly core (`wasm/`, constant-time AES and GHASH in SIMD; see wasm-core.ts), SHA-2 and
 * HMAC from hash-wasm, randomness from the platform CSPRNG. It gives the same bytes everywhere,
 * including where `crypto.subtle` is missing (pages served over plain HTTP) and in workers that
 * want a synchronous API: after `await ready()`, {@link wasmSync} works without promises.
 *
 * RSA is not in the WebAssembly core (it needs no constant-time AES and gains nothing from it):
 * the RSA operations are delegated to node:crypto where available, else WebCrypto, and are
 * `ERR_UNSUPPORTED` where neither exists. Handles it returns belong to this backend.
 *
 * Needs WebAssembly with SIMD (Node ≥ 16.4, every current browser, Deno, Bun); a page with a
 * Content-Security-Policy must allow `'wasm-unsafe-eval'` in `script-src`. When the module is
 * refused, every operation rejects with `ERR_UNSUPPORTED` (the runtime default never picks this
 * backend where WebCrypto is available: see select.ts).
 *
 * @module
 */
import { assertBytes, wipe, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import {
  checkBlocks,
  type AesBlockKey,
  type AesGcmKey,
  type CryptoBackend,
  type RsaKey,
} from './backend.js';
import { createNodeBackend, loadNodeCrypto } from './node.js';
import { hasWebAssembly, loadWasmCore, wasmCoreIfReady, WASM_CHUNK_SIZE, type WasmCore } from './wasm-core.js';
import { wasmDigest, wasmHmac } from './wasm-hash.js';
import { createWebCryptoBackend, loadSubtle } from './webcrypto.js';

const MAX_CHUNKS = 2 ** 38;

function checkKey(key: Uint8Array): void {
  assertBytes(key, 'key');
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new RangeError(`"key" expected 16, 24 or 32 bytes, got ${key.length}`);
  }
}

function checkNonce(nonce: Uint8Array, name = 'nonce'): void {
  assertBytes(nonce, name);
  if (nonce.length !== 12) throw new RangeError(`"${name}" expected 12 bytes, got ${nonce.length}`);
}

function checkCounter(counterBlock: Uint8Array): void {
  assertBytes(counterBlock, 'counterBlock');
  if (counterBlock.length !== 16) throw new RangeError(`"counterBlock" expected 16 bytes, got ${counterBlock.length}`);
}

const authFailure = (): EnsealError => new EnsealError('ERR_AUTH', 'authentication failed');
const disposedError = (): EnsealError => new EnsealError('ERR_STATE', 'the key was disposed');

/**
 * Compiles the WASM core (once; later calls return at once). Afterwards {@link wasmSync} and the
 * wasm backend run without waiting for compilation.
 * @returns a promise that resolves when the core is ready
 * @throws EnsealError `ERR_UNSUPPORTED` when WebAssembly is missing or refused (CSP without
 *   `'wasm-unsafe-eval'`)
 * @example
 * ```ts
 * await ready();
 * const sealed = wasmSync().gcmSeal(key, nonce, plaintext);
 * ```
 */
export async function ready(): Promise<void> {
  await loadWasmCore();
}

function coreSync(): WasmCore {
  const c = wasmCoreIfReady();
  if (c === undefined) throw new EnsealError('ERR_STATE', 'the wasm core is not compiled yet: await ready() first');
  return c;
}

/** Synchronous AES-GCM and AES-CTR on the WASM core (available once {@link ready} resolved). */
export interface WasmSync {
  /**
   * AES-GCM encryption (key of 16, 24 or 32 bytes, 12-byte nonce).
   * @returns `ciphertext || tag`
   */
  gcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Bytes;
  /**
   * AES-GCM decryption; the plaintext is computed only after the tag verified.
   * @throws EnsealError `ERR_AUTH` when the tag does not verify
   */
  gcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Bytes;
  /** AES-CTR with a 128-bit big-endian counter incremented modulo 2^128 (SP 800-38A §6.5). */
  ctr(key: Uint8Array, counterBlock: Uint8Array, data: Uint8Array): Bytes;
  /**
   * Seals C2SP chunks `firstIndex, firstIndex + 1, …` (each ≤ 16 KiB, empty AAD), the nonces
   * `base_nonce XOR uint96_be(i)` derived inside the module (C2SP chunked-encryption §"AEAD usage").
   * @throws EnsealError `ERR_LIMIT` when an index reaches 2^38
   */
  sealChunks(key: Uint8Array, baseNonce: Uint8Array, firstIndex: number, plaintexts: readonly Uint8Array[]): Bytes[];
  /**
   * Opens C2SP chunks `firstIndex, …`; nothing is returned unless every chunk verified.
   * @throws EnsealError `ERR_AUTH` with `chunk` = the index of the first chunk that failed
   */
  openChunks(key: Uint8Array, baseNonce: Uint8Array, firstIndex: number, sealed: readonly Uint8Array[]): Bytes[];
}

function checkChunks(parts: readonly Uint8Array[], name: string, extra: number): void {
  if (!Array.isArray(parts)) throw new TypeError(`"${name}" expected an array of Uint8Array`);
  for (const p of parts) {
    assertBytes(p, name);
    if (p.length > WASM_CHUNK_SIZE + extra) throw new RangeError(`"${name}" expected chunks of at most ${WASM_CHUNK_SIZE + extra} bytes, got ${p.length}`);
  }
}

function checkFirst(first: number, count: number): void {
  if (!Number.isSafeInteger(first) || first < 0) throw new RangeError(`"firstIndex" expected a non-negative integer, got ${first}`);
  if (first + count > MAX_CHUNKS) throw new EnsealError('ERR_LIMIT', 'message exceeds the 2^38-chunk limit');
}

const sync: WasmSync = {
  gcmSeal(key, nonce, plaintext, aad = new Uint8Array(0)) {
    checkKey(key);
    checkNonce(nonce);
    assertBytes(plaintext, 'plaintext');
    assertBytes(aad, 'aad');
    return coreSync().gcmSeal(key, nonce, plaintext, aad);
  },
  gcmOpen(key, nonce, sealed, aad = new Uint8Array(0)) {
    checkKey(key);
    checkNonce(nonce);
    assertBytes(sealed, 'sealed');
    assertBytes(aad, 'aad');
    if (sealed.length < 16) throw new EnsealError('ERR_AUTH', 'ciphertext shorter than the authentication tag');
    const out = coreSync().gcmOpen(key, nonce, sealed, aad);
    if (out === undefined) throw authFailure();
    return out;
  },
  ctr(key, counterBlock, data) {
    checkKey(key);
    checkCounter(counterBlock);
    assertBytes(data, 'data');
    return coreSync().ctr(key, counterBlock, data);
  },
  sealChunks(key, baseNonce, firstIndex, plaintexts) {
    checkKey(key);
    checkNonce(baseNonce, 'baseNonce');
    checkChunks(plaintexts, 'plaintexts', 0);
    checkFirst(firstIndex, plaintexts.length);
    return coreSync().gcmSealBatch(key, { base: baseNonce, first: firstIndex }, plaintexts);
  },
  openChunks(key, baseNonce, firstIndex, sealed) {
    checkKey(key);
    checkNonce(baseNonce, 'baseNonce');
    checkChunks(sealed, 'sealed', 16);
    checkFirst(firstIndex, sealed.length);
    const bad = sealed.findIndex((s) => s.length < 16);
    const c = coreSync();
    const r = c.gcmOpenBatch(key, { base: baseNonce, first: firstIndex }, bad < 0 ? sealed : sealed.slice(0, bad));
    const failed = typeof r === 'number' ? r : bad;
    if (failed >= 0) {
      if (typeof r !== 'number') for (const p of r) p.fill(0);
      throw new EnsealError('ERR_AUTH', `chunk ${firstIndex + failed} failed authentication`, { chunk: firstIndex + failed });
    }
    return r as Bytes[];
  },
};

/**
 * The synchronous API of the WASM core.
 * @returns the synchronous functions
 * @throws EnsealError `ERR_STATE` (from each function) while {@link ready} has not resolved
 * @example
 * ```ts
 * await ready();
 * const { gcmSeal, gcmOpen } = wasmSync();
 * const pt = gcmOpen(key, nonce, gcmSeal(key, nonce, data));
 * ```
 */
export function wasmSync(): WasmSync {
  return sync;
}

/** An AES key for the wasm backend: a private copy of the key, wiped by dispose(). */
class WasmKey {
  #key: Bytes | undefined;
  constructor(key: Uint8Array) {
    checkKey(key);
    this.#key = new Uint8Array(key);
  }
  /**
   * The compiled core. Always awaited before {@link WasmKey.live} is read, so a dispose() that
   * comes while a call is pending makes that call fail instead of running on a wiped key.
   */
  protected async core(): Promise<WasmCore> {
    return wasmCoreIfReady() ?? loadWasmCore();
  }
  /** The live key; throws ERR_STATE once disposed. */
  protected live(): Bytes {
    const key = this.#key;
    if (key === undefined) throw disposedError();
    return key;
  }
  dispose(): void {
    if (this.#key !== undefined) wipe(this.#key);
    this.#key = undefined;
  }
}

class WasmGcmKey extends WasmKey implements AesGcmKey {
  async seal(nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Promise<Bytes> {
    checkNonce(nonce);
    assertBytes(plaintext, 'plaintext');
    if (aad !== undefined) assertBytes(aad, 'aad');
    const core = await this.core();
    const key = this.live();
    return core.gcmSeal(key, nonce, plaintext, aad ?? new Uint8Array(0));
  }
  async open(nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Promise<Bytes> {
    checkNonce(nonce);
    assertBytes(sealed, 'sealed');
    if (aad !== undefined) assertBytes(aad, 'aad');
    const core = await this.core();
    const key = this.live();
    if (sealed.length < 16) throw new EnsealError('ERR_AUTH', 'ciphertext shorter than the authentication tag');
    const out = core.gcmOpen(key, nonce, sealed, aad ?? new Uint8Array(0));
    if (out === undefined) throw authFailure();
    return out;
  }
  async sealBatch(nonces: readonly Uint8Array[], plaintexts: readonly Uint8Array[]): Promise<Bytes[]> {
    if (nonces.length !== plaintexts.length) throw new RangeError(`"nonces" expected ${plaintexts.length} nonces, got ${nonces.length}`);
    nonces.forEach((n) => checkNonce(n));
    plaintexts.forEach((p) => assertBytes(p, 'plaintexts'));
    const core = await this.core();
    const key = this.live();
    if (plaintexts.every((p) => p.length <= WASM_CHUNK_SIZE)) return core.gcmSealBatch(key, { list: nonces }, plaintexts);
    return plaintexts.map((p, i) => core.gcmSeal(key, nonces[i]!, p, new Uint8Array(0)));
  }
  async openBatch(nonces: readonly Uint8Array[], sealed: readonly Uint8Array[]): Promise<Bytes[]> {
    if (nonces.length !== sealed.length) throw new RangeError(`"nonces" expected ${sealed.length} nonces, got ${nonces.length}`);
    nonces.forEach((n) => checkNonce(n));
    sealed.forEach((s) => assertBytes(s, 'sealed'));
    const core = await this.core();
    const key = this.live();
    // Messages too short for a tag fail; the ones before them are still checked in order.
    const short = sealed.findIndex((s) => s.length < 16);
    const head = short < 0 ? sealed : sealed.slice(0, short);
    let r: Bytes[] | number;
    if (head.every((s) => s.length <= WASM_CHUNK_SIZE + 16)) {
      r = core.gcmOpenBatch(key, { list: nonces }, head);
    } else {
      const out: Bytes[] = [];
      r = out;
      for (let i = 0; i < head.length; i++) {
        const p = core.gcmOpen(key, nonces[i]!, head[i]!, new Uint8Array(0));
        if (p === undefined) {
          r = i;
          break;
        }
        out.push(p);
      }
    }
    const failed = typeof r === 'number' ? r : short;
    if (failed >= 0) {
      if (typeof r !== 'number') for (const p of r) p.fill(0);
      throw new EnsealError('ERR_AUTH', 'authentication failed', { chunk: failed });
    }
    return r as Bytes[];
  }
}

class WasmBlockKey extends WasmKey implements AesBlockKey {
  async encrypt(blocks: Uint8Array): Promise<Bytes> {
    checkBlocks(blocks);
    const core = await this.core();
    const key = this.live();
    return core.blocks(key, blocks, false);
  }
  async decrypt(blocks: Uint8Array): Promise<Bytes> {
    checkBlocks(blocks);
    const core = await this.core();
    const key = this.live();
    return core.blocks(key, blocks, true);
  }
}

/** The platform backend that RSA operations are delegated to, if any. */
function rsaDelegate(): CryptoBackend | undefined {
  if (loadNodeCrypto() !== undefined) return createNodeBackend();
  if (loadSubtle() !== undefined) return createWebCryptoBackend();
  return undefined;
}

/**
 * Creates the wasm backend. Compilation starts on first use (or with {@link ready}).
 * @returns the backend
 * @throws EnsealError `ERR_UNSUPPORTED` when the runtime has no WebAssembly with SIMD
 * @example
 * ```ts
 * const b = createWasmBackend();
 * const gcm = await b.aesGcm(key);
 * ```
 */
export function createWasmBackend(): CryptoBackend {
  if (!hasWebAssembly()) throw new EnsealError('ERR_UNSUPPORTED', 'the wasm backend needs WebAssembly with SIMD');
  let delegate: CryptoBackend | undefined | null = null;
  const rsaBackend = (): CryptoBackend => {
    if (delegate === null) delegate = rsaDelegate();
    if (delegate === undefined) throw new EnsealError('ERR_UNSUPPORTED', 'the wasm backend delegates RSA to the node or webcrypto backend, and neither is available here');
    return delegate;
  };
  const handles = new WeakMap<RsaKey, RsaKey>();
  const inner = (key: RsaKey): RsaKey => {
    const k = handles.get(key);
    if (k === undefined) throw new TypeError('"key" expected an RSA key imported by the wasm backend');
    return k;
  };
  const random = (globalThis as { crypto?: Crypto }).crypto;
  const nodeCrypto = loadNodeCrypto();

  return {
    name: 'wasm',
    async aesGcm(key) {
      const k = new WasmGcmKey(key);
      await loadWasmCore().catch((e: unknown) => {
        k.dispose();
        throw e;
      });
      return k;
    },
    async aesBlock(key) {
      const k = new WasmBlockKey(key);
      await loadWasmCore().catch((e: unknown) => {
        k.dispose();
        throw e;
      });
      return k;
    },
    async aesCtr(key, counterBlock, data) {
      checkKey(key);
      checkCounter(counterBlock);
      assertBytes(data, 'data');
      const core = wasmCoreIfReady() ?? (await loadWasmCore());
      return core.ctr(key, counterBlock, data);
    },
    async importRsaKey(input, type) {
      const b = rsaBackend();
      const k = await b.importRsaKey(input, type);
      const handle: RsaKey = Object.freeze({ type: k.type, modulusLengthInBits: k.modulusLengthInBits, backend: 'wasm' as const });
      handles.set(handle, k);
      return handle;
    },
    async exportRsaSpki(key) {
      return rsaBackend().exportRsaSpki(inner(key));
    },
    async rsaOaepEncrypt(key, hash, plaintext, label) {
      return rsaBackend().rsaOaepEncrypt(inner(key), hash, plaintext, label);
    },
    async rsaOaepDecrypt(key, hash, ciphertext, label) {
      return rsaBackend().rsaOaepDecrypt(inner(key), hash, ciphertext, label);
    },
    async rsaRawDecrypt(key, ciphertext) {
      return rsaBackend().rsaRawDecrypt(inner(key), ciphertext);
    },
    async rsaImplicitRejectionKey(key) {
      return rsaBackend().rsaImplicitRejectionKey(inner(key));
    },
    async hmac(hash, key, data) {
      return wasmHmac(hash, key, data);
    },
    async digest(hash, data) {
      return wasmDigest(hash, data);
    },
    randomBytes(n) {
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`"n" expected a non-negative integer, got ${n}`);
      const out = new Uint8Array(n);
      if (typeof random?.getRandomValues === 'function') {
        for (let i = 0; i < n; i += 65536) random.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
      } else if (nodeCrypto !== undefined) {
        nodeCrypto.randomFillSync(out);
      } else {
        throw new EnsealError('ERR_UNSUPPORTED', 'no CSPRNG in this runtime (crypto.getRandomValues)');
      }
      return out;
    },
  };
}
