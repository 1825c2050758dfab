/**
 * Content crypto of OSS client-side encryption (docs/INTEROP.md §OSS.2–§OSS.4): AES-256-CTR with
 * the 16-byte IV as the initial 128-bit big-endian counter, ciphertext length = plaintext length,
 * no tag. One {@link ossCtrStream} serves whole reads, ranged reads (the input starts at a byte
 * offset aligned down to 16, the counter is `IV + aligned/16`, the leading `start % 16` bytes are
 * dropped), multipart objects (one CTR stream across the parts) and encryption (CTR is its own
 * inverse). Memory is O(chunk): each input chunk is processed through the backend's `aesCtr`
 * (src/backends/backend.ts) as it arrives; at most 15 bytes of a partial block wait for the next.
 *
 * **Nothing here is authenticated** (docs/SECURITY.md §"Foreign formats"). The optional MD5
 * check of a whole-object read can only fail at the end of the stream: every byte enqueued
 * before that was unauthenticated, and a consumer that acts on bytes before the stream ends
 * acts on unauthenticated data.
 *
 * @module
 */
import { createMD5, type IHasher } from 'hash-wasm';
import { assertChunk, constantTimeEqual, fromBase64, wipe, type Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { EnsealError } from '../errors.js';
import { addBlocks } from './oss-counter.js';

/** Options of {@link ossCtrStream}. */
export interface OssCtrStreamOptions {
  /** The backend whose `aesCtr` runs the cipher. */
  readonly backend: CryptoBackend;
  /** The 32-byte content key (copied; the stream wipes its copy when it ends, errors or is cancelled). */
  readonly key: Uint8Array;
  /** The counter block of the first input byte (copied). */
  readonly counter: Uint8Array;
  /** Exact number of input bytes expected: fewer is `ERR_TRUNCATED`, more is `ERR_STORE` (omit for a stream of unknown length). */
  readonly inputLength?: number;
  /** Output bytes to drop at the start (a ranged read's `start % 16`), 0..15. Default 0. */
  readonly skip?: number;
  /**
   * Base64 MD5 the whole output must have (`unencrypted-content-md5`): checked at the end,
   * `ERR_AUTH` on mismatch, **after** every other byte was already enqueued.
   */
  readonly md5?: string;
  /** Name of the object for messages (escaped by the caller). */
  readonly what?: string;
}

/**
 * A `TransformStream` that applies OSS AES-256-CTR to a byte stream (decrypts, or encrypts).
 *
 * @param opts - backend, key, counter of the first byte, exact input length, skip, optional MD5
 * @returns the transform; its readable side errors with `EnsealError` `ERR_TRUNCATED` when the
 *   input ends early, `ERR_STORE` when it runs long, `ERR_AUTH` when the MD5 does not match
 *   (after the other bytes were released), `ERR_STATE` when written after it ended
 * @throws RangeError for a key that is not 32 bytes, a counter that is not 16 bytes, a negative
 *   length or a skip outside 0..15
 * @example
 * ```ts
 * const plain = ciphertext.pipeThrough(ossCtrStream({ backend, key, counter: iv, inputLength: size }));
 * ```
 */
export function ossCtrStream(opts: OssCtrStreamOptions): TransformStream<Uint8Array, Uint8Array> {
  const { backend, inputLength } = opts;
  const skip = opts.skip ?? 0;
  const what = opts.what ?? 'OSS object';
  if (!(opts.key instanceof Uint8Array) || opts.key.length !== 32) throw new RangeError('"key" expected 32 bytes (AES-256)');
  if (!(opts.counter instanceof Uint8Array) || opts.counter.length !== 16) throw new RangeError('"counter" expected 16 bytes');
  if (inputLength !== undefined && (!Number.isSafeInteger(inputLength) || inputLength < 0)) throw new RangeError(`"inputLength" expected a non-negative safe integer, got ${String(inputLength)}`);
  if (!Number.isInteger(skip) || skip < 0 || skip > 15 || skip > (inputLength ?? Infinity)) throw new RangeError(`"skip" expected 0..15 and at most inputLength, got ${String(skip)}`);
  const expectedMd5 = opts.md5 === undefined ? undefined : fromBase64(opts.md5);
  // Copies (Buffer#slice would return a view: wiping it would zero the caller's key).
  const key = new Uint8Array(opts.key);
  const counter = new Uint8Array(opts.counter);
  let pending: Bytes = new Uint8Array(0);
  let blocks = 0;
  let seen = 0;
  let toSkip = skip;
  let ended = false;
  let md5: Promise<IHasher> | undefined = expectedMd5 === undefined ? undefined : createMD5();

  const end = (): void => {
    ended = true;
    wipe(key, pending);
    md5 = undefined;
  };
  const emit = async (c: TransformStreamDefaultController<Uint8Array>, plain: Bytes): Promise<void> => {
    if (md5 !== undefined) (await md5).update(plain);
    let out = plain;
    if (toSkip > 0) {
      const n = Math.min(toSkip, out.length);
      out = out.subarray(n);
      toSkip -= n;
    }
    if (out.length > 0) c.enqueue(out);
  };

  const transformer: Transformer<Uint8Array, Uint8Array> & { cancel?: (reason: unknown) => void } = {
    async transform(chunk, c) {
      if (ended) throw new EnsealError('ERR_STATE', `${what}: the content stream already ended`);
      assertChunk(chunk, 'the OSS content stream expects Uint8Array chunks');
      seen += chunk.length;
      if (inputLength !== undefined && seen > inputLength) {
        end();
        throw new EnsealError('ERR_STORE', `${what}: the store sent more than the ${inputLength} bytes asked for`);
      }
      let data: Uint8Array = chunk;
      if (pending.length > 0) {
        const joined = new Uint8Array(pending.length + chunk.length);
        joined.set(pending);
        joined.set(chunk, pending.length);
        wipe(pending);
        data = joined;
      }
      const whole = data.length - (data.length % 16);
      pending = new Uint8Array(data.subarray(whole));
      if (whole === 0) return;
      try {
        const plain = await backend.aesCtr(key, addBlocks(counter, blocks), data.subarray(0, whole));
        blocks += whole / 16;
        await emit(c, plain);
      } catch (e) {
        end();
        throw e;
      }
    },
    async flush(c) {
      if (ended) throw new EnsealError('ERR_STATE', `${what}: the content stream already ended`);
      try {
        if (inputLength !== undefined && seen < inputLength) throw new EnsealError('ERR_TRUNCATED', `${what}: the store sent ${seen} of ${inputLength} bytes`);
        if (pending.length > 0) await emit(c, await backend.aesCtr(key, addBlocks(counter, blocks), pending));
        if (md5 !== undefined && expectedMd5 !== undefined) {
          const digest = (await md5).digest('binary');
          // Fixed message: the digest of unauthenticated bytes says nothing useful, and nothing secret.
          if (!constantTimeEqual(digest, expectedMd5)) {
            throw new EnsealError('ERR_AUTH', `${what}: the plaintext does not match unencrypted-content-md5 (wrong key, or a modified object; every byte already delivered was unauthenticated)`);
          }
        }
      } finally {
        end();
      }
    },
    // The Streams spec's cancel hook (absent from older DOM libs): a cancelled read wipes the key.
    cancel() {
      end();
    },
  };
  return new TransformStream<Uint8Array, Uint8Array>(transformer);
}
