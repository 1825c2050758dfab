/**
 * `enseal/node`: Node.js edges of the Web-stream core — `stream.Transform`s for `pipeline()`,
 * and a file-backed {@link RandomAccessSource} for ranged decryption.
 *
 * Types: unlike the other entries, this subpath's declarations use Node's (`stream.Transform`),
 * so a TypeScript consumer needs `@types/node` (`types: ["node"]`); the other entries compile
 * with either `@types/node` or the DOM lib.
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
import { EnsealError } from './errors.js';
import { checkLength } from './format/cobblestone.js';
import type { RandomAccessSource } from './format/chunked-reader.js';
import { withIntegrity, type IntegrityCheck } from './integrity/stream-integrity.js';
import { pushChunk, type PushMachine } from './streams/push-transform.js';

/**
 * A Node `Transform` driving an enseal push machine; errors destroy the stream, and every
 * `destroy()` (an error, the caller's, or `pipeline()` tearing down) disposes the machine's keys,
 * also when the machine is still being created.
 */
class MachineTransform extends Transform {
  readonly #machine: Promise<PushMachine>;
  /** The machine once it exists and its `start` bytes were pushed: later writes need no await. */
  #ready: PushMachine | undefined;

  constructor(make: () => Promise<PushMachine>) {
    super({ highWaterMark: 1 << 16 });
    this.#machine = make();
    this.#machine.catch(() => undefined); // surfaced by the first transform/flush
  }

  #emit(parts: Uint8Array[]): void {
    for (const p of parts) if (p.length > 0) this.push(p);
  }

  async #step(f: (m: PushMachine) => Uint8Array[] | Promise<Uint8Array[]>): Promise<void> {
    const m = await this.#machine;
    if (this.#ready === undefined) {
      if (m.start) this.#emit(await m.start());
      this.#ready = m;
    }
    this.#emit(await f(m));
  }

  override _transform(chunk: Buffer | Uint8Array, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!(chunk instanceof Uint8Array)) {
      cb(new TypeError('enseal streams expected Buffer or Uint8Array chunks'));
      return;
    }
    const m = this.#ready;
    if (m !== undefined) {
      // Steady state: a synchronous machine step (node:crypto) pushes and calls back at once.
      let out: Uint8Array[] | Promise<Uint8Array[]>;
      try {
        out = pushChunk(m, chunk);
      } catch (e) {
        cb(e as Error);
        return;
      }
      if (Array.isArray(out)) {
        this.#emit(out);
        cb();
      } else {
        out.then((parts) => (this.#emit(parts), cb()), (e: Error) => cb(e));
      }
      return;
    }
    this.#step((mm) => pushChunk(mm, chunk)).then(() => cb(), (e: Error) => cb(e));
  }

  override _flush(cb: TransformCallback): void {
    this.#step((m) => m.finish()).then(() => cb(), (e: Error) => cb(e));
  }

  /** Destroyed (error, caller's `destroy()`, or after the end): dispose the machine's keys. */
  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.#machine.then((m) => m.abort?.(), () => undefined); // abort is idempotent; a no-op after finish
    cb(err);
  }
}

/**
 * A Node `Transform` that encrypts (same format and options as `encryptStream`). Destroying it
 * (or an error) disposes its keys.
 * @param opts - `recipients`, `context`, `backend`, `workers` (chunk batches on worker threads),
 *   `integrity` (an `integrityCheck()`: checksums of the plaintext and/or ciphertext in the same
 *   pass; its `digests` resolve once the stream flushed, and reject if it is destroyed first)
 * @returns a Transform: plaintext in, enseal object out
 * @throws TypeError/RangeError (through the stream) for invalid options; TypeError at call time
 *   for an `integrity` value not from `integrityCheck()` or already used
 * @example
 * ```ts
 * const check = integrityCheck({ ciphertext: { md5: true } });
 * await pipeline(createReadStream('in'), createEncryptStream({ recipients: [key], integrity: check }), createWriteStream('out'));
 * const { ciphertext } = await check.digests;
 * ```
 */
export function createEncryptStream(opts: EncryptOptions & { integrity?: IntegrityCheck }): Transform {
  return new MachineTransform(withIntegrity(encryptMachine(opts), opts?.integrity, 'encrypt'));
}

/**
 * A Node `Transform` that decrypts (same semantics as `decryptStream`: plaintext is pushed only
 * after its chunk authenticated; early end or tampering destroys the stream with an EnsealError).
 * Destroying it (or an error) disposes its keys.
 * @param opts - `keys`, expected `context`, `backend`, `workers` (chunk batches on worker threads),
 *   `integrity` (an `integrityCheck()`; the plaintext digest covers only released, authenticated
 *   plaintext, the ciphertext digest every byte written; a stream that fails rejects the digests)
 * @returns a Transform: enseal object in, plaintext out
 * @throws TypeError for invalid options, or an `integrity` value not from `integrityCheck()` or
 *   already used (at call time)
 * @example
 * ```ts
 * await pipeline(createReadStream('in.enseal'), createDecryptStream({ keys: [key] }), createWriteStream('out'));
 * ```
 */
export function createDecryptStream(opts: DecryptOptions & { integrity?: IntegrityCheck }): Transform {
  return new MachineTransform(withIntegrity(decryptMachine(opts), opts?.integrity, 'decrypt'));
}

/**
 * A {@link RandomAccessSource} over an open file. `size` is the file's size when it was opened
 * (one `stat`, never re-read). `close()` releases the handle; it is idempotent, and every later
 * `read`, or a read in flight, rejects with `EnsealError` `ERR_STATE`.
 */
export interface FileSource extends RandomAccessSource {
  /** Closes the file (idempotent: every call returns the same promise). */
  close(): Promise<void>;
}

/**
 * Opens a file for `decryptRange` / `openReader`.
 * @param path - file path
 * @returns a source reading with positional reads (no seek state, safe for concurrent reads)
 * @throws the `node:fs` error when the file cannot be opened
 * @example
 * ```ts
 * const src = await fileSource('photo.jpg.enseal');
 * try { await decryptRange(src, { start: 0, end: 99 }, { keys }) } finally { await src.close() }
 * ```
 */
export async function fileSource(path: string): Promise<FileSource> {
  const fh = await open(path, 'r');
  let size: number;
  try {
    ({ size } = await fh.stat());
  } catch (e) {
    await fh.close();
    throw e;
  }
  let closing: Promise<void> | undefined;
  const closed = (): EnsealError => new EnsealError('ERR_STATE', 'the file source is closed');
  return {
    size,
    async read(offset, length) {
      if (closing !== undefined) throw closed();
      checkLength(offset, 'offset');
      checkLength(length, 'length');
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        let bytesRead: number;
        try {
          ({ bytesRead } = await fh.read(buf, got, length - got, offset + got));
        } catch (e) {
          if (closing !== undefined) throw closed();
          throw e;
        }
        if (closing !== undefined) throw closed(); // closed while this read was in flight
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? buf : buf.subarray(0, got);
    },
    close: () => (closing ??= fh.close()),
  };
}

export type { RandomAccessSource } from './format/chunked-reader.js';
