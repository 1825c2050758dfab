/**
 * One-shot C2SP encryption and decryption of a message held in memory, on a worker pool. The
 * message is cut into 64-chunk batches, each copied into a transferable buffer, sealed or opened
 * concurrently by the threads, and copied back in order into the one output buffer (returned
 * buffers are reused for later batches, so a large message allocates only the window). On any
 * failure the output is wiped and nothing is returned; the session is closed on every path.
 * Bytes are identical to `src/format/message.ts`.
 *
 * @module
 */
import type { Bytes } from '../bytes.js';
import { wipe } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import {
  CHUNK_SIZE,
  PREAMBLE_LENGTH,
  SALT_LENGTH,
  SEALED_CHUNK_SIZE,
  TAG_LENGTH,
  chunkCount,
  openedSize,
  sealedSize,
  type ChunkedSuite,
} from '../format/cobblestone.js';
import { deriveMessageSecrets, openPreambleSecrets } from './message-secrets.js';
import { POOL_BATCH_CHUNKS } from './pool-sealer.js';
import { openSession, type PoolSession, type WorkersOption } from './session.js';
import { Spares } from './spares.js';
import { OrderedWindow } from './window.js';

const BATCH_BYTES = POOL_BATCH_CHUNKS * SEALED_CHUNK_SIZE;

/** Runs the batches of one message through the session, copying each result to `sink` in order. */
async function runBatches(
  session: PoolSession,
  op: 'seal' | 'open',
  chunks: number,
  fillBatch: (buf: Uint8Array, first: number, count: number) => number,
  sink: (piece: Uint8Array) => void,
): Promise<void> {
  const window = new OrderedWindow(2 * session.threads);
  const spares = new Spares(BATCH_BYTES, 4);
  const drainTo = (pieces: Uint8Array[]): void => {
    for (const p of pieces) {
      sink(p);
      spares.give(p.buffer as ArrayBuffer);
    }
  };
  try {
    for (let first = 0; first < chunks; first += POOL_BATCH_CHUNKS) {
      const count = Math.min(POOL_BATCH_CHUNKS, chunks - first);
      const buf = spares.take();
      const last = fillBatch(buf, first, count);
      const used = op === 'seal' ? (count - 1) * SEALED_CHUNK_SIZE + last + TAG_LENGTH : (count - 1) * CHUNK_SIZE + last - TAG_LENGTH;
      drainTo(await window.add(session.run(op, first, count, last, buf.buffer as ArrayBuffer), (r) => new Uint8Array(r.buf, 0, used)));
    }
    drainTo(await window.drain());
  } catch (e) {
    window.fail(e);
    throw e;
  } finally {
    spares.wipe();
  }
}

/**
 * Seals `plaintext` as one C2SP message into `out` at `offset` on a worker pool (room for
 * `sealedSize(plaintext.length)` bytes needed).
 * @param workers - the `workers` option
 * @param backend - runs the HKDF (the threads run AES-GCM)
 * @param suite - the instantiation
 * @param inputKey - the input key (not modified)
 * @param plaintext - the message (not modified)
 * @param context - the C2SP context
 * @param salt - 24 bytes
 * @param out - the output buffer
 * @param offset - where the payload starts in `out`
 * @returns resolves once every chunk is in `out`
 * @throws EnsealError `ERR_STATE` when the pool closes, `ERR_UNSUPPORTED` where threads cannot start
 * @example
 * ```ts
 * await poolSealMessageInto(2, backend, COBBLESTONE_256, key, pt, ctx, salt, out, 0);
 * ```
 */
