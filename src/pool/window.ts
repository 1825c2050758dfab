/**
 * An ordered window of batches in flight: batches run concurrently on the pool, results come
 * out in submission order, and at most `limit` are in flight (adding one more waits for the
 * oldest: backpressure and bounded memory). After a failure the window stays failed: the
 * failing batch released nothing (its thread wiped it), every later result is wiped as it
 * arrives, and every later call rethrows the same error.
 *
 * @module
 */
import type { Bytes } from '../bytes.js';
import type { PoolResult } from './pool.js';
import { wipeResult } from './spares.js';

interface Entry {
  done: boolean;
  value: PoolResult | undefined;
  error: unknown;
  readonly settled: Promise<void>;
  /** Turns the raw result into what is released (e.g. a view of the used length). */
  readonly view: (r: PoolResult) => Bytes;
}

/** Ordered results of concurrent batches, with a bounded number in flight. */
export class OrderedWindow {
  readonly #limit: number;
  readonly #queue: Entry[] = [];
  #failed: { error: unknown } | undefined;

  /** @param limit - most batches in flight (≥ 1) */
  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /** Batches in flight. */
  get size(): number {
    return this.#queue.length;
  }

  #check(): void {
    if (this.#failed !== undefined) throw this.#failed.error;
  }

  /**
   * Adds a batch; waits for the oldest ones while more than `limit` are in flight.
   * @param result - the batch's pending result
   * @param view - what of the result is released
   * @returns the results ready now, in order (possibly none)
   * @throws the first batch failure (and the same error on every later call)
   */
  async add(result: Promise<PoolResult>, view: (r: PoolResult) => Bytes): Promise<Bytes[]> {
    const entry: Entry = {
      done: false,
      value: undefined,
      error: undefined,
      view,
      settled: result.then(
        (v) => {
          entry.done = true;
          if (this.#failed !== undefined) wipeResult(v); // failed meanwhile: release nothing later
          else entry.value = v;
        },
        (e) => {
          entry.done = true;
          entry.error = e ?? new Error('batch failed');
        },
      ),
    };
    if (this.#failed !== undefined) {
      await entry.settled; // the buffer is already handed over: wait for it, and wipe it
      this.#check();
    }
    this.#queue.push(entry);
    const out: Bytes[] = [];
    try {
      while (this.#queue.length > this.#limit) out.push(await this.#take());
      while (this.#queue.length > 0 && this.#queue[0]!.done) out.push(await this.#take());
    } catch (e) {
      for (const b of out) b.fill(0);
      throw e;
    }
    return out;
  }

  /**
   * Waits for every batch in flight.
   * @returns their results, in order
   * @throws the first batch failure
   */
  async drain(): Promise<Bytes[]> {
    const out: Bytes[] = [];
    try {
      while (this.#queue.length > 0) out.push(await this.#take());
    } catch (e) {
      for (const b of out) b.fill(0);
      throw e;
    }
    return out;
  }

  async #take(): Promise<Bytes> {
    this.#check();
    const entry = this.#queue[0]!;
    await entry.settled;
    this.#check();
    this.#queue.shift();
    if (entry.value === undefined) {
      this.fail(entry.error);
      throw entry.error;
    }
    return entry.view(entry.value);
  }

  /**
   * Fails the window: results still in flight are wiped when they arrive; every later call throws
   * `error`. The first failure wins.
   * @param error - the failure
   */
  fail(error: unknown): void {
    if (this.#failed !== undefined) return;
    this.#failed = { error };
    for (const e of this.#queue.splice(0)) {
      if (e.value !== undefined) wipeResult(e.value);
      e.value = undefined;
    }
  }

  /** Waits (never throws) until every batch handed over has come back or failed. */
  async settled(): Promise<void> {
    await Promise.all(this.#queue.map((e) => e.settled));
  }
}
