/**
 * The part sealers of an encrypted multipart upload ({@link encryptedMultipartUpload} in
 * `./multipart.ts`): on the calling thread with the message's `ChunkCipher` (`sealPart`), or on
 * a worker pool (`workers`: a thread count or a `createPool()` pool). Both give the same bytes
 * (docs/FORMAT.md §"Object storage": chunk `i` of the object is sealed with nonce `i` wherever
 * its part lands; C2SP chunked-encryption §"AEAD usage"), so parts sealed on threads, resumed
 * parts included, are byte-identical to `encrypt()`'s.
 *
 * On the pool, a part is cut into batches of 64 chunks, all submitted at once (the pool's
 * `maxQueue` bounds what runs), sealed in place by the threads and copied after `prefix`. The
 * message's key reaches the threads once (a pool session) and is wiped there by `dispose()`.
 *
 * @module
 */
import { concat, wipe, type Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { CHUNK_SIZE, COBBLESTONE_256, SEALED_CHUNK_SIZE, TAG_LENGTH, deriveMessageKeys } from '../format/cobblestone.js';
import { deriveMessageSecrets } from '../pool/message-secrets.js';
import { POOL_BATCH_CHUNKS } from '../pool/pool-sealer.js';
import { openSession, type PoolSession, type WorkersOption } from '../pool/session.js';
import { sealPart } from './multipart-layout.js';

/** Seals the parts of one upload. */
export interface PartSealer {
  /** The message's key commitment (written after the salt). */
  readonly commitment: Bytes;
  /**
   * Seals one part, as {@link sealPart} (same arguments but the cipher, same bytes).
   * @returns the part's stored bytes
   */
  seal(partNumber: number, k: number, plaintext: Uint8Array, last: boolean, prefix?: Uint8Array): Promise<Bytes>;
  /** Wipes the keys (in the threads too). Idempotent. */
  dispose(): void;
}

/**
 * Derives the upload's payload keys and returns its part sealer.
 * @param backend - runs the HKDF (and AES-GCM without workers)
 * @param dataKey - the object's data key (not retained; the caller wipes it)
 * @param salt - 24 bytes
 * @param bound - the header's bound context (the C2SP context)
 * @param workers - seal on a worker pool, when set
 * @returns the sealer (dispose it on every path)
 * @throws EnsealError `ERR_STATE` for a closed pool, `ERR_UNSUPPORTED` where threads cannot start
 * @example
 * ```ts
 * const sealer = await partSealer(backend, dataKey, salt, bound, 2);
 * try { const part1 = await sealer.seal(1, k, bytes, false, prefix) } finally { sealer.dispose() }
 * ```
 */
export async function partSealer(backend: CryptoBackend, dataKey: Uint8Array, salt: Uint8Array, bound: Uint8Array, workers?: WorkersOption): Promise<PartSealer> {
  if (workers === undefined) {
    const keys = await deriveMessageKeys(backend, COBBLESTONE_256, dataKey, salt, bound);
    return {
      commitment: keys.commitment,
      seal: (n, k, pt, last, prefix) => sealPart(keys.cipher, n, k, pt, last, prefix),
      dispose: () => keys.cipher.dispose(),
    };
  }
  const { secret, commitment } = await deriveMessageSecrets(backend, COBBLESTONE_256, dataKey, salt, bound);
  let session: PoolSession;
  try {
    session = openSession(workers, secret);
  } finally {
    wipe(secret);
  }
  return {
    commitment,
    seal: (n, k, pt, last, prefix) => poolSealPart(session, n, k, pt, last, prefix),
    dispose: () => void session.close(),
  };
}

/**
 * {@link sealPart} on a pool session: the same checks and bytes.
 * @param session - the upload's pool session
 * @param partNumber - 1-based
 * @param k - chunks per part
 * @param plaintext - `k × 16384` bytes, or fewer (possibly zero) for the last part
 * @param last - whether this is the last part (then it ends with the short final chunk)
 * @param prefix - bytes before the first chunk (part 1 only)
 * @returns the part's stored bytes
 * @throws RangeError as {@link sealPart}; EnsealError `ERR_STATE` when the pool or session closed
 * @example
 * ```ts
 * const part = await poolSealPart(session, 2, k, bytes, false);
 * ```
 */
export async function poolSealPart(session: PoolSession, partNumber: number, k: number, plaintext: Uint8Array, last: boolean, prefix?: Uint8Array): Promise<Bytes> {
  const full = Math.floor(plaintext.length / CHUNK_SIZE);
  if (!last && plaintext.length !== k * CHUNK_SIZE) throw new RangeError(`part ${partNumber} expected ${k * CHUNK_SIZE} plaintext bytes, got ${plaintext.length}`);
  if (last && plaintext.length > k * CHUNK_SIZE) throw new RangeError(`part ${partNumber} holds more than ${k} chunks`);
  const chunks = full + (last ? 1 : 0); // C2SP: the last part ends with the short, possibly empty, final chunk
  const first = (partNumber - 1) * k;
  const jobs: Promise<Bytes>[] = [];
  for (let b = 0; b < chunks; b += POOL_BATCH_CHUNKS) {
    const count = Math.min(POOL_BATCH_CHUNKS, chunks - b);
    const buf = new Uint8Array(count * SEALED_CHUNK_SIZE);
    let len = 0;
    for (let i = 0; i < count; i++) {
      const start = (b + i) * CHUNK_SIZE;
      const piece = plaintext.subarray(start, Math.min(plaintext.length, start + CHUNK_SIZE));
      buf.set(piece, i * SEALED_CHUNK_SIZE);
      len = piece.length;
    }
    const used = (count - 1) * SEALED_CHUNK_SIZE + len + TAG_LENGTH;
    jobs.push(session.run('seal', first + b, count, len, buf.buffer).then((r) => new Uint8Array(r.buf, 0, used)));
  }
  const sealed = await Promise.allSettled(jobs);
  const bad = sealed.find((s) => s.status === 'rejected');
  if (bad !== undefined) throw bad.reason;
  const pieces = sealed.map((s) => (s as PromiseFulfilledResult<Bytes>).value);
  return concat(...(prefix === undefined ? [] : [prefix]), ...pieces);
}
