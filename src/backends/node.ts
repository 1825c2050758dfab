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
import type { Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import type { AesGcmKey, CryptoBackend, HashName } from './backend.js';

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

function aesName(keyLength: number, mode: 'gcm' | 'ctr'): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' | string {
  if (keyLength !== 16 && keyLength !== 24 && keyLength !== 32) {
    throw new RangeError(`"key" expected 16, 24 or 32 bytes, got ${keyLength}`);
  }
  return `aes-${keyLength * 8}-${mode}`;
}

function checkNonce(nonce: Uint8Array): void {
  if (nonce.length !== 12) throw new RangeError(`"nonce" expected 12 bytes, got ${nonce.length}`);
}

/**
 * Creates the node:crypto backend.
 * @throws EnsealError `ERR_UNSUPPORTED` when node:crypto is not available in this runtime
 */
export function createNodeBackend(): CryptoBackend {
  const nc = loadNodeCrypto();
  if (nc === undefined) throw new EnsealError('ERR_UNSUPPORTED', 'the node backend needs node:crypto (process.getBuiltinModule)');

  class NodeGcmKey implements AesGcmKey {
    readonly #key: Buffer;
    readonly #alg: NodeCrypto.CipherGCMTypes;
    constructor(key: Uint8Array) {
      this.#alg = aesName(key.length, 'gcm') as NodeCrypto.CipherGCMTypes;
      this.#key = Buffer.from(key); // private copy, wiped by dispose()
    }
    /** Encrypts; returns ciphertext and tag as node:crypto produced them. Synchronous (OpenSSL). */
    #seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined): [Bytes, Bytes] {
      checkNonce(nonce);
      const c = nc!.createCipheriv(this.#alg, this.#key, nonce, { authTagLength: 16 });
      if (aad !== undefined && aad.length > 0) c.setAAD(aad);
      const ct = c.update(plaintext);
      c.final(); // GCM emits nothing here
      return [view(ct), view(c.getAuthTag())];
    }
    /** Decrypts and verifies; returns the plaintext only after `final()` checked the tag. */
    #open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined): Bytes {
      checkNonce(nonce);
      if (sealed.length < 16) throw new EnsealError('ERR_AUTH', 'ciphertext shorter than the authentication tag');
      const split = sealed.length - 16;
      const d = nc!.createDecipheriv(this.#alg, this.#key, nonce, { authTagLength: 16 });
      d.setAuthTag(sealed.subarray(split));
      if (aad !== undefined && aad.length > 0) d.setAAD(aad);
      const pt = d.update(sealed.subarray(0, split));
      try {
        d.final();
      } catch {
        pt.fill(0);
        throw new EnsealError('ERR_AUTH', 'authentication failed');
      }
      return view(pt);
    }
    async seal(nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Promise<Bytes> {
      const [ct, tag] = this.#seal(nonce, plaintext, aad);
      const out = new Uint8Array(ct.length + 16);
      out.set(ct, 0);
      out.set(tag, ct.length);
      return out;
    }
    async open(nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Promise<Bytes> {
      return this.#open(nonce, sealed, aad);
    }
    async sealBatch(nonces: readonly Uint8Array[], plaintexts: readonly Uint8Array[]): Promise<Bytes[]> {
      const out: Bytes[] = [];
      for (let i = 0; i < plaintexts.length; i++) out.push(...this.#seal(nonces[i]!, plaintexts[i]!, undefined));
      return out;
    }
    async openBatch(nonces: readonly Uint8Array[], sealed: readonly Uint8Array[]): Promise<Bytes[]> {
      const out: Bytes[] = [];
      for (let i = 0; i < sealed.length; i++) {
        try {
          out.push(this.#open(nonces[i]!, sealed[i]!, undefined));
        } catch (e) {
          for (const p of out) p.fill(0);
          if (e instanceof EnsealError && e.code === 'ERR_AUTH') throw new EnsealError('ERR_AUTH', e.message, { chunk: i });
          throw e;
        }
      }
      return out;
    }
    dispose(): void {
      this.#key.fill(0);
    }
  }

  return {
    name: 'node',
    async aesGcm(key) {
      return new NodeGcmKey(key);
    },
    async aesCtr(key, counterBlock, data) {
      if (counterBlock.length !== 16) throw new RangeError(`"counterBlock" expected 16 bytes, got ${counterBlock.length}`);
      const c = nc.createCipheriv(aesName(key.length, 'ctr'), key, counterBlock);
      const head = c.update(data);
      const tail = c.final();
      return tail.length === 0 ? view(head) : view(Buffer.concat([head, tail]));
    },
    async hmac(hash, key, data) {
      return view(nc.createHmac(hashIds[hash], key).update(data).digest());
    },
    async digest(hash, data) {
      return view(nc.createHash(hashIds[hash]).update(data).digest());
    },
    randomBytes(n) {
      return nc.randomFillSync(new Uint8Array(n));
    },
  };
}
