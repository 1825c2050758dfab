/**
 * A pass-through stream that emits some bytes before everything else: puts a header read off a
 * stream (`./read-header.ts`) back in front of the rest, or sends a new header before an
 * unchanged payload.
 *
 * @module
 */
import { Transform, type TransformCallback } from 'node:stream';

/**
 * A pass-through that emits `head` first (also when nothing else follows).
 * @param head - the bytes to emit first (not copied: do not modify them afterwards)
 * @returns the stream
 * @example
 * ```ts
 * await pipeline(input, prepend(newHeader), output);
 * ```
 */
export function prepend(head: Uint8Array): Transform {
  let sent = false;
  const send = (t: Transform): void => {
    if (!sent) t.push(head);
    sent = true;
  };
  return new Transform({
    transform(this: Transform, chunk: Buffer, _encoding: BufferEncoding, cb: TransformCallback): void {
      send(this);
      cb(null, chunk);
    },
    flush(this: Transform, cb: TransformCallback): void {
      send(this);
      cb();
    },
  });
}
