/**
 * `enseal inspect IN`: prints the header as JSON. Reads only the first 64 KiB of a regular
 * file (the largest possible header) and takes the total length from its size; for stdin or
 * another stream it reads everything, keeping only the first 64 KiB and counting the rest.
 *
 * Every string in the header is untrusted: the JSON escapes the characters a terminal would
 * interpret (C0 and C1 controls, DEL, separators, bidi controls) as `\uXXXX`, so it stays valid
 * JSON with the same value (`safeJson`).
 *
 * @module
 */
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { inspect } from '../envelope/inspect.js';
import { isEnsealError } from '../errors.js';
import { encryptedBucket } from '../storage/bucket.js';
import { MAX_HEADER_LENGTH } from '../format/limits.js';
import type { InspectCommand } from './args.js';
import { openInput } from './io.js';
import { openStore } from './storage-client.js';
import { hasStorageScheme, parseLocation, type StorageLocation } from './storage-url.js';
import { safeJson } from './terminal-text.js';

/** What {@link readPrefix} returns. */
export interface Prefix {
  /** The first bytes, at most the limit. */
  bytes: Uint8Array;
  /** Bytes read in all. */
  total: number;
}

/**
 * Reads the first `limit` bytes of a stream.
 * @param stream - the input
 * @param limit - bytes to keep
 * @param stopEarly - stop reading once `limit` bytes are kept (else read to the end, counting)
 * @returns the prefix and the number of bytes read
 */
export async function readPrefix(stream: Readable, limit: number, stopEarly: boolean): Promise<Prefix> {
  const parts: Uint8Array[] = [];
  let kept = 0;
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (kept < limit) {
      const part = chunk.subarray(0, limit - kept);
      parts.push(part);
      kept += part.length;
    }
    if (stopEarly && kept >= limit) break; // destroys the stream
  }
  return { bytes: Buffer.concat(parts), total };
}

/**
 * Runs `inspect`.
 * @param cmd - parsed command
 * @param stdout - where the JSON goes
 * @throws EnsealError `ERR_HEADER`, `ERR_UNSUPPORTED`, `ERR_TRUNCATED`; system errors for I/O
 */
export async function inspectCommand(cmd: InspectCommand, stdout: NodeJS.WritableStream): Promise<void> {
  const stored = await storedLocation(cmd.input);
  if (stored !== undefined) {
    // A stored object (enseal, OSS or S3EC): headObject describes it, no secret and no body read.
    const { store } = await openStore(stored.location, { allowInsecureHttp: false });
    try {
      stdout.write(`${safeJson(await encryptedBucket(store).headObject(stored.location.key))}\n`);
      return;
    } catch (e) {
      // ./DIR/KEY that is neither a file nor a stored object: report it as the missing file.
      if (!(stored.implicit && isEnsealError(e, 'ERR_NOT_FOUND'))) throw e;
    }
  }
  const input = await openInput(cmd.input);
  const prefix = await readPrefix(input.stream, MAX_HEADER_LENGTH, input.size !== undefined);
  const info = inspect(prefix.bytes, { totalLength: input.size ?? prefix.total });
  stdout.write(`${safeJson(info)}\n`);
}

/**
 * The stored object `IN` names, if it names one: `s3://…`, `oss://…`, `file:…`, or a local
 * `DIR/KEY` / `DIR//KEY` that is not itself an existing file (a folder store's object).
 * @param text - the argument
 * @returns the location, or undefined for a file or stdin
 */
async function storedLocation(text: string): Promise<{ location: StorageLocation; implicit: boolean } | undefined> {
  if (hasStorageScheme(text)) return { location: parseLocation(text, 'object'), implicit: false };
  if (text === '-' || !text.includes('/')) return undefined;
  try {
    await stat(text);
    return undefined; // an existing file: inspect it as before
  } catch {
    try {
      const loc = parseLocation(text, 'object');
      await stat(loc.bucket); // the folder must exist
      return { location: loc, implicit: true };
    } catch {
      return undefined; // let the file path report its own error
    }
  }
}
