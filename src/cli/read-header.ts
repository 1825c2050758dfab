/**
 * Reads exactly an enseal object's header off a stream — the 12-byte prefix (docs/FORMAT.md
 * §2.1), which gives the header length, then the rest of the header — and leaves every later
 * byte in the stream, so the payload can be piped on untouched and in constant memory.
 *
 * @module
 */
import type { Readable } from 'node:stream';
import { concat, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { decodeHeaderPrefix } from '../format/header.js';
import { HEADER_PREFIX_LENGTH } from '../format/limits.js';

/** Resolves when the stream has data or has ended; rejects when it fails. */
function waitForData(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: unknown): void => {
      stream.removeListener('readable', ok);
      stream.removeListener('end', ok);
      stream.removeListener('close', ok);
      stream.removeListener('error', fail);
      if (e === undefined) resolve();
      else reject(e);
    };
    const ok = (): void => done();
    const fail = (e: unknown): void => done(e);
    stream.on('readable', ok);
    stream.on('end', ok);
    stream.on('close', ok);
    stream.on('error', fail);
  });
}

/**
 * Reads up to `n` bytes (fewer only at the end of the stream); any excess read is put back.
 * @param stream - a stream in paused mode
 * @param n - bytes wanted
 * @returns the bytes
 */
async function readUpTo(stream: Readable, n: number): Promise<Bytes> {
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < n) {
    if (stream.errored) throw stream.errored;
    const chunk = stream.read() as Uint8Array | null;
    if (chunk === null) {
      if (stream.readableEnded || stream.destroyed) break;
      await waitForData(stream);
      continue;
    }
    const need = n - got;
    if (chunk.length > need) stream.unshift(chunk.subarray(need));
    const part = chunk.subarray(0, need);
    parts.push(part);
    got += part.length;
  }
  return concat(...parts);
}

/**
 * Reads the header of the object `stream` carries.
 * @param stream - the object (a file's read stream or stdin), not yet read
 * @returns the whole header; the stream is left at the first payload byte
 * @throws EnsealError `ERR_TRUNCATED` (the stream ends inside the header), `ERR_HEADER` (not an
 *   enseal object, or a header length out of bounds), `ERR_UNSUPPORTED`; stream errors
 * @example
 * ```ts
 * const header = await readHeader(input);
 * await pipeline(input, output); // the payload
 * ```
 */
export async function readHeader(stream: Readable): Promise<Bytes> {
  const prefix = await readUpTo(stream, HEADER_PREFIX_LENGTH);
  const length = decodeHeaderPrefix(prefix); // ERR_TRUNCATED when short; bounded: ≤ 64 KiB
  const rest = await readUpTo(stream, length - HEADER_PREFIX_LENGTH);
  if (rest.length < length - HEADER_PREFIX_LENGTH) throw new EnsealError('ERR_TRUNCATED', 'ciphertext ends inside the header');
  return concat(prefix, rest);
}
