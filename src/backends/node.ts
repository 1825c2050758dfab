/**
 * node:crypto backend (Node.js, and Deno/Bun through their node:crypto layers). It is synchronous
 * OpenSSL underneath, so each call is a few microseconds of overhead over the raw primitive.
 *
 * `node:crypto` is reached through `process.getBuiltinModule` (Node ≥ 20.16) rather than an
 * `import`, so importing enseal never pulls a `node:` specifier into a browser bundle.
 *
 * @module
 */
import type * as NodeCrypto from 'node:crypto';
import { wipe, type Bytes, copyBytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { privateExponent } from './rsa-der.js';
import { wasmSha2Hmac } from './wasm-sha2.js';
import { SYNC_AES_GCM, SYNC_HMAC, chunkNonceInto, type SyncAesGcm, type SyncGcm, type SyncHmac } from './sync.js';
import {
  checkBlocks,
  checkOaepHash,
  checkOaepInput,
  hashLength,
  isCryptoKey,
  rsaOaepFailure,
  rsaRawFailure,
  type AesBlockKey,
  type AesGcmKey,
  type CryptoBackend,
  type HashName,
  type RsaKey,
  type RsaKeyInput,
  type RsaOaepHash,
} from './backend.js';

type GetBuiltin = (id: string) => unknown;

/** Returns node:crypto when the runtime exposes it, else `undefined`. */
export function loadNodeCrypto(): typeof NodeCrypto | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return undefined;
  const mod = proc.getBuiltinModule('node:crypto') as typeof NodeCrypto | undefined;
  return typeof mod?.createCipheriv === 'function' ? mod : undefined;
}

const hashIds: Record<HashName, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/** A `Uint8Array` view over a Node `Buffer`'s bytes (no copy): callers get plain arrays. */
function view(b: Buffer): Bytes {
  return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.length);
}

function aesName(keyLength: number, mode: 'gcm' | 'ctr' | 'ecb'): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' | string {
  if (keyLength !== 16 && keyLength !== 24 && keyLength !== 32) {
    throw new RangeError(`"key" expected 16, 24 or 32 bytes, got ${keyLength}`);
  }
  return `aes-${keyLength * 8}-${mode}`;
}

const GCM_NAMES: Readonly<Record<number, NodeCrypto.CipherGCMTypes>> = { 16: 'aes-128-gcm', 24: 'aes-192-gcm', 32: 'aes-256-gcm' };

/** The node:crypto name of AES-GCM for a key length (a lookup: one per message key). */
function gcmName(keyLength: number): NodeCrypto.CipherGCMTypes {
  const name = GCM_NAMES[keyLength];
  if (name === undefined) throw new RangeError(`"key" expected 16, 24 or 32 bytes, got ${keyLength}`);
  return name;
}

function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== 12) throw new RangeError(`"nonce" expected 12 bytes, got ${nonce.length}`);
}

const oaepHashIds: Record<RsaOaepHash, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256' };

/** The error of every use of a disposed backend key. */
function disposedKey(): EnsealError {
  return new EnsealError('ERR_STATE', 'the AES key was disposed');
}

/**
 * Hands a synchronously computed result out on a later microtask, like the other backends'
 * awaited platform calls, unless the key was disposed by then: then the result is wiped and the
 * call rejects with `ERR_STATE` (so a call in flight when `dispose()` ran releases nothing).
 * Only the asynchronous `AesGcmKey`/`AesBlockKey` methods pay this microtask; streams and
 * one-shot calls use the synchronous {@link SyncGcm} methods, which have no call in flight.
 */
async function settle<T extends Bytes | Bytes[]>(result: T, disposed: () => boolean): Promise<T> {
  await undefined;
  if (disposed()) {
    if (Array.isArray(result)) for (const b of result as Bytes[]) b.fill(0);
    else (result as Bytes).fill(0);
    throw disposedKey();
  }
  return result;
}


/** Small random requests are served from this many bytes drawn at once (see `randomBytes`). */
const RANDOM_POOL_BYTES = 1024;
/** Requests above this size are drawn directly. */
const RANDOM_POOLED_MAX = 64;

/** Inputs of at most this many bytes are staged in off-heap scratch buffers (see `stage`): the JS heap's 64-byte typed arrays, and a wrapped data key with its tag. */
const STAGED_MAX = 64 + 16;

