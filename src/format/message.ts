/**
 * One-shot C2SP encryption and decryption of a whole message held in memory, writing straight
 * into one output buffer. Chunks are processed in concurrent batches (pipelines WebCrypto); on any
 * failure the partially written output is wiped and nothing is returned.
 *
 * @module
 */
import type { Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { BATCH_CHUNKS } from './chunked-seal.js';
import {
  CHUNK_SIZE,
  PREAMBLE_LENGTH,
  SALT_LENGTH,
  SEALED_CHUNK_SIZE,
  chunkCount,
  deriveMessageKeys,
  openPreamble,
  openedSize,
  sealedSize,
  type ChunkCipher,
  type ChunkedSuite,
  type MessageKeys,
} from './cobblestone.js';

/**
 * Seals `plaintext` as one C2SP message into `out` at `offset` (which must have room for
 * `sealedSize(plaintext.length)` bytes).
 */
export async function sealMessageInto(
  backend: CryptoBackend,
  suite: ChunkedSuite,
  inputKey: Uint8Array,
  plaintext: Uint8Array,
  context: Uint8Array,
  salt: Uint8Array,
  out: Uint8Array,
  offset: number,
): Promise<void> {
  await sealPayloadInto(await deriveMessageKeys(backend, suite, inputKey, salt, context), plaintext, salt, out, offset);
}

/**
 * Seals `plaintext` into `out` at `offset` with message keys already derived (for `salt`);
 * disposes the keys, also on failure. With a synchronous cipher (node:crypto) it never awaits.
 * @param keys - from {@link deriveMessageKeys} for `salt` (owned: disposed here)
 * @param plaintext - the message
 * @param salt - the salt the keys were derived with
 * @param out - room for `sealedSize(plaintext.length)` bytes at `offset`
 * @param offset - where the payload starts in `out`
 * @param firstBatch - the first batch already under way ({@link sealFirstBatch}, asynchronous
 *   ciphers only), started before `out` existed
 * @returns a promise only for an asynchronous cipher
 * @example
 * ```ts
 * await sealPayloadInto(await deriveMessageKeys(b, suite, key, salt, ctx), pt, salt, out, 0);
 * ```
 */
export function sealPayloadInto(
  keys: MessageKeys,
  plaintext: Uint8Array,
  salt: Uint8Array,
  out: Uint8Array,
  offset: number,
  firstBatch?: Promise<Bytes[]>,
): void | Promise<void> {
  const { cipher, commitment } = keys;
  if (!cipher.sync) return sealAsync(keys, plaintext, salt, out, offset, firstBatch);
  try {
    out.set(salt, offset);
    out.set(commitment, offset + SALT_LENGTH);
    const n = chunkCount(plaintext.length);
    const pieces: Bytes[] = [];
    for (let i = 0; i < n; i += BATCH_CHUNKS) {
      pieces.length = 0;
      cipher.sealChunksSync(i, chunksOf(plaintext, i, Math.min(n, i + BATCH_CHUNKS)), pieces);
      let off = offset + PREAMBLE_LENGTH + i * SEALED_CHUNK_SIZE;
      for (const piece of pieces) {
        out.set(piece, off);
        off += piece.length;
      }
    }
  } finally {
    cipher.dispose();
  }
}

function chunksOf(plaintext: Uint8Array, from: number, to: number): Uint8Array[] {
  if (plaintext.length < CHUNK_SIZE) return [plaintext]; // one (final) chunk: the whole message, no view
  const pts: Uint8Array[] = [];
  for (let j = from; j < to; j++) pts.push(plaintext.subarray(j * CHUNK_SIZE, Math.min(plaintext.length, (j + 1) * CHUNK_SIZE)));
  return pts;
}

/**
 * Starts sealing the first batch of chunks of `plaintext` (an asynchronous cipher only), before
 * the output buffer exists: a one-shot call overlaps it with the header's last platform calls.
 * Hand the promise to {@link sealPayloadInto}; if the keys are disposed instead, it rejects with
 * `ERR_STATE` and releases nothing.
 * @param keys - the message keys
 * @param plaintext - the message
 * @returns the sealed pieces of the first batch, or `undefined` for a synchronous cipher
 * @example
 * ```ts
 * const first = sealFirstBatch(keys, pt);
 * await sealPayloadInto(keys, pt, salt, out, headerLength, first);
 * ```
 */
export function sealFirstBatch(keys: MessageKeys, plaintext: Uint8Array): Promise<Bytes[]> | undefined {
  if (keys.cipher.sync) return undefined;
  const p = keys.cipher.sealChunks(0, chunksOf(plaintext, 0, Math.min(chunkCount(plaintext.length), BATCH_CHUNKS)));
  p.catch(() => undefined); // awaited by sealPayloadInto, or dropped with the disposed keys
  return p;
}

async function sealAsync(keys: MessageKeys, plaintext: Uint8Array, salt: Uint8Array, out: Uint8Array, offset: number, firstBatch?: Promise<Bytes[]>): Promise<void> {
  const { cipher, commitment } = keys;
  try {
    out.set(salt, offset);
    out.set(commitment, offset + SALT_LENGTH);
    const n = chunkCount(plaintext.length);
    const base = offset + PREAMBLE_LENGTH;
    for (let i = 0; i < n; i += BATCH_CHUNKS) {
      let off = base + i * SEALED_CHUNK_SIZE;
      const sealing = i === 0 && firstBatch !== undefined ? firstBatch : cipher.sealChunks(i, chunksOf(plaintext, i, Math.min(n, i + BATCH_CHUNKS)));
      for (const piece of await sealing) {
        out.set(piece, off);
        off += piece.length;
      }
    }
  } finally {
    cipher.dispose();
  }
}

/** Seals `plaintext` as one C2SP message in a new buffer. */
export async function sealMessage(
  backend: CryptoBackend,
  suite: ChunkedSuite,
  inputKey: Uint8Array,
  plaintext: Uint8Array,
  context: Uint8Array,
  salt: Uint8Array,
): Promise<Bytes> {
  const out = new Uint8Array(sealedSize(plaintext.length));
  await sealMessageInto(backend, suite, inputKey, plaintext, context, salt, out, 0);
  return out;
}

/**
 * Opens a whole C2SP message. The length is validated first (`ERR_TRUNCATED`), then the
 * commitment (`ERR_AUTH`, before any chunk), then every chunk; plaintext is returned only when
 * all chunks, including the short final one, authenticated.
 */
export async function openMessage(
  backend: CryptoBackend,
  suite: ChunkedSuite,
  inputKey: Uint8Array,
  sealed: Uint8Array,
  context: Uint8Array,
): Promise<Bytes> {
  openedSize(sealed.length);
  return openPayload(await openPreamble(backend, suite, inputKey, sealed.subarray(0, PREAMBLE_LENGTH), context), sealed);
}

/**
 * Opens a whole C2SP message whose preamble was already checked (`cipher` from
 * {@link openPreamble} over `sealed`'s first 56 bytes); disposes the cipher. Plaintext is
 * returned only when every chunk, the short final one included, authenticated.
 * @param cipher - the message's cipher (owned: disposed here)
 * @param sealed - the whole payload, preamble included
 * @returns the plaintext
 * @throws EnsealError `ERR_TRUNCATED` for an impossible length, `ERR_AUTH` with the chunk index
 * @example
 * ```ts
 * const pt = await openPayload(await openPreamble(b, suite, key, payload.subarray(0, 56), ctx), payload);
 * ```
 */
export async function openPayload(cipher: ChunkCipher, sealed: Uint8Array): Promise<Bytes> {
  if (cipher.sync) return openPayloadSync(cipher, sealed);
  let ptLength: number;
  try {
    ptLength = openedSize(sealed.length);
  } catch (e) {
    cipher.dispose();
    throw e;
  }
  const out = new Uint8Array(ptLength);
  try {
    const n = chunkCount(ptLength);
    const body = sealed.subarray(PREAMBLE_LENGTH);
    for (let i = 0; i < n; i += BATCH_CHUNKS) {
      const sealedChunks: Uint8Array[] = [];
      for (let j = i; j < Math.min(n, i + BATCH_CHUNKS); j++) {
        sealedChunks.push(body.subarray(j * SEALED_CHUNK_SIZE, Math.min(body.length, (j + 1) * SEALED_CHUNK_SIZE)));
      }
      let pts: Bytes[];
      if (cipher.sync) cipher.openChunksSync(i, sealedChunks, (pts = []));
      else pts = await cipher.openChunks(i, sealedChunks);
      for (let k = 0; k < pts.length; k++) {
        out.set(pts[k]!, (i + k) * CHUNK_SIZE);
        pts[k]!.fill(0); // the plaintext lives on in `out` only
      }
    }
    return out;
  } catch (e) {
    out.fill(0);
    throw e;
  } finally {
    cipher.dispose();
  }
}

/**
 * {@link openPayload} for a cipher with synchronous chunk operations (`cipher.sync`, node:crypto):
 * no promise at all. Plaintext is returned only when every chunk authenticated; on failure the
 * output is wiped. Disposes the cipher.
 * @param cipher - the message's cipher, `cipher.sync` (owned: disposed here)
 * @param sealed - the whole payload, preamble included
 * @returns the plaintext
 * @throws EnsealError `ERR_TRUNCATED` for an impossible length, `ERR_AUTH` with the chunk index;
 *   TypeError when the cipher has no synchronous operations
 * @example
 * ```ts
 * const pt = openPayloadSync(openPreambleSync(suite, keyed, make, payload.subarray(0, 56), ctx), payload);
 * ```
 */
export function openPayloadSync(cipher: ChunkCipher, sealed: Uint8Array): Bytes {
  let out: Bytes | undefined;
  try {
    const ptLength = openedSize(sealed.length);
    const n = chunkCount(ptLength);
    const body = sealed.subarray(PREAMBLE_LENGTH);
    const pts: Bytes[] = [];
    if (n === 1) {
      // One (final) chunk: its authenticated plaintext, a fresh buffer of its own, is the output
      // (`openSync` gives a plain Uint8Array view; the chunk paths may hand on node Buffers).
      return cipher.openSync(0, body);
    }
    out = new Uint8Array(ptLength);
    const sealedChunks: Uint8Array[] = [];
    for (let i = 0; i < n; i += BATCH_CHUNKS) {
      sealedChunks.length = 0;
      pts.length = 0;
      for (let j = i; j < Math.min(n, i + BATCH_CHUNKS); j++) {
        sealedChunks.push(body.subarray(j * SEALED_CHUNK_SIZE, Math.min(body.length, (j + 1) * SEALED_CHUNK_SIZE)));
      }
      cipher.openChunksSync(i, sealedChunks, pts);
      for (let k = 0; k < pts.length; k++) {
        out.set(pts[k]!, (i + k) * CHUNK_SIZE);
        pts[k]!.fill(0); // the plaintext lives on in `out` only
      }
    }
    return out;
  } catch (e) {
    out?.fill(0);
    throw e;
  } finally {
    cipher.dispose();
  }
}
