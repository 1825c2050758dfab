// Sources and sinks shared by every contender, so each one is fed and drained the same way:
// plaintext arrives in 64 KiB pieces (Node's fs highWaterMark, what a typical ReadableStream
// delivers) and output goes to a sink callback that either collects it (round-trip check) or
// only counts it (timing, peak RSS).
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';

export const WRITE = 64 * 1024;

/** 64 KiB views of `buf` (no copies). */
export function* piecesOf(buf, size = WRITE) {
  for (let o = 0; o < buf.length; o += size) yield buf.subarray(o, Math.min(buf.length, o + size));
}

/**
 * `total` bytes of generated data in 64 KiB pieces, views of one 1 MiB random pool: nothing is
 * allocated per piece and nothing is held, so a peak-RSS measurement sees only the contender.
 */
export function* generated(total) {
  const pool = randomBytes(1 << 20);
  for (let produced = 0; produced < total; produced += WRITE) {
    const off = ((produced / WRITE) % 16) * WRITE;
    yield pool.subarray(off, off + Math.min(WRITE, total - produced));
  }
}

/** A pull-based Web ReadableStream over an iterable of pieces (one piece queued at a time). */
export function readableFrom(iterable) {
  const it = iterable[Symbol.iterator]();
  return new ReadableStream({
    pull(c) {
      const n = it.next();
      if (n.done) c.close();
      else c.enqueue(n.value);
    },
  });
}

/** A Node Readable over the same pieces. */
export const nodeReadableFrom = (iterable) => Readable.from(iterable);

/** A Web WritableStream handing every chunk to `sink`. */
export const webSink = (sink) => new WritableStream({ write(chunk) { sink(chunk); } });

/** A Node Writable handing every chunk to `sink`. */
export const nodeSink = (sink) =>
  new Writable({
    write(chunk, _enc, cb) {
      sink(chunk);
      cb();
    },
  });

/** A sink that collects copies of the pieces (a contender may reuse its buffers); `bytes()` joins them. */
export function collector() {
  const parts = [];
  return { sink: (p) => parts.push(Buffer.from(p)), bytes: () => Buffer.concat(parts) };
}

/** A sink that only counts bytes. */
export function counter() {
  const c = { n: 0, sink: (p) => { c.n += p.byteLength; } };
  return c;
}
