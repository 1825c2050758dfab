/**
 * All-or-nothing output files. Bytes go to a temporary file in the same directory as the
 * target (`.NAME.enseal-tmp-<random>`, exclusive create, mode 0600); `commit()` fsyncs it and
 * renames it over the target; `abort()` removes it. A SIGINT or SIGTERM while a temporary file
 * exists removes it too, then lets the signal terminate the process as usual.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';

/** Infix of temporary file names (tests look for leftovers by it). */
export const TEMP_INFIX = '.enseal-tmp-';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
const pendingTemps = new Set<string>();

/** Removes every pending temporary file, then re-raises the signal with its default action. */
function onSignal(signal: NodeJS.Signals): void {
  for (const path of pendingTemps) {
    try {
      unlinkSync(path);
    } catch {
      // already gone: nothing to clean
    }
  }
  pendingTemps.clear();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, signal);
}

function track(path: string): void {
  if (pendingTemps.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  pendingTemps.add(path);
}

function untrack(path: string): void {
  pendingTemps.delete(path);
  if (pendingTemps.size === 0) for (const s of SIGNALS) process.removeListener(s, onSignal);
}

/** Writes every byte of `chunk` at the file's current position. */
async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

/** A Writable over an open FileHandle that fsyncs on `end()` and leaves closing to its owner. */
class FileSink extends Writable {
  readonly #fh: FileHandle;

  constructor(fh: FileHandle) {
    super({ highWaterMark: 1 << 16 });
    this.#fh = fh;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (error?: Error | null) => void): void {
    writeAll(this.#fh, chunk).then(() => cb(), cb);
  }

  override _final(cb: (error?: Error | null) => void): void {
    this.#fh.sync().then(() => cb(), cb);
  }
}

/** Name of the temporary file for `target`. */
function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}${TEMP_INFIX}${randomBytes(6).toString('hex')}`);
}

/** An output file that appears at its path only when complete. */
export class AtomicFile {
  /** Where the bytes go; `end()` it (e.g. through `pipeline`) before {@link commit}. */
  readonly stream: Writable;
  readonly #target: string;
  readonly #temp: string;
  readonly #fh: FileHandle;

  private constructor(target: string, temp: string, fh: FileHandle) {
    this.#target = target;
    this.#temp = temp;
    this.#fh = fh;
    this.stream = new FileSink(fh);
  }

  /**
   * Creates the temporary file next to `target`.
   * @param target - final path
   * @returns the open output
   */
  static async create(target: string): Promise<AtomicFile> {
    const temp = tempPathFor(target);
    track(temp); // before it exists: a signal during the open still removes it
    let fh: FileHandle;
    try {
      fh = await open(temp, 'wx', 0o600);
    } catch (e) {
      untrack(temp);
      throw e;
    }
    return new AtomicFile(target, temp, fh);
  }

  /** Closes the (already fsynced) temporary file and renames it to the target. */
  async commit(): Promise<void> {
    if (!this.stream.writableFinished) throw new Error('AtomicFile.commit() before the stream finished');
    try {
      await this.#fh.close();
      await rename(this.#temp, this.#target);
      untrack(this.#temp);
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Discards the output: destroys the stream, closes and removes the temporary file. */
  async abort(): Promise<void> {
    this.stream.destroy();
    await this.#fh.close().catch(() => undefined); // may already be closed
    await rm(this.#temp, { force: true });
    untrack(this.#temp);
  }
}