export async function poolSealMessageInto(
  workers: WorkersOption,
  backend: CryptoBackend,
  suite: ChunkedSuite,
  inputKey: Uint8Array,
  plaintext: Uint8Array,
  context: Uint8Array,
  salt: Uint8Array,
  out: Uint8Array,
  offset: number,
): Promise<void> {
  const { secret, commitment } = await deriveMessageSecrets(backend, suite, inputKey, salt, context);
  let session: PoolSession;
  try {
    session = openSession(workers, secret);
  } finally {
    wipe(secret);
  }
  try {
    out.set(salt, offset);
    out.set(commitment, offset + SALT_LENGTH);
    let pos = offset + PREAMBLE_LENGTH;
    await runBatches(
      session,
      'seal',
      chunkCount(plaintext.length),
      (buf, first, count) => {
        let len = 0;
        for (let k = 0; k < count; k++) {
          const start = (first + k) * CHUNK_SIZE;
          const piece = plaintext.subarray(start, Math.min(plaintext.length, start + CHUNK_SIZE));
          buf.set(piece, k * SEALED_CHUNK_SIZE);
          len = piece.length;
        }
        return len;
      },
      (piece) => {
        out.set(piece, pos);
        pos += piece.length;
      },
    );
  } finally {
    await session.close();
  }
}

/**
 * Seals a whole message into a new buffer on a worker pool.
 * @param workers - the `workers` option
 * @param backend - runs the HKDF
 * @param suite - the instantiation
 * @param inputKey - the input key
 * @param plaintext - the message
 * @param context - the C2SP context
 * @param salt - 24 bytes
 * @returns `salt || commitment || chunks`
 * @throws as {@link poolSealMessageInto}
 * @example
 * ```ts
 * const ct = await poolSealMessage(pool, backend, COBBLESTONE_256, key, pt, ctx, salt);
 * ```
 */
export async function poolSealMessage(
  workers: WorkersOption,
  backend: CryptoBackend,
  suite: ChunkedSuite,
  inputKey: Uint8Array,
  plaintext: Uint8Array,
  context: Uint8Array,
  salt: Uint8Array,
): Promise<Bytes> {
  const out = new Uint8Array(sealedSize(plaintext.length));
  await poolSealMessageInto(workers, backend, suite, inputKey, plaintext, context, salt, out, 0);
  return out;
}

/**
 * Opens a whole C2SP message on a worker pool: length first (`ERR_TRUNCATED`), then the
 * commitment (`ERR_AUTH`, before any chunk), then every chunk; plaintext is returned only when
 * every chunk authenticated.
 * @param workers - the `workers` option
 * @param backend - runs the HKDF
 * @param suite - the instantiation
 * @param inputKey - the input key
 * @param sealed - `salt || commitment || chunks`
 * @param context - the C2SP context
 * @returns the plaintext
 * @throws EnsealError `ERR_TRUNCATED`, `ERR_AUTH` (with `chunk` for a chunk), `ERR_STATE`
 * @example
 * ```ts
 * const pt = await poolOpenMessage(2, backend, COBBLESTONE_256, key, ct, ctx);
 * ```
 */
export async function poolOpenMessage(
  workers: WorkersOption,
  backend: CryptoBackend,
  suite: ChunkedSuite,
  inputKey: Uint8Array,
  sealed: Uint8Array,
  context: Uint8Array,
): Promise<Bytes> {
  const ptLength = openedSize(sealed.length);
  const secret = await openPreambleSecrets(backend, suite, inputKey, sealed.subarray(0, PREAMBLE_LENGTH), context);
  let session: PoolSession;
  try {
    session = openSession(workers, secret);
  } finally {
    wipe(secret);
  }
  const out = new Uint8Array(ptLength);
  try {
    const body = sealed.subarray(PREAMBLE_LENGTH);
    let pos = 0;
    await runBatches(
      session,
      'open',
      chunkCount(ptLength),
      (buf, first, count) => {
        const start = first * SEALED_CHUNK_SIZE;
        const piece = body.subarray(start, Math.min(body.length, start + count * SEALED_CHUNK_SIZE));
        buf.set(piece, 0);
        return piece.length - (count - 1) * SEALED_CHUNK_SIZE;
      },
      (piece) => {
        out.set(piece, pos);
        pos += piece.length;
        piece.fill(0); // the plaintext lives on in `out` only
      },
    );
    return out;
  } catch (e) {
    out.fill(0);
    throw e;
  } finally {
    await session.close();
  }
}
