/**
 * Opening IN and OUT: `-` is stdin / stdout, anything else a file. A file OUT is an
 * {@link AtomicFile}; stdout is written as the bytes are produced.
 *
 * @module
 */
import { open } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { AtomicFile } from './atomic-output.js';

/** The path that means stdin (as IN) or stdout (as OUT). */
export const STDIO = '-';

/** An opened input. */
export interface Input {
  /** The bytes. */
  stream: Readable;
  /** Size in bytes when IN is a regular file, else `undefined`. */
  size: number | undefined;
}

/** An opened output. */
export interface Output {
  /** Where the bytes go; end it before {@link Output.commit}. */
  stream: Writable;
  /** Makes the output visible (a file: fsync and rename). */
  commit(): Promise<void>;
  /** Discards the output (a file: removes the temporary file). */
  abort(): Promise<void>;
}

/**
 * Opens IN.
 * @param path - a file path, or `-` for stdin
 * @returns the stream and, for a regular file, its size
 * @throws system errors (`ENOENT`, `EACCES`, …)
 */
export async function openInput(path: string): Promise<Input> {
  if (path === STDIO) return { stream: process.stdin, size: undefined };
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    return { stream: fh.createReadStream(), size: st.isFile() ? st.size : undefined };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/**
 * Opens OUT.
 * @param path - a file path, or `-` for stdout
 * @returns the output; for a file, nothing appears at `path` before `commit()`
 * @throws system errors (e.g. the directory does not exist or is not writable)
 */
export async function openOutput(path: string): Promise<Output> {
  if (path === STDIO) {
    return { stream: process.stdout, commit: async () => undefined, abort: async () => undefined };
  }
  return AtomicFile.create(path);
}
