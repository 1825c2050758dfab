/**
 * The layout of an encrypted multipart upload (docs/FORMAT.md §"Object storage"). The stored
 * object is exactly the single-stream enseal object, cut at chunk boundaries:
 *
 * ```
 * part 1      = header || salt || commitment || chunk_0 … chunk_{k-1}
 * part n      = chunk_{(n-1)k} … chunk_{nk-1}                 (16400 × k bytes)
 * last part   = its full chunks || the short final chunk       (C2SP: always present)
 * ```
 *
 * with `k` chunks of 16 KiB plaintext per part, chosen so that every part but the last is at
 * least the store's `minPartSize` and the number of parts stays within `maxParts` when the
 * length is known. Chunk `i` is sealed with nonce `i` wherever it lands, so parts can be sealed
 * in any order, in parallel, and resealed identically on resume.
 *
 * @module
 */
import { concat, type Bytes } from '../bytes.js';
import { BATCH_CHUNKS } from '../format/chunked-seal.js';
import { CHUNK_SIZE, PREAMBLE_LENGTH, SEALED_CHUNK_SIZE, TAG_LENGTH, type ChunkCipher } from '../format/cobblestone.js';
import { MAX_HEADER_LENGTH } from '../format/limits.js';
import type { MultipartLimits } from './store.js';

/** Default plaintext bytes per part: 8 MiB (512 chunks). */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/**
 * Chunks per part for an upload.
 *
 * @param limits - the store's multipart limits
 * @param partSize - wanted plaintext bytes per part (rounded up to whole chunks)
 * @param contentLength - plaintext length, when known (raises `k` to stay within `maxParts`)
 * @returns chunks per part, `k ≥ 1`
 * @throws RangeError when `partSize` is not a positive integer, or no `k` fits the store's limits
 * @example
 * ```ts
 * chunksPerPart({ minPartSize: 5 << 20, maxPartSize: 5 * 1024 ** 3, maxParts: 10000 }); // 512
 * ```
 */
export function chunksPerPart(limits: MultipartLimits, partSize = DEFAULT_PART_SIZE, contentLength?: number): number {
  if (!Number.isSafeInteger(partSize) || partSize < 1) throw new RangeError(`"partSize" expected a positive integer, got ${String(partSize)}`);
  let k = Math.max(Math.ceil(partSize / CHUNK_SIZE), Math.ceil(limits.minPartSize / SEALED_CHUNK_SIZE), 1);
  if (contentLength !== undefined) {
    const chunks = Math.floor(contentLength / CHUNK_SIZE) + 1;
    k = Math.max(k, Math.ceil(chunks / limits.maxParts));
  }
  // The largest part is the first: header + preamble + k chunks (+ the final chunk when last).
  if (MAX_HEADER_LENGTH + PREAMBLE_LENGTH + k * SEALED_CHUNK_SIZE + TAG_LENGTH > limits.maxPartSize) {
    throw new RangeError(`parts of ${k} chunks exceed the store's maximum part size of ${limits.maxPartSize} bytes`);
  }
  return k;
}

/**
 * Seals one part: the chunks of its plaintext, starting at chunk `(partNumber - 1) × k`, plus
 * the short final chunk when it is the last part, after `prefix` (header and preamble, part 1).
 *
 * @param cipher - the message's chunk cipher
 * @param partNumber - 1-based
 * @param k - chunks per part
 * @param plaintext - `k × 16384` bytes, or fewer (possibly zero) for the last part
 * @param last - whether this is the last part
 * @param prefix - bytes before the first chunk (part 1 only)
 * @returns the part's stored bytes
 * @throws RangeError when a non-last part is not exactly `k` chunks
 * @example
 * ```ts
 * const part1 = await sealPart(cipher, 1, k, plaintext.subarray(0, k * 16384), false, prefix);
 * ```
 */
export async function sealPart(cipher: ChunkCipher, partNumber: number, k: number, plaintext: Uint8Array, last: boolean, prefix?: Uint8Array): Promise<Bytes> {
  const full = Math.floor(plaintext.length / CHUNK_SIZE);
  if (!last && plaintext.length !== k * CHUNK_SIZE) throw new RangeError(`part ${partNumber} expected ${k * CHUNK_SIZE} plaintext bytes, got ${plaintext.length}`);
  if (last && plaintext.length > k * CHUNK_SIZE) throw new RangeError(`part ${partNumber} holds more than ${k} chunks`);
  const first = (partNumber - 1) * k;
  const pieces: Uint8Array[] = prefix === undefined ? [] : [prefix];
  for (let i = 0; i < full; i += BATCH_CHUNKS) {
    const n = Math.min(BATCH_CHUNKS, full - i);
    const batch: Uint8Array[] = [];
    for (let j = 0; j < n; j++) batch.push(plaintext.subarray((i + j) * CHUNK_SIZE, (i + j + 1) * CHUNK_SIZE));
    pieces.push(...(await cipher.sealChunks(first + i, batch)));
  }
  if (last) {
    // C2SP: the final chunk is short, possibly empty (`full` may equal k: an empty final chunk).
    pieces.push(await cipher.seal(first + full, plaintext.subarray(full * CHUNK_SIZE)));
  }
  return concat(...pieces);
}
