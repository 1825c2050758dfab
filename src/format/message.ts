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
  type ChunkedSuite,
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
  const { cipher, commitment } = await deriveMessageKeys(backend, suite, inputKey, salt, context);
  try {
    out.set(salt, offset);
    out.set(commitment, offset + SALT_LENGTH);
    const n = chunkCount(plaintext.length);
    const base = offset + PREAMBLE_LENGTH;
    const pieces: Bytes[] = [];
    for (let i = 0; i < n; i += BATCH_CHUNKS) {
      const pts: Uint8Array[] = [];
      for (let j = i; j < Math.min(n, i + BATCH_CHUNKS); j++) {
        pts.push(plaintext.subarray(j * CHUNK_SIZE, Math.min(plaintext.length, (j + 1) * CHUNK_SIZE)));
      }
      let off = base + i * SEALED_CHUNK_SIZE;
      // node:crypto: synchronous, no promise per batch; other backends pipeline the batch.
      pieces.length = 0;
      if (cipher.sync) cipher.sealChunksSync(i, pts, pieces);
      for (const piece of cipher.sync ? pieces : await cipher.sealChunks(i, pts)) {
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
  const ptLength = openedSize(sealed.length);
  const cipher = await openPreamble(backend, suite, inputKey, sealed.subarray(0, PREAMBLE_LENGTH), context);
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
