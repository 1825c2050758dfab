/**
 * A pass-through tap: a `TransformStream` that hands every chunk on unchanged (the same
 * `Uint8Array` objects, no copy) while it computes CRC-64, MD5 and/or SHA-256 of the bytes.
 *
 * @module
 */
import { detachedView, isDetached } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { checkChecksumOptions, createChecksummer, type Checksummer, type ChecksumOptions, type Digests } from './checksums.js';

/** A {@link checksumStream}: the stream plus the promise of its digests. */
export interface ChecksumStream extends TransformStream<Uint8Array, Uint8Array> {
  /**
   * Resolves when the stream has ended with the checksums of every byte that went through;
   * rejects when the stream errors, is cancelled or aborted.
   */
  readonly digests: Promise<Digests>;
}

/** `Transformer` plus the `cancel` hook of the current Streams spec (absent from older DOM libs). */
type CancellableTransformer = Transformer<Uint8Array, Uint8Array> & { cancel?: (reason: unknown) => void };

/**
 * Creates a pass-through tap that checksums the bytes flowing through it.
 * @param spec - which checksums: `{ crc64?: true, md5?: true, sha256?: true }` (at least one)
 * @returns the tap; `await tap.digests` once the stream ended
 * @throws TypeError for an invalid `spec` (at call time)
 * @throws (through the stream and `digests`) EnsealError `ERR_UNSUPPORTED` when MD5/SHA-256 need
 *   WebAssembly that the runtime refuses; a non-`Uint8Array` chunk is a TypeError
 * @example
 * ```ts
 * const tap = checksumStream({ crc64: true, md5: true });
 * await file.stream().pipeThrough(tap).pipeTo(upload);
 * const { crc64, md5 } = await tap.digests; // decimal CRC-64/XZ, base64 MD5
 * ```
 */
export function checksumStream(spec: ChecksumOptions): ChecksumStream {
  checkChecksumOptions(spec, 'spec');
  let resolve!: (d: Digests) => void;
  let reject!: (e: unknown) => void;
  const digests = new Promise<Digests>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  digests.catch(() => undefined); // a caller who never reads the digests gets no unhandled rejection
  let sums: Checksummer | undefined;
  const failed = (e: unknown): never => {
    reject(e);
    throw e;
  };
  const transformer: CancellableTransformer = {
    async start() {
      sums = await createChecksummer(spec).catch(failed);
    },
    transform(chunk, controller) {
      if (!(chunk instanceof Uint8Array)) failed(new TypeError('checksumStream expected Uint8Array chunks'));
      if (isDetached(chunk)) failed(detachedView('checksumStream chunk'));
      try {
        sums!.update(chunk);
      } catch (e) {
        failed(e);
      }
      controller.enqueue(chunk);
    },
    flush() {
      resolve(sums!.digest());
    },
    cancel(reason) {
      reject(new EnsealError('ERR_STATE', 'the checksummed stream was cancelled', { cause: reason }));
    },
  };
  const ts = new TransformStream<Uint8Array, Uint8Array>(transformer);
  return Object.assign(ts, { digests });
}
