/**
 * Builds a Web `TransformStream<Uint8Array, Uint8Array>` from a push/finish state machine. The
 * transform awaits each step, so the writable side applies backpressure while a batch of chunks is
 * being processed and memory stays O(batch).
 *
 * Key hygiene: the machine's `abort()` (which disposes its keys) is reached from every way a
 * stream can end without finishing: an error in any step, the readable side cancelled, the
 * writable side aborted (both through the transformer's `cancel` hook, Streams spec
 * §"TransformStreamDefaultSourceCancelAlgorithm" / "…SinkAbortAlgorithm"), and a step that finds
 * the stream already gone (an `enqueue` on a cancelled readable throws). A stream cancelled while
 * its machine is still being created aborts the machine as soon as it exists. Runtimes whose
 * TransformStream predates the `cancel` hook never call it; there, an idle stream that is
 * cancelled or aborted is aborted once both of its ends (`readable` and `writable`) have been
 * garbage-collected (a `FinalizationRegistry`: nobody can use the stream any more), and a busy
 * one at its next step. The TransformStream object itself is not watched: engines collect it
 * while its ends are still in use (e.g. after `pipeThrough`, or `Duplex.fromWeb`). `abort()` may
 * therefore run more than once: machines make it idempotent.
 *
 * @module
 */
import { describe, detachedDuring, detachedView, isDetached } from '../bytes.js';

/** A byte-stream state machine driven by a TransformStream. */
export interface PushMachine {
  /** Runs once before the first chunk; returns bytes to emit first (e.g. a header). */
  start?(): Promise<Uint8Array[]>;
  /**
   * Consumes one written chunk; returns the bytes to emit. A machine whose step completed
   * synchronously returns the array itself (no promise, no microtask); errors may come either
   * way (a throw or a rejected promise).
   */
  push(data: Uint8Array): Uint8Array[] | Promise<Uint8Array[]>;
  /** Runs at end of input; returns the final bytes to emit. Disposes the machine's keys. */
  finish(): Promise<Uint8Array[]>;
  /** Releases secrets after an error or cancellation. Idempotent; may run after `finish`. */
  abort?(): void;
}

/**
 * A plain `Uint8Array` over the bytes of `p` (no copy). The node backend's chunk paths emit
 * node:crypto's `Buffer`s as they are (Node streams take them without a conversion); Web stream
 * readers get plain arrays, whose `slice()` copies (`Buffer#slice` would not).
 */
function plain(p: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(p) === Uint8Array.prototype ? p : new Uint8Array(p.buffer, p.byteOffset, p.length);
}

/**
 * One machine step over a written chunk, for both stream drivers (this file and src/node.ts):
 * refuses a chunk that is not a `Uint8Array` or is a view of a detached buffer (it would read as
 * empty: the stream would carry on as if nothing had been written), and, when the step is
 * asynchronous, refuses its output if the chunk was detached before the step settled (its bytes
 * may have been read short; the output is wiped, never emitted).
 * @param m - the machine
 * @param chunk - what was written
 * @returns the machine's output for the chunk (an array when the step completed synchronously)
 * @throws TypeError for a chunk that is not a `Uint8Array` or is detached; EnsealError
 *   `ERR_STATE` (as a rejection) when it was detached during an asynchronous step
 * @example
 * ```ts
 * const out = pushChunk(machine, chunk);
 * ```
 */
export function pushChunk(m: PushMachine, chunk: unknown): Uint8Array[] | Promise<Uint8Array[]> {
  if (!(chunk instanceof Uint8Array)) throw new TypeError(`stream chunk expected Uint8Array, got ${describe(chunk)}`);
  if (isDetached(chunk)) throw detachedView('stream chunk');
  const n = chunk.byteLength; // read once
  const out = m.push(chunk);
  if (Array.isArray(out)) return out; // read in full before returning
  return out.then((parts) => {
    if (chunk.byteLength === n) return parts;
    for (const p of parts) p.fill(0);
    throw detachedDuring('stream chunk');
  });
}

/** `Transformer` plus the `cancel` hook of the current Streams spec (absent from older DOM libs). */
type CancellableTransformer = Transformer<Uint8Array, Uint8Array> & { cancel?: (reason: unknown) => void | PromiseLike<void> };

/**
 * Last resort for runtimes without the `cancel` hook: abort a machine once both ends of its
 * stream were collected. Each end is registered with the same countdown; the second collection
 * runs the abort.
 */
let collected: FinalizationRegistry<() => void> | undefined;

function collectedRegistry(): FinalizationRegistry<() => void> | undefined {
  if (collected === undefined && typeof FinalizationRegistry === 'function') collected = new FinalizationRegistry((endGone) => endGone());
  return collected;
}

/**
 * Wraps a {@link PushMachine} (created lazily, once) in a `TransformStream`.
 * @param make - creates the machine (called once, when the stream starts)
 * @returns the stream; its machine is aborted on error, cancel and abort
 * @example
 * ```ts
 * const ts = pushTransform(encryptMachine({ recipients: [key] }));
 * ```
 */
export function pushTransform(make: () => Promise<PushMachine>): TransformStream<Uint8Array, Uint8Array> {
  let machine: PushMachine | undefined;
  let ended = false; // finished, failed or cancelled: the machine must hold no key any more
  const token = {};
  const abort = (): void => {
    ended = true;
    collected?.unregister(token);
    machine?.abort?.();
  };
  const emit = (c: TransformStreamDefaultController<Uint8Array>, parts: Uint8Array[]): void => {
    for (const p of parts) if (p.length > 0) c.enqueue(plain(p));
  };
  const run = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      abort();
      throw e;
    }
  };
  const transformer: CancellableTransformer = {
    start: (c) =>
      run(async () => {
        const m = await make();
        machine = m;
        if (ended) {
          m.abort?.(); // cancelled while the machine was being made
          return;
        }
        if (m.start) emit(c, await m.start());
      }),
    transform: (chunk, c) => {
      // Synchronous when the machine's step is (node:crypto): the transform then returns no
      // promise of its own, and the only await per write is the one of the Streams machinery.
      let out: Uint8Array[] | Promise<Uint8Array[]>;
      try {
        out = pushChunk(machine!, chunk);
        if (Array.isArray(out)) {
          emit(c, out);
          return undefined;
        }
      } catch (e) {
        abort();
        throw e;
      }
      return run(async () => emit(c, await out));
    },
    flush: (c) =>
      run(async () => {
        emit(c, await machine!.finish());
        ended = true;
        collected?.unregister(token);
      }),
    cancel: () => abort(),
  };
  const ts = new TransformStream<Uint8Array, Uint8Array>(transformer);
  const registry = collectedRegistry();
  if (registry !== undefined) {
    let ends = 2;
    const endGone = (): void => {
      if (--ends === 0) abort();
    };
    registry.register(ts.readable, endGone, token);
    registry.register(ts.writable, endGone, token);
  }
  return ts;
}
