/**
 * WebCrypto backend (`globalThis.crypto.subtle`): browsers, Deno, Bun, workers, and Node.
 * Every call is asynchronous with a fixed cost (about 120 µs per call in Node), so callers
 * issue many chunk operations at once and await them together.
 *
 * @module
 */
import { asBufferSource, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { checkBlocks, checkOaepHash, checkOaepInput, rsaOaepFailure, type AesBlockKey, type AesGcmKey, type CryptoBackend, type HashName, type RsaKey } from './backend.js';
import { importWebRsa, type WebRsaState } from './webcrypto-rsa.js';
import { KEYED_HMAC, SYNC_HMAC, type AsyncHmac } from './sync.js';
import { wasmSha2Hmac } from './wasm-sha2.js';

/** Small random requests are served from this many bytes drawn at once (see `randomBytes`). */
const RANDOM_POOL_BYTES = 1024;
/** Requests above this size are drawn directly. */
const RANDOM_POOLED_MAX = 64;

/** Returns `crypto.subtle` when the runtime exposes it (secure contexts only in browsers). */
export function loadSubtle(): SubtleCrypto | undefined {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  return typeof c?.subtle?.encrypt === 'function' ? c.subtle : undefined;
}

function checkAesKey(key: Uint8Array): void {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new RangeError(`"key" expected 16, 24 or 32 bytes, got ${key.length}`);
  }
}

/** Maps a platform refusal of a key size (e.g. AES-192 in Chromium) to `ERR_UNSUPPORTED`. */
async function importAes(subtle: SubtleCrypto, key: Uint8Array, name: 'AES-GCM' | 'AES-CTR' | 'AES-CBC'): Promise<CryptoKey> {
  checkAesKey(key);
  try {
    return await subtle.importKey('raw', asBufferSource(key), { name }, false, ['encrypt', 'decrypt']);
  } catch (cause) {
    throw new EnsealError('ERR_UNSUPPORTED', `WebCrypto refused a ${key.length * 8}-bit ${name} key`, { cause });
  }
}

/**
 * The lifetime of one backend key: `use()` returns the `CryptoKey` while the key is live (else
 * throws `ERR_STATE`), `after(result)` re-checks once an awaited platform call settled (a key
 * disposed meanwhile wipes the result and throws), and `dispose()` drops the `CryptoKey`
 * (non-extractable: no JS-visible copy of the key bytes exists to wipe).
 */
