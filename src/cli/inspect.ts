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
import type { Readable } from 'node:stream';
import { inspect } from '../envelope/inspect.js';
import { MAX_HEADER_LENGTH } from '../format/limits.js';
import type { InspectCommand } from './args.js';
import { openInput } from './io.js';
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
  const input = await openInput(cmd.input);
  const prefix = await readPrefix(input.stream, MAX_HEADER_LENGTH, input.size !== undefined);
  const info = inspect(prefix.bytes, { totalLength: input.size ?? prefix.total });
  stdout.write(`${safeJson(info)}\n`);
}
