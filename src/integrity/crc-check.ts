/**
 * Verifying a store's CRC-64 (OSS `x-oss-hash-crc64ecma`, the CRC-64/XZ of the whole object as
 * the store holds it, an unsigned decimal): parse the header, and check a downloaded body
 * against it as it streams.
 *
 * @module
 */
import { createCrc64 } from './crc64.js';

/** The response header in which OSS returns the CRC-64 of what it stored. */
export const OSS_CRC64_HEADER = 'x-oss-hash-crc64ecma';

const U64_MAX = 0xffffffffffffffffn;

/**
 * Parses a CRC-64 header value.
 * @param value - the header value (or `undefined` when absent)
 * @returns the CRC; `undefined` when absent; `null` when present but not an unsigned 64-bit
 *   decimal (a server that sends garbage fails the check rather than skipping it)
 * @example
 * ```ts
 * parseCrc64Header('11051210869376104954'); // 0x995dc9bbdf1939fan
 * ```
 */
export function parseCrc64Header(value: string | undefined): bigint | undefined | null {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!/^\d{1,20}$/.test(v)) return null;
  const n = BigInt(v);
  return n > U64_MAX ? null : n;
}

/**
 * Passes `body` through while computing its CRC-64/XZ; at the end, a CRC other than `expected`
 * errors the stream with `mismatch(actual)` instead of closing it.
 * @param body - the downloaded bytes
 * @param expected - the CRC the store announced (`null`: unparsable, always a mismatch)
 * @param mismatch - builds the error (the caller's `ERR_STORE`)
 * @returns the checked stream
 * @example
 * ```ts
 * const checked = crcCheckedStream(body, parseCrc64Header(h) ?? null, (got) => storeError(...));
 * ```
 */
export function crcCheckedStream(body: ReadableStream<Uint8Array>, expected: bigint | null, mismatch: (actual: bigint) => Error): ReadableStream<Uint8Array> {
  let crc: Awaited<ReturnType<typeof createCrc64>> | undefined;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async start() {
        crc = await createCrc64();
      },
      transform(chunk, controller) {
        crc!.update(chunk);
        controller.enqueue(chunk);
      },
      flush(controller) {
        const actual = crc!.digest();
        if (expected === null || actual !== expected) controller.error(mismatch(actual));
      },
    }),
  );
}
