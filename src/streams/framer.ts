/**
 * Cuts a byte stream into fixed-size records (16 KiB plaintext chunks, 16400-byte sealed chunks)
 * without copying the records that lie whole inside one written piece. Only a record that
 * straddles two writes is assembled in an internal buffer, which is reused: the records of a push
 * are handed to `consume` before the remainder of that push overwrites the buffer.
 *
 * @module
 */
import { EnsealError } from '../errors.js';

/**
 * Fixed-size record assembler. Not reentrant: await each `push`. `wipe()` is final: it zeroes the
 * buffer, and every later `push` (and a `push` in flight, once its `consume` settles) throws
 * `ERR_STATE` without buffering anything.
 */
export class Framer {
  readonly #size: number;
  readonly #buf: Uint8Array;
  #fill = 0;
  #wiped = false;

  /** @param size - record size in bytes */
  constructor(size: number) {
    this.#size = size;
    this.#buf = new Uint8Array(size);
  }

  /** The buffered bytes of the incomplete record (a view; valid until the next `push`). */
  get buffered(): Uint8Array {
    return this.#buf.subarray(0, this.#fill);
  }

  /**
   * Appends `data`; passes every record it completes to `consume` (in order; possibly none),
   * then buffers what is left.
   * @param data - bytes to append (read before the returned promise settles; not retained)
   * @param consume - handles the completed records
   * @returns what `consume` returned
   * @throws EnsealError `ERR_STATE` after `wipe()`
   */
  async push<T>(data: Uint8Array, consume: (records: Uint8Array[]) => Promise<T>): Promise<T> {
    const { records, off } = this.#cut(data);
    const result = await consume(records);
    this.#keep(data, off);
    return result;
  }

  /**
   * {@link push} for a synchronous `consume`: no promise, and the records are complete views
   * (the straddling record is the internal buffer, valid until `consume` returns).
   * @param data - bytes to append (not retained)
   * @param consume - handles the completed records, synchronously
   * @returns what `consume` returned
   * @throws EnsealError `ERR_STATE` after `wipe()`; whatever `consume` throws (then nothing of
   *   `data` is buffered)
   * @example
   * ```ts
   * const pieces = framer.pushSync(data, (records) => sealAll(records));
   * ```
   */
  pushSync<T>(data: Uint8Array, consume: (records: Uint8Array[]) => T): T {
    const { records, off } = this.#cut(data);
    const result = consume(records);
    this.#keep(data, off);
    return result;
  }

  /** Completes the buffered record and lists the whole records of `data` (views, no copy). */
  #cut(data: Uint8Array): { records: Uint8Array[]; off: number } {
    if (this.#wiped) throw wipedError();
    const size = this.#size;
    const records: Uint8Array[] = [];
    let off = 0;
    if (this.#fill > 0) {
      off = Math.min(size - this.#fill, data.length);
      this.#buf.set(data.subarray(0, off), this.#fill);
      this.#fill += off;
      if (this.#fill === size) {
        records.push(this.#buf);
        this.#fill = 0;
      }
    }
    for (; data.length - off >= size; off += size) records.push(data.subarray(off, off + size));
    return { records, off };
  }

  /** Buffers the tail of `data` from `off` (after its records were consumed). */
  #keep(data: Uint8Array, off: number): void {
    if (this.#wiped) throw wipedError(); // wiped while consuming: buffer nothing more
    if (off < data.length) {
      this.#buf.set(data.subarray(off), this.#fill);
      this.#fill += data.length - off;
    }
  }

  /** Zeroes the buffer (it may hold plaintext) and retires the framer. Idempotent. */
  wipe(): void {
    this.#wiped = true;
    this.#buf.fill(0);
    this.#fill = 0;
  }
}

function wipedError(): EnsealError {
  return new EnsealError('ERR_STATE', 'write after the stream was finished or cancelled');
}
