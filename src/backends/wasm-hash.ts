/**
 * SHA-2 digests and HMAC (RFC 2104) for the wasm backend, on hash-wasm's WebAssembly SHA-2.
 * One hasher per hash function is created (asynchronously) once and then used synchronously:
 * each digest runs init → update → digest with no `await` in between, so calls never interleave.
 *
 * @module
 */
import { createSHA256, createSHA384, createSHA512, type IHasher } from 'hash-wasm';
import { wipe, type Bytes } from '../bytes.js';
import type { HashName } from './backend.js';

const blockSize: Readonly<Record<HashName, number>> = { 'SHA-256': 64, 'SHA-384': 128, 'SHA-512': 128 };
const factories: Readonly<Record<HashName, () => Promise<IHasher>>> = {
  'SHA-256': createSHA256,
  'SHA-384': createSHA384,
  'SHA-512': createSHA512,
};
const hashers = new Map<HashName, Promise<IHasher>>();

function checkHash(hash: HashName): void {
  if (!Object.hasOwn(factories, hash)) throw new TypeError(`"hash" expected SHA-256, SHA-384 or SHA-512, got ${String(hash)}`);
}

async function hasherOf(hash: HashName): Promise<IHasher> {
  checkHash(hash);
  let h = hashers.get(hash);
  if (h === undefined) {
    h = factories[hash]();
    hashers.set(hash, h);
    h.catch(() => hashers.delete(hash));
  }
  return h;
}

/** `H(parts[0] || parts[1] || …)` on a ready hasher (synchronous). */
function run(h: IHasher, ...parts: Uint8Array[]): Bytes {
  h.init();
  for (const p of parts) h.update(p);
  return h.digest('binary') as Bytes; // a fresh copy (hash-wasm slices its memory)
}

/**
 * A SHA-2 digest.
 * @param hash - SHA-256, SHA-384 or SHA-512
 * @param data - the message
 * @returns the digest
 * @throws TypeError for another hash name
 * @example
 * ```ts
 * await wasmDigest('SHA-256', new Uint8Array(0)); // e3b0c442…
 * ```
 */
export async function wasmDigest(hash: HashName, data: Uint8Array): Promise<Bytes> {
  return run(await hasherOf(hash), data);
}

/**
 * HMAC (RFC 2104 §2): `H((K0 ⊕ opad) || H((K0 ⊕ ipad) || text))`, K0 the key hashed when longer
 * than the block and zero-padded to it. Every derived key buffer is wiped.
 * @param hash - SHA-256, SHA-384 or SHA-512
 * @param key - the key (any length, including empty)
 * @param data - the message
 * @returns the MAC, HashLen bytes
 * @throws TypeError for another hash name
 * @example
 * ```ts
 * await wasmHmac('SHA-256', key, message);
 * ```
 */
export async function wasmHmac(hash: HashName, key: Uint8Array, data: Uint8Array): Promise<Bytes> {
  const h = await hasherOf(hash);
  const b = blockSize[hash];
  const hashed = key.length > b ? run(h, key) : undefined;
  const k0 = new Uint8Array(b);
  k0.set(hashed ?? key);
  const pad = new Uint8Array(b);
  let inner: Bytes | undefined;
  try {
    for (let i = 0; i < b; i++) pad[i] = k0[i]! ^ 0x36;
    inner = run(h, pad, data);
    for (let i = 0; i < b; i++) pad[i] = k0[i]! ^ 0x5c;
    return run(h, pad, inner);
  } finally {
    wipe(hashed, k0, pad, inner);
  }
}