class KeyLife {
  #key: CryptoKey | undefined;
  constructor(key: CryptoKey) {
    this.#key = key;
  }
  use(): CryptoKey {
    if (this.#key === undefined) throw new EnsealError('ERR_STATE', 'the AES key was disposed');
    return this.#key;
  }
  after(result: Bytes): Bytes {
    if (this.#key === undefined) {
      result.fill(0);
      throw new EnsealError('ERR_STATE', 'the AES key was disposed');
    }
    return result;
  }
  dispose(): void {
    if (this.#key === undefined) return;
    this.#key = undefined;
  }
}

/**
 * Creates the WebCrypto backend.
 * @throws EnsealError `ERR_UNSUPPORTED` when `crypto.subtle` is missing (e.g. an insecure context)
 */
export function createWebCryptoBackend(): CryptoBackend {
  const subtle = loadSubtle();
  if (subtle === undefined) throw new EnsealError('ERR_UNSUPPORTED', 'the webcrypto backend needs crypto.subtle');
  const random = (globalThis as { crypto: Crypto }).crypto;
  const rsaKeys = new WeakMap<RsaKey, WebRsaState>();
  const stateOf = (key: RsaKey, want?: 'private'): WebRsaState => {
    const st = rsaKeys.get(key);
    if (st === undefined) throw new TypeError('"key" expected an RSA key imported by the webcrypto backend');
    if (want === 'private' && key.type !== 'private') throw new TypeError('"key" expected an RSA private key, got a public key');
    return st;
  };
  const oaepParams = (label: Uint8Array | undefined): RsaOaepParams =>
    label !== undefined && label.length > 0 ? { name: 'RSA-OAEP', label: asBufferSource(label) } : { name: 'RSA-OAEP' };

  // WebCrypto refuses zero-length HMAC keys; RFC 2104 pads any key to the block size with zeros,
  // so a zero-length key is equivalent to a single zero byte.
  const importHmac = (hash: HashName, key: Uint8Array): Promise<CryptoKey> =>
    subtle.importKey('raw', key.length === 0 ? new Uint8Array(1) : asBufferSource(key), { name: 'HMAC', hash }, false, ['sign']);
  const hmac = async (hash: HashName, key: Uint8Array, data: Uint8Array): Promise<Bytes> =>
    new Uint8Array(await subtle.sign('HMAC', await importHmac(hash, key), asBufferSource(data)));
  // Keyed once (HKDF-Expand blocks under one PRK): one importKey for all the signs.
  const keyedHmac: AsyncHmac = async (hash, key) => {
    let k: CryptoKey | undefined = await importHmac(hash, key);
    return {
      async mac(data) {
        if (k === undefined) throw new EnsealError('ERR_STATE', 'the HMAC key was disposed');
        return new Uint8Array(await subtle.sign('HMAC', k, asBufferSource(data)));
      },
      dispose() {
        k = undefined;
      },
    };
  };
  Object.defineProperty(hmac, KEYED_HMAC, { value: keyedHmac });
  // HKDF and the header MAC run synchronously on enseal's SHA-2 module (src/backends/wasm-sha2.ts)
  // where WebAssembly runs: a per-message chain of HMACs instead of a chain of platform calls.
  // Without WebAssembly (a CSP without 'wasm-unsafe-eval') they stay WebCrypto calls (KEYED_HMAC).
  const sha2 = wasmSha2Hmac();
  if (sha2 !== undefined) Object.defineProperty(hmac, SYNC_HMAC, { value: sha2 });

  // Small random requests (data keys, nonces, salts: three per message) are served from one
  // getRandomValues of RANDOM_POOL_BYTES (a call costs several µs, far more than the bytes), as
  // the node backend does. Each served byte is zeroed in the pool as it is handed out, so the
  // pool never holds a byte already given to a caller.
  let pool: Uint8Array | undefined;
  let poolOffset = RANDOM_POOL_BYTES;
  const pooled = (n: number): Bytes => {
    if (pool === undefined || poolOffset + n > RANDOM_POOL_BYTES) {
      pool ??= new Uint8Array(RANDOM_POOL_BYTES);
      random.getRandomValues(pool);
      poolOffset = 0;
    }
    const out = pool.slice(poolOffset, poolOffset + n);
    pool.fill(0, poolOffset, poolOffset + n);
    poolOffset += n;
    return out;
  };

  return {
    name: 'webcrypto',
    async aesGcm(key): Promise<AesGcmKey> {
      const life = new KeyLife(await importAes(subtle, key, 'AES-GCM'));
      const params = (nonce: Uint8Array, aad?: Uint8Array): AesGcmParams => {
        if (nonce.length !== 12) throw new RangeError(`"nonce" expected 12 bytes, got ${nonce.length}`);
        const p: AesGcmParams = { name: 'AES-GCM', iv: asBufferSource(nonce), tagLength: 128 };
        if (aad !== undefined && aad.length > 0) p.additionalData = asBufferSource(aad);
        return p;
      };
      const gcm: AesGcmKey = {
        async seal(nonce, plaintext, aad) {
          const k = life.use();
          return life.after(new Uint8Array(await subtle.encrypt(params(nonce, aad), k, asBufferSource(plaintext))));
        },
        async open(nonce, sealed, aad) {
          const k = life.use();
          const p = params(nonce, aad);
          if (sealed.length < 16) throw new EnsealError('ERR_AUTH', 'ciphertext shorter than the authentication tag');
          let pt: ArrayBuffer;
          try {
            pt = await subtle.decrypt(p, k, asBufferSource(sealed));
          } catch {
            life.use(); // disposed meanwhile: ERR_STATE rather than ERR_AUTH
            throw new EnsealError('ERR_AUTH', 'authentication failed');
          }
          return life.after(new Uint8Array(pt));
        },
        async sealBatch(nonces, plaintexts) {
          life.use();
          const results = await Promise.allSettled(plaintexts.map((pt, i) => gcm.seal(nonces[i]!, pt)));
          const bad = results.findIndex((r) => r.status === 'rejected');
          if (bad >= 0) throw (results[bad] as PromiseRejectedResult).reason;
          return results.map((r) => (r as PromiseFulfilledResult<Bytes>).value);
        },
        async openBatch(nonces, sealed) {
          life.use();
          const results = await Promise.allSettled(sealed.map((ct, i) => gcm.open(nonces[i]!, ct)));
          const bad = results.findIndex((r) => r.status === 'rejected');
          if (bad < 0) return results.map((r) => (r as PromiseFulfilledResult<Bytes>).value);
          for (const r of results) if (r.status === 'fulfilled') r.value.fill(0);
          const reason = (results[bad] as PromiseRejectedResult).reason;
          if (reason instanceof EnsealError && reason.code === 'ERR_AUTH') throw new EnsealError('ERR_AUTH', reason.message, { chunk: bad });
          throw reason;
        },
        dispose() {
          life.dispose();
        },
      };
      return gcm;
    },
    async aesBlock(key): Promise<AesBlockKey> {
      // WebCrypto has no ECB. One block is encrypted as AES-CBC with a zero IV: the first output
      // block is E(K, b ⊕ 0) = E(K, b) (the second one, the encrypted PKCS#7 padding, is dropped).
      // Decryption of a block c runs AES-CBC decryption, zero IV, over c || E(K, c ⊕ 10…10):
      //   p_1 = D(K, c) ⊕ IV = D(K, c)
      //   p_2 = D(K, E(K, c ⊕ 10…10)) ⊕ c = 10…10, a full block of valid PKCS#7 padding,
      // which WebCrypto strips, leaving exactly D(K, c). The padding is valid for every c, so the
      // call never fails and no error can depend on the decrypted bytes (no padding oracle).
      const life = new KeyLife(await importAes(subtle, key, 'AES-CBC'));
      const zeroIv: AesCbcParams = { name: 'AES-CBC', iv: new Uint8Array(16) };
      const encryptBlock = async (b: Uint8Array): Promise<Bytes> =>
        new Uint8Array(await subtle.encrypt(zeroIv, life.use(), asBufferSource(b)), 0, 16);
      const decryptBlock = async (c: Uint8Array): Promise<Bytes> => {
        const pad = await encryptBlock(c.map((x) => x ^ 0x10));
        const two = new Uint8Array(32);
        two.set(c, 0);
        two.set(pad, 16);
        try {
          return new Uint8Array(await subtle.decrypt(zeroIv, life.use(), two));
        } finally {
          two.fill(0);
        }
      };
      const each = async (blocks: Uint8Array, f: (b: Uint8Array) => Promise<Bytes>): Promise<Bytes> => {
        life.use();
        checkBlocks(blocks);
        const out = new Uint8Array(blocks.length);
        const results = await Promise.allSettled(Array.from({ length: blocks.length / 16 }, (_, i) => f(blocks.subarray(16 * i, 16 * i + 16))));
        const bad = results.find((r) => r.status === 'rejected');
        results.forEach((r, i) => {
          if (r.status !== 'fulfilled') return;
          out.set(r.value, 16 * i);
          r.value.fill(0);
        });
        if (bad !== undefined) {
          out.fill(0);
          throw (bad as PromiseRejectedResult).reason;
        }
        return life.after(out);
      };
      return {
        encrypt: (blocks) => each(blocks, encryptBlock),
        decrypt: (blocks) => each(blocks, decryptBlock),
        dispose() {
          life.dispose();
        },
      };
    },
    async importRsaKey(input, type) {
      if (type !== 'public' && type !== 'private') throw new TypeError(`"type" expected public or private, got ${String(type)}`);
      const state = await importWebRsa(subtle, input, type);
      const handle: RsaKey = Object.freeze({ type, modulusLengthInBits: state.modulusLengthInBits, backend: 'webcrypto' as const });
      rsaKeys.set(handle, state);
      return handle;
    },
    async exportRsaSpki(key) {
      const spki = stateOf(key).spki;
      if (spki === undefined) throw new EnsealError('ERR_UNSUPPORTED', 'the public key of a non-extractable private CryptoKey cannot be read; pass the public key too');
      return spki.slice();
    },
    async rsaOaepEncrypt(key, hash, plaintext, label) {
      const st = stateOf(key);
      checkOaepInput(key.modulusLengthInBits, hash, plaintext);
      const k = await st.publicKey(hash);
      return new Uint8Array(await subtle.encrypt(oaepParams(label), k, asBufferSource(plaintext)));
    },
    async rsaOaepDecrypt(key, hash, ciphertext, label) {
      const st = stateOf(key, 'private');
      checkOaepHash(hash);
      const k = await st.privateKey(hash);
      try {
        return new Uint8Array(await subtle.decrypt(oaepParams(label), k, asBufferSource(ciphertext)));
      } catch {
        throw rsaOaepFailure();
      }
    },
    async rsaRawDecrypt(key) {
      stateOf(key, 'private');
      throw new EnsealError('ERR_UNSUPPORTED', 'WebCrypto has no raw RSA (needed for PKCS#1 v1.5 decryption with implicit rejection); use the node backend');
    },
    async rsaImplicitRejectionKey(key) {
      stateOf(key, 'private');
      throw new EnsealError('ERR_UNSUPPORTED', 'WebCrypto has no raw RSA (needed for PKCS#1 v1.5 decryption with implicit rejection); use the node backend');
    },
    async aesCtr(key, counterBlock, data) {
      if (counterBlock.length !== 16) throw new RangeError(`"counterBlock" expected 16 bytes, got ${counterBlock.length}`);
      const k = await importAes(subtle, key, 'AES-CTR');
      const out = await subtle.encrypt({ name: 'AES-CTR', counter: asBufferSource(counterBlock), length: 128 }, k, asBufferSource(data));
      return new Uint8Array(out);
    },
    hmac,
    async digest(hash, data) {
      return new Uint8Array(await subtle.digest(hash, asBufferSource(data)));
    },
    randomBytes(n) {
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`"n" expected a non-negative integer, got ${n}`);
      if (n > 0 && n <= RANDOM_POOLED_MAX) return pooled(n);
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i += 65536) random.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
      return out;
    },
  };
}
