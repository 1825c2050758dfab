/**
 * WebCrypto backend (`globalThis.crypto.subtle`): browsers, Deno, Bun, workers, and Node.
 * Every call is asynchronous with a fixed cost (about 120 µs per call in Node), so callers
 * issue many chunk operations at once and await them together.
 *
 * @module
 */
import { asBufferSource, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import type { AesGcmKey, CryptoBackend } from './backend.js';

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
async function importAes(subtle: SubtleCrypto, key: Uint8Array, name: 'AES-GCM' | 'AES-CTR'): Promise<CryptoKey> {
  checkAesKey(key);
  try {
    return await subtle.importKey('raw', asBufferSource(key), { name }, false, ['encrypt', 'decrypt']);
  } catch (cause) {
    throw new EnsealError('ERR_UNSUPPORTED', `WebCrypto refused a ${key.length * 8}-bit ${name} key`, { cause });
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

  return {
    name: 'webcrypto',
    async aesGcm(key): Promise<AesGcmKey> {
      const k = await importAes(subtle, key, 'AES-GCM');
      const params = (nonce: Uint8Array, aad?: Uint8Array): AesGcmParams => {
        if (nonce.length !== 12) throw new RangeError(`"nonce" expected 12 bytes, got ${nonce.length}`);
        const p: AesGcmParams = { name: 'AES-GCM', iv: asBufferSource(nonce), tagLength: 128 };
        if (aad !== undefined && aad.length > 0) p.additionalData = asBufferSource(aad);
        return p;
      };
      const gcm: AesGcmKey = {
        async seal(nonce, plaintext, aad) {
          return new Uint8Array(await subtle.encrypt(params(nonce, aad), k, asBufferSource(plaintext)));
        },
        async open(nonce, sealed, aad) {
          const p = params(nonce, aad);
          if (sealed.length < 16) throw new EnsealError('ERR_AUTH', 'ciphertext shorter than the authentication tag');
          let pt: ArrayBuffer;
          try {
            pt = await subtle.decrypt(p, k, asBufferSource(sealed));
          } catch {
            throw new EnsealError('ERR_AUTH', 'authentication failed');
          }
          return new Uint8Array(pt);
        },
        sealBatch(nonces, plaintexts) {
          return Promise.all(plaintexts.map((pt, i) => gcm.seal(nonces[i]!, pt)));
        },
        async openBatch(nonces, sealed) {
          const results = await Promise.allSettled(sealed.map((ct, i) => gcm.open(nonces[i]!, ct)));
          const bad = results.findIndex((r) => r.status === 'rejected');
          if (bad < 0) return results.map((r) => (r as PromiseFulfilledResult<Bytes>).value);
          for (const r of results) if (r.status === 'fulfilled') r.value.fill(0);
          const reason = (results[bad] as PromiseRejectedResult).reason;
          if (reason instanceof EnsealError && reason.code === 'ERR_AUTH') throw new EnsealError('ERR_AUTH', reason.message, { chunk: bad });
          throw reason;
        },
        dispose() {
          // The CryptoKey is non-extractable and holds no JS-visible copy of the key.
        },
      };
      return gcm;
    },
    async aesCtr(key, counterBlock, data) {
      if (counterBlock.length !== 16) throw new RangeError(`"counterBlock" expected 16 bytes, got ${counterBlock.length}`);
      const k = await importAes(subtle, key, 'AES-CTR');
      const out = await subtle.encrypt({ name: 'AES-CTR', counter: asBufferSource(counterBlock), length: 128 }, k, asBufferSource(data));
      return new Uint8Array(out);
    },
    async hmac(hash, key, data) {
      // WebCrypto refuses zero-length HMAC keys; RFC 2104 pads any key to the block size with
      // zeros, so a zero-length key is equivalent to a single zero byte.
      const raw = key.length === 0 ? new Uint8Array(1) : asBufferSource(key);
      const k = await subtle.importKey('raw', raw, { name: 'HMAC', hash }, false, ['sign']);
      return new Uint8Array(await subtle.sign('HMAC', k, asBufferSource(data)));
    },
    async digest(hash, data) {
      return new Uint8Array(await subtle.digest(hash, asBufferSource(data)));
    },
    randomBytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i += 65536) random.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
      return out;
    },
  };
}