/** HMAC block sizes (RFC 2104 B; FIPS 180-4). */
const hmacBlock: Record<HashName, number> = { 'SHA-256': 64, 'SHA-384': 128, 'SHA-512': 128 };

/**
 * Creates the node:crypto backend.
 * @throws EnsealError `ERR_UNSUPPORTED` when node:crypto is not available in this runtime
 */
export function createNodeBackend(): CryptoBackend {
  const nc = loadNodeCrypto();
  if (nc === undefined) throw new EnsealError('ERR_UNSUPPORTED', 'the node backend needs node:crypto (process.getBuiltinModule)');

  // Small inputs reach OpenSSL through scratch buffers allocated off the JS heap once. V8 keeps a
  // typed array of at most 64 bytes made by `new Uint8Array(n)` (every key copy, nonce, data
  // key, stanza AAD and wrapped key enseal builds) inside the JS heap, and node:crypto's first
  // native access to one moves it out (a backing store allocated and the bytes copied), which
  // costs more than a small GCM call's own JavaScript; a copy into a scratch buffer costs a few
  // nanoseconds. Every operation here is synchronous (no call in flight shares a scratch), and
  // each scratch range used is zeroed as soon as the call is over (a staged input may be a key).
  // The chunk methods build each chunk's nonce in `ivStage` itself (createCipheriv copies the IV
  // before it returns), so one buffer serves every chunk of every message.
  const ivStage = new Uint8Array(new ArrayBuffer(12));
  const keyStage = new Uint8Array(new ArrayBuffer(32));
  const aadStage = new Uint8Array(new ArrayBuffer(STAGED_MAX));
  const dataStage = new Uint8Array(new ArrayBuffer(STAGED_MAX));
  /** `src` copied into `scratch` when it fits (a view of it), else `src` itself. */
  const stage = (src: Uint8Array, scratch: Uint8Array): Uint8Array => {
    if (src.length > scratch.length) return src;
    scratch.set(src);
    return src.length === scratch.length ? scratch : scratch.subarray(0, src.length);
  };
  /** Zeroes what {@link stage} copied of `src` into `scratch` (nothing when `src` did not fit: it was not copied). */
  const unstage = (src: Uint8Array | undefined, scratch: Uint8Array): void => {
    if (src !== undefined && src.length <= scratch.length) scratch.fill(0, 0, src.length);
  };

  // Every operation below is synchronous (OpenSSL). The asynchronous methods check the key before
  // they run and once more before their result is released (settle); the synchronous ones
  // (SyncGcm, used by streams and one-shot calls) check it before they run.
  class NodeGcmKey implements AesGcmKey, SyncGcm {
    /** Private copy, wiped by dispose(); handed to OpenSSL staged (it is a small on-heap array). */
    readonly #key: Uint8Array;
    readonly #alg: NodeCrypto.CipherGCMTypes;
    #disposed = false;
    constructor(key: Uint8Array) {
      this.#alg = gcmName(key.length);
      this.#key = copyBytes(key); // a copy even of a Buffer (whose slice() is a view)
    }
    #live(): void {
      if (this.#disposed) throw disposedKey();
    }
    /** Encrypts, small inputs staged (above): the ciphertext and the tag, as node:crypto produced them. */
    #encrypt(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined): [Buffer, Buffer] {
      const k = stage(this.#key, keyStage);
      const iv = stage(nonce, ivStage);
      const a = aad !== undefined && aad.length > 0 ? stage(aad, aadStage) : undefined;
      const p = stage(plaintext, dataStage);
      try {
        const c = nc!.createCipheriv(this.#alg, k, iv); // GCM's default tag: 16 bytes
        if (a !== undefined) c.setAAD(a);
        const ct = c.update(p);
        c.final(); // GCM emits nothing here
        return [ct, c.getAuthTag()];
      } finally {
        unstage(this.#key, keyStage);
        unstage(nonce, ivStage);
        unstage(aad, aadStage);
        unstage(plaintext, dataStage);
      }
    }
    /**
     * Encrypts; appends ciphertext and tag as node:crypto produced them: `Buffer`s (each over an
     * ArrayBuffer of its own) when `buffers`, else plain `Uint8Array` views of them.
     */
    #seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Bytes[], buffers = false): void {
      const [ct, tag] = this.#encrypt(nonce, plaintext, aad);
      if (buffers) out.push(ct as Buffer<ArrayBuffer>, tag as Buffer<ArrayBuffer>);
      else out.push(view(ct), view(tag));
    }
    /**
     * Decrypts and verifies, small inputs staged (above); returns the plaintext only after
     * `final()` checked the tag: the `Buffer` node:crypto produced when `buffers`, else a plain
     * `Uint8Array` view of it.
     */
    #open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined, buffers = false): Bytes {
      if (sealed.length < 16) throw new EnsealError('ERR_AUTH', 'ciphertext shorter than the authentication tag');
      const split = sealed.length - 16;
      const k = stage(this.#key, keyStage);
      const iv = stage(nonce, ivStage);
      const a = aad !== undefined && aad.length > 0 ? stage(aad, aadStage) : undefined;
      const s = stage(sealed, dataStage);
      let pt: Buffer;
      try {
        // No `authTagLength` option (its parsing costs more than the check): the tag handed to
        // setAuthTag is always the last 16 bytes (SP 800-38D §5.2.1.2, a full-length tag).
        const d = nc!.createDecipheriv(this.#alg, k, iv);
        d.setAuthTag(s.subarray(split));
        if (a !== undefined) d.setAAD(a);
        pt = d.update(s.subarray(0, split));
        try {
          d.final();
        } catch {
          pt.fill(0);
          throw new EnsealError('ERR_AUTH', 'authentication failed');
        }
      } finally {
        unstage(this.#key, keyStage);
        unstage(nonce, ivStage);
        unstage(aad, aadStage);
        unstage(sealed, dataStage);
      }
      return buffers ? (pt as Buffer<ArrayBuffer>) : view(pt);
    }
    sealSync(nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Bytes {
      this.#live();
      checkNonce(nonce);
      const [ct, tag] = this.#encrypt(nonce, plaintext, aad);
      const out = new Uint8Array(ct.length + 16);
      out.set(ct, 0);
      out.set(tag, ct.length);
      return out;
    }
    openSync(nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Bytes {
      this.#live();
      checkNonce(nonce);
      return this.#open(nonce, sealed, aad);
    }
    // The stream chunk paths hand node:crypto's Buffers on as they are (no view per piece, and
    // none for Node streams to make either); pushTransform gives Web streams plain views.
    sealChunksSync(baseNonce: Uint8Array, first: number, plaintexts: readonly Uint8Array[], out: Bytes[]): void {
      this.#live();
      const n = ivStage;
      for (let i = 0; i < plaintexts.length; i++) {
        chunkNonceInto(baseNonce, first + i, n);
        this.#seal(n, plaintexts[i]!, undefined, out, true);
      }
      n.fill(0);
    }
    openChunksSync(baseNonce: Uint8Array, first: number, sealed: readonly Uint8Array[], out: Bytes[]): void {
      this.#live();
      const n = ivStage;
      const start = out.length;
      for (let i = 0; i < sealed.length; i++) {
        chunkNonceInto(baseNonce, first + i, n);
        try {
          out.push(this.#open(n, sealed[i]!, undefined, true));
        } catch (e) {
          for (let j = start; j < out.length; j++) out[j]!.fill(0);
          out.length = start; // nothing of this call is released
          n.fill(0);
          if (e instanceof EnsealError && e.code === 'ERR_AUTH') throw new EnsealError('ERR_AUTH', e.message, { chunk: i });
          throw e;
        }
      }
      n.fill(0);
    }
    readonly #gone = (): boolean => this.#disposed;
    async seal(nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Promise<Bytes> {
      return settle(this.sealSync(nonce, plaintext, aad), this.#gone);
    }
    async open(nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Promise<Bytes> {
      return settle(this.openSync(nonce, sealed, aad), this.#gone);
    }
    async sealBatch(nonces: readonly Uint8Array[], plaintexts: readonly Uint8Array[]): Promise<Bytes[]> {
      this.#live();
      const out: Bytes[] = [];
      for (let i = 0; i < plaintexts.length; i++) {
        checkNonce(nonces[i]!);
        this.#seal(nonces[i]!, plaintexts[i]!, undefined, out);
      }
      return settle(out, this.#gone);
    }
    async openBatch(nonces: readonly Uint8Array[], sealed: readonly Uint8Array[]): Promise<Bytes[]> {
      this.#live();
      const out: Bytes[] = [];
      for (let i = 0; i < sealed.length; i++) {
        try {
          checkNonce(nonces[i]!);
          out.push(this.#open(nonces[i]!, sealed[i]!, undefined));
        } catch (e) {
          for (const p of out) p.fill(0);
          if (e instanceof EnsealError && e.code === 'ERR_AUTH') throw new EnsealError('ERR_AUTH', e.message, { chunk: i });
          throw e;
        }
      }
      return settle(out, this.#gone);
    }
    dispose(): void {
      if (this.#disposed) return;
      this.#disposed = true;
      this.#key.fill(0);
    }
  }

  // Small random requests (data keys, salts, nonces: 12–32 bytes, three per message) are served
  // from one draw of RANDOM_POOL_BYTES: a randomFillSync call costs more than the bytes. Each
  // served byte is zeroed in the pool as it is handed out, so the pool never holds a byte that
  // was already given to a caller.
  // The pool is a plain Uint8Array: Buffer's own `fill` and `subarray` cost more than the copy.
  let pool: Uint8Array | undefined;
  let poolOffset = RANDOM_POOL_BYTES;
  const randomBytes = (n: number): Bytes => {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`"n" expected a non-negative integer, got ${n}`);
    if (n === 0 || n > RANDOM_POOLED_MAX) return nc.randomFillSync(new Uint8Array(n));
    if (pool === undefined || poolOffset + n > RANDOM_POOL_BYTES) {
      pool ??= new Uint8Array(RANDOM_POOL_BYTES);
      nc.randomFillSync(pool);
      poolOffset = 0;
    }
    const out = pool.slice(poolOffset, poolOffset + n);
    pool.fill(0, poolOffset, poolOffset + n);
    poolOffset += n;
    return out;
  };

  // HMAC keyed once (RFC 2104 §2): the padded key blocks K ⊕ ipad and K ⊕ opad are computed once;
  // each mac is then two one-shot hashes, H(K ⊕ opad || H(K ⊕ ipad || m)). Every buffer holding
  // key-derived bytes is wiped after use and by dispose().
  const oneShot = typeof nc.hash === 'function' ? nc.hash : undefined;
  const keyedHmac: SyncHmac = (hash, key) => {
    const id = hashIds[hash];
    if (id === undefined) throw new TypeError(`"hash" expected SHA-256, SHA-384 or SHA-512, got ${String(hash)}`);
    if (oneShot === undefined) {
      const k = Buffer.from(key);
      let gone = false;
      return {
        mac: (data) => {
          if (gone) throw new EnsealError('ERR_STATE', 'the HMAC key was disposed');
          return view(nc.createHmac(id, k).update(data).digest());
        },
        dispose: () => {
          gone = true;
          k.fill(0);
        },
      };
    }
    const block = hmacBlock[hash];
    const hl = hashLength[hash];
    const k = key.length > block ? view(nc.createHash(id).update(key).digest()) : key;
    const ipad = new Uint8Array(block).fill(0x36);
    const outer = new Uint8Array(block + hl).fill(0x5c, 0, block); // K ⊕ opad || inner hash
    for (let i = 0; i < k.length; i++) {
      ipad[i] = (ipad[i] as number) ^ (k[i] as number);
      outer[i] = (outer[i] as number) ^ (k[i] as number);
    }
    if (k !== key) k.fill(0);
    let gone = false;
    return {
      mac: (data) => {
        if (gone) throw new EnsealError('ERR_STATE', 'the HMAC key was disposed');
        const inner = new Uint8Array(block + data.length);
        inner.set(ipad, 0);
        inner.set(data, block);
        const ih = oneShot(id, inner, 'buffer');
        inner.fill(0);
        outer.set(ih, block);
        ih.fill(0);
        const mac = view(oneShot(id, outer, 'buffer'));
        outer.fill(0, block);
        return mac;
      },
      dispose: () => {
        gone = true;
        ipad.fill(0);
        outer.fill(0);
      },
    };
  };
  const hmac = async (hash: HashName, key: Uint8Array, data: Uint8Array): Promise<Bytes> => view(nc.createHmac(hashIds[hash], key).update(data).digest());
  // The keyed HMAC of HKDF and the header MAC: enseal's SHA-2 module (src/backends/wasm-sha2.ts;
  // one call per MAC, about half the cost of two OpenSSL hash calls for these short inputs),
  // else the OpenSSL one above.
  Object.defineProperty(hmac, SYNC_HMAC, { value: wasmSha2Hmac() ?? keyedHmac });

  class NodeBlockKey implements AesBlockKey {
    readonly #key: Buffer;
    readonly #alg: string;
    #disposed = false;
    constructor(key: Uint8Array) {
      this.#alg = aesName(key.length, 'ecb');
      this.#key = Buffer.from(key); // private copy, wiped by dispose()
    }
    #run(blocks: Uint8Array, decrypt: boolean): Bytes {
      if (this.#disposed) throw disposedKey();
      checkBlocks(blocks);
      const c = decrypt ? nc!.createDecipheriv(this.#alg, this.#key, null) : nc!.createCipheriv(this.#alg, this.#key, null);
      c.setAutoPadding(false);
      const head = c.update(blocks);
      const tail = c.final(); // empty: whole blocks, no padding
      return tail.length === 0 ? view(head) : view(Buffer.concat([head, tail]));
    }
    readonly #gone = (): boolean => this.#disposed;
    async encrypt(blocks: Uint8Array): Promise<Bytes> {
      return settle(this.#run(blocks, false), this.#gone);
    }
    async decrypt(blocks: Uint8Array): Promise<Bytes> {
      return settle(this.#run(blocks, true), this.#gone);
    }
    dispose(): void {
      if (this.#disposed) return;
      this.#disposed = true;
      this.#key.fill(0);
    }
  }

  // RSA handles map to node:crypto KeyObjects, which keep the key material inside OpenSSL.
  const rsaKeys = new WeakMap<RsaKey, NodeCrypto.KeyObject>();
  const keyObjectOf = (key: RsaKey, want?: 'private'): NodeCrypto.KeyObject => {
    const ko = rsaKeys.get(key);
    if (ko === undefined) throw new TypeError('"key" expected an RSA key imported by the node backend');
    if (want === 'private' && ko.type !== 'private') throw new TypeError('"key" expected an RSA private key, got a public key');
    return ko;
  };
  const toKeyObject = (input: RsaKeyInput, type: 'public' | 'private'): NodeCrypto.KeyObject => {
    if (typeof input === 'string') {
      if (!input.includes('-----BEGIN ')) throw new TypeError('RSA key: a string key must be PEM');
      return type === 'private' ? nc.createPrivateKey(input) : nc.createPublicKey(input);
    }
    if (input instanceof Uint8Array) {
      const key = Buffer.from(input.buffer, input.byteOffset, input.length);
      if (type === 'private') return nc.createPrivateKey({ key, format: 'der', type: 'pkcs8' });
      try {
        return nc.createPublicKey({ key, format: 'der', type: 'spki' });
      } catch {
        return nc.createPublicKey(nc.createPrivateKey({ key, format: 'der', type: 'pkcs8' })); // derive from a private key
      }
    }
    if (isCryptoKey(input)) return nc.KeyObject.from(input);
    if (typeof input === 'object' && input !== null && (input as JsonWebKey).kty === 'RSA') {
      const jwk = input as NodeCrypto.JsonWebKey;
      return type === 'private' ? nc.createPrivateKey({ key: jwk, format: 'jwk' }) : nc.createPublicKey({ key: jwk, format: 'jwk' });
    }
    throw new TypeError('RSA key: expected a PEM string, DER bytes, an RSA JWK or a CryptoKey');
  };

  // One-shot calls create their keys synchronously (SYNC_AES_GCM); `aesGcm` stays a promise.
  const aesGcmSync: SyncAesGcm = (key) => new NodeGcmKey(key);
  const aesGcm = async (key: Uint8Array): Promise<AesGcmKey> => new NodeGcmKey(key);
  Object.defineProperty(aesGcm, SYNC_AES_GCM, { value: aesGcmSync });

  return {
    name: 'node',
    aesGcm,
    async aesBlock(key) {
      return new NodeBlockKey(key);
    },
    async importRsaKey(input, type) {
      if (type !== 'public' && type !== 'private') throw new TypeError(`"type" expected public or private, got ${String(type)}`);
      let ko: NodeCrypto.KeyObject;
      try {
        ko = toKeyObject(input, type);
      } catch (cause) {
        if (cause instanceof TypeError) throw cause;
        throw new TypeError(`RSA key: node:crypto could not read the ${type} key`, { cause });
      }
      if (ko.asymmetricKeyType !== 'rsa') throw new TypeError(`RSA key: expected an RSA (rsaEncryption) key, got ${ko.asymmetricKeyType ?? ko.type}`);
      if (type === 'private' && ko.type !== 'private') throw new TypeError('RSA key: expected a private key, got a public key');
      if (type === 'public' && ko.type === 'private') ko = nc.createPublicKey(ko);
      const handle: RsaKey = Object.freeze({ type, modulusLengthInBits: ko.asymmetricKeyDetails?.modulusLength ?? 0, backend: 'node' as const });
      rsaKeys.set(handle, ko);
      return handle;
    },
    async exportRsaSpki(key) {
      const ko = keyObjectOf(key);
      return view((ko.type === 'private' ? nc.createPublicKey(ko) : ko).export({ type: 'spki', format: 'der' }));
    },
    async rsaOaepEncrypt(key, hash, plaintext, label) {
      const ko = keyObjectOf(key);
      checkOaepInput(key.modulusLengthInBits, hash, plaintext);
      const opts = { key: ko, padding: nc.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHashIds[hash] };
      return view(nc.publicEncrypt(label !== undefined && label.length > 0 ? { ...opts, oaepLabel: label } : opts, plaintext));
    },
    async rsaOaepDecrypt(key, hash, ciphertext, label) {
      const ko = keyObjectOf(key, 'private');
      checkOaepHash(hash);
      const opts = { key: ko, padding: nc.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHashIds[hash] };
      try {
        return view(nc.privateDecrypt(label !== undefined && label.length > 0 ? { ...opts, oaepLabel: label } : opts, ciphertext));
      } catch {
        throw rsaOaepFailure();
      }
    },
    async rsaRawDecrypt(key, ciphertext) {
      const ko = keyObjectOf(key, 'private');
      const k = Math.ceil(key.modulusLengthInBits / 8);
      // RFC 8017 §5.1.2 step 1: c must be an integer in 0..n-1; its length is public information.
      if (ciphertext.length === 0 || ciphertext.length > k) throw rsaRawFailure();
      const c = Buffer.alloc(k);
      c.set(ciphertext, k - ciphertext.length);
      let m: Buffer;
      try {
        m = nc.privateDecrypt({ key: ko, padding: nc.constants.RSA_NO_PADDING }, c); // c ≥ n is refused
      } catch {
        throw rsaRawFailure();
      }
      if (m.length === k) return view(m);
      const out = new Uint8Array(k); // I2OSP(m, k): left-pad (OpenSSL already returns k bytes)
      out.set(m, k - m.length);
      m.fill(0);
      return out;
    },
    async rsaImplicitRejectionKey(key) {
      const ko = keyObjectOf(key, 'private');
      const pkcs1 = ko.export({ type: 'pkcs1', format: 'der' });
      const d = privateExponent(pkcs1, Math.ceil(key.modulusLengthInBits / 8));
      try {
        return view(nc.createHash('sha256').update(d).digest());
      } finally {
        wipe(d, pkcs1);
      }
    },
    async aesCtr(key, counterBlock, data) {
      if (counterBlock.length !== 16) throw new RangeError(`"counterBlock" expected 16 bytes, got ${counterBlock.length}`);
      const c = nc.createCipheriv(aesName(key.length, 'ctr'), key, counterBlock);
      const head = c.update(data);
      const tail = c.final();
      return tail.length === 0 ? view(head) : view(Buffer.concat([head, tail]));
    },
    hmac,
    async digest(hash, data) {
      return view(nc.createHash(hashIds[hash]).update(data).digest());
    },
    randomBytes,
  };
}
