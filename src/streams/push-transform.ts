/**
 * Builds a Web `TransformStream<Uint8Array, Uint8Array>` from a push/finish state machine. The
 * transform awaits each step, so the writable side applies backpressure while a batch of chunks is
 * being processed and memory stays O(batch).
 *
 * @module
 */
import { describe } from '../bytes.js';

/** A byte-stream state machine driven by a TransformStream. */
export interface PushMachine {
  /** Runs once before the first chunk; returns bytes to emit first (e.g. a header). */
  start?(): Promise<Uint8Array[]>;
  /** Consumes one written chunk; returns the bytes to emit. */
  push(data: Uint8Array): Promise<Uint8Array[]>;
  /** Runs at end of input; returns the final bytes to emit. */
  finish(): Promise<Uint8Array[]>;
  /** Releases secrets after an error or cancellation. */
  abort?(): void;
}

/** Wraps a {@link PushMachine} (created lazily, once) in a `TransformStream`. */
export function pushTransform(make: () => Promise<PushMachine>): TransformStream<Uint8Array, Uint8Array> {
  let machine: PushMachine | undefined;
  const emit = (c: TransformStreamDefaultController<Uint8Array>, parts: Uint8Array[]): void => {
    for (const p of parts) if (p.length > 0) c.enqueue(p);
  };
  const run = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      machine?.abort?.();
      throw e;
    }
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    start: (c) =>
      run(async () => {
        machine = await make();
        if (machine.start) emit(c, await machine.start());
      }),
    transform: (chunk, c) =>
      run(async () => {
        if (!(chunk instanceof Uint8Array)) throw new TypeError(`stream chunk expected Uint8Array, got ${describe(chunk)}`);
        emit(c, await machine!.push(chunk));
      }),
    flush: (c) => run(async () => emit(c, await machine!.finish())),
  });
}
