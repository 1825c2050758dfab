/**
 * Outputs that are written in place, never replaced: an OUT that already exists as a character
 * or block device (`/dev/null`, a tape, a disk), a FIFO, or a Unix socket. A temporary file and
 * a rename would replace such a node with a regular file (as root, `/dev/null` would become a
 * plaintext file; a FIFO's reader would get nothing), so the node itself is opened and written,
 * with no temporary file, no truncation, no `chmod`.
 *
 * Devices and FIFOs are opened `O_WRONLY | O_NOFOLLOW | O_NOCTTY` without `O_CREAT` (a node that
 * vanished is an error, not a new regular file) and checked after opening to be the node that
 * was examined (same device and inode, still not a regular file). A socket is connected to as a
 * stream client. Like stdout, such an output receives bytes as they are produced: a failure
 * part-way leaves what was written (for decryption: only chunks that authenticated).
 *
 * @module
 */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { isatty } from 'node:tty';
import { CliError, usageError } from './cli-error.js';
import type { Output } from './io.js';
import { quoted } from './terminal-text.js';

/** Options of {@link openSpecialOutput}. */
export interface SpecialOutputOptions {
  /** Refuse a terminal device (`/dev/tty`, a pty): ciphertext is not written to terminals. */
  readonly refuseTerminal?: boolean;
}

/**
 * Whether a node is written in place by {@link openSpecialOutput}.
 * @param st - `lstat` of OUT
 * @returns true for a character or block device, a FIFO or a socket
 * @example
 * ```ts
 * isSpecialNode(await lstat('/dev/null')); // true
 * ```
 */
export function isSpecialNode(st: Stats): boolean {
  return st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO() || st.isSocket();
}

/** Writes every byte of `chunk` (a device or FIFO may take fewer per call). */
async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

/** A Writable over an opened device or FIFO; no fsync (they do not support it). */
class NodeSink extends Writable {
  readonly #fh: FileHandle;

  constructor(fh: FileHandle) {
    super({ highWaterMark: 1 << 16 });
    this.#fh = fh;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (error?: Error | null) => void): void {
    writeAll(this.#fh, chunk).then(() => cb(), cb);
  }
}

/** Opens a device or FIFO for writing, and checks it is still the node `before` described. */
async function openNode(path: string, before: Stats, opts: SpecialOutputOptions): Promise<Output> {
  // Blocks (in the thread pool) until a FIFO has a reader, as a shell redirection does.
  const fh = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NOCTTY);
  try {
    const after = await fh.stat();
    if (after.dev !== before.dev || after.ino !== before.ino || after.isFile()) {
      throw new CliError('ERR_IO', `OUT ${quoted(path)} changed while it was being opened; nothing was written`);
    }
    if (opts.refuseTerminal === true && isatty(fh.fd)) {
      throw usageError(`refusing to write ciphertext to the terminal ${quoted(path)}: give a file, or --force`);
    }
  } catch (e) {
    await fh.close();
    throw e;
  }
  const stream = new NodeSink(fh);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await fh.close();
  };
  return {
    stream,
    commit: close,
    abort: async () => {
      stream.destroy();
      await close().catch(() => undefined);
    },
  };
}

/** Connects to a Unix socket as a stream client. */
async function connectSocket(path: string): Promise<Output> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = createConnection({ path });
    s.once('connect', () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
  return {
    stream: socket,
    commit: async () => undefined, // ended by the pipeline
    abort: async () => {
      socket.destroy();
    },
  };
}

/**
 * Opens an existing device, FIFO or socket as OUT, to be written in place.
 * @param path - OUT
 * @param before - its `lstat`
 * @param opts - `refuseTerminal`: refuse a terminal device (ciphertext without `--force`)
 * @returns the output (`commit` closes it; `abort` closes it, keeping what was written)
 * @throws CliError `ERR_IO` when the node changed in between, `ERR_USAGE` for a refused terminal;
 *   system errors (`EACCES`, `ENXIO`,
 *   `ECONNREFUSED`, …)
 * @example
 * ```ts
 * const out = await openSpecialOutput('/dev/null', await lstat('/dev/null'));
 * ```
 */
export async function openSpecialOutput(path: string, before: Stats, opts: SpecialOutputOptions = {}): Promise<Output> {
  return before.isSocket() ? connectSocket(path) : openNode(path, before, opts);
}
