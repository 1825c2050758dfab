/**
 * `enseal/node`: Node.js edges of the Web-stream core — `stream.Transform`s for `pipeline()`,
 * and a file-backed {@link RandomAccessSource} for ranged decryption.
 *
 * @example
 * ```ts
 * import { pipeline } from 'node:stream/promises';
 * import { createReadStream, createWriteStream } from 'node:fs';
 * import { createEncryptStream } from 'enseal/node';
 * await pipeline(createReadStream('in'), createEncryptStream({ recipients: [key] }), createWriteStream('out'));
 * ```
 *
 * @module
 */
import { open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { decryptMachine, encryptMachine } from './envelope/streams.js';
import type { DecryptOptions, EncryptOptions } from './envelope/options.js';
import type { RandomAccessSource } from './format/chunked-reader.js';
import type { PushMachine } from './streams/push-transform.js';

/** A Node `Transform` driving an enseal push machine; errors destroy the stream. */
class MachineTransform extends Transform {
  readonly #machine: Promise<PushMachine>;
  #started = false;
  #finished = false;

  constructor(make: () => Promise<PushMachine>) {
    super({ highWaterMark: 1 << 16 });
    this.#machine = make();
    this.#machine.catch(() => undefined); // surfaced by the first transform/flush
  }

  async #step(f: (m: PushMachine) => Promise<Uint8Array[]>): Promise<void> {
    const m = await this.#machine;
    if (!this.#started) {
      this.#started = true;
      if (m.start) for (const p of await m.start()) if (p.length > 0) this.push(p);
    }
    for (const p of await f(m)) if (p.length > 0) this.push(p);
  }

  override _transform(chunk: Buffer | Uint8Array, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!(chunk instanceof Uint8Array)) {
      cb(new TypeError('enseal streams expected Buffer or Uint8Array chunks'));
      return;
    }
    this.#step((m) => m.push(chunk)).then(() => cb(), (e: Error) => cb(e));
  }

  override _flush(cb: TransformCallback): void {
    this.#step((m) => m.finish()).then(
      () => {
        this.#finished = true;
        cb();
      },
      (e: Error) => cb(e),
    );
  }

  /** Destroyed before the end (error or caller's `destroy()`): wipe the machine's secrets. */
  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (!this.#finished) this.#machine.then((m) => m.abort?.(), () => undefined);
    cb(err);
  }
}

/**
 * A Node `Transform` that encrypts (same format and options as `encryptStream`).
 * @param opts - `recipients`, `context`, `backend`
 * @returns a Transform: plaintext in, enseal object out
 */
export function createEncryptStream(opts: EncryptOptions): Transform {
  return new MachineTransform(encryptMachine(opts));
}

/**
 * A Node `Transform` that decrypts (same semantics as `decryptStream`: plaintext is pushed only
 * after its chunk authenticated; early end or tampering destroys the stream with an EnsealError).
 * @param opts - `keys`, expected `context`, `backend`
 * @returns a Transform: enseal object in, plaintext out
 */
export function createDecryptStream(opts: DecryptOptions): Transform {
  return new MachineTransform(decryptMachine(opts));
}

/** A {@link RandomAccessSource} over an open file; `close()` releases the handle. */
export interface FileSource extends RandomAccessSource {
  close(): Promise<void>;
}

/**
 * Opens a file for `decryptRange` / `openReader`.
 * @param path - file path
 * @returns a source reading with positional reads (no seek state, safe for concurrent reads)
 * @example
 * ```ts
 * const src = await fileSource('photo.jpg.enseal');
 * try { await decryptRange(src, { start: 0, end: 99 }, { keys }) } finally { await src.close() }
 * ```
 */
export async function fileSource(path: string): Promise<FileSource> {
  const fh = await open(path, 'r');
  const { size } = await fh.stat();
  return {
    size,
    async read(offset, length) {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? buf : buf.subarray(0, got);
    },
    close: () => fh.close(),
  };
}

export type { RandomAccessSource } from './format/chunked-reader.js';
