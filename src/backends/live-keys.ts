/**
 * A count of the backend keys (`AesGcmKey`, `AesBlockKey`) that were created and not yet
 * disposed, in this JavaScript realm. `getBackend` (src/backends/select.ts) wraps every named
 * backend with {@link countKeys}, so the count covers node:crypto, WebCrypto and WASM alike
 * without any backend carrying test plumbing; tests read it to prove that every path (success,
 * error, cancel, abort, destroy) disposes the keys it created. It is an internal module: not
 * exported from any entry point, and it holds only a number, so reading it reveals nothing.
 *
 * Cost: one counter update per key creation and per first `dispose()`, and a mark saying the key
 * counts. The key's operations are not wrapped; a class-based key (node:crypto, WASM) has its
 * class's `dispose` wrapped once on the prototype and carries its mark as a private field stamped
 * on it ({@link LiveMark}: every key of a class takes the same shape transition, and a stamp costs
 * a fraction of a `WeakSet` entry, which was a tenth of a one-shot message's JavaScript on
 * node:crypto); an object-literal key (WebCrypto) has its own `dispose` replaced by a plain
 * assignment and its mark in a `WeakSet`.
 *
 * @module
 */
import type { CryptoBackend } from './backend.js';
import { SYNC_AES_GCM, syncAesGcmOf, type SyncAesGcm } from './sync.js';

let live = 0;
/** Keys counted as live and not yet disposed, but for those marked by {@link LiveMark}. */
const tracked = new WeakSet<object>();
/** Prototypes whose `dispose` already untracks (each wrapped once). */
const wrapped = new WeakSet<object>();

type Disposable = { dispose(): void };

/** A base class whose constructor returns its argument: a subclass's private fields are stamped on that object. */
class Stamp {
  constructor(o: object) {
    return o;
  }
}

/**
 * The live mark of a class-based key: a private field stamped on the key object (the
 * return-override idiom), `true` while the key counts. Only this class can read or write it.
 */
class LiveMark extends Stamp {
  #live = true;
  /** Marks `key` as counting; `false` when it already counted (the same object handed out twice is one key). */
  static mark(key: object): boolean {
    if (!(#live in key)) {
      new LiveMark(key);
      return true;
    }
    if (key.#live) return false;
    key.#live = true; // counted again after kept()
    return true;
  }
  /** Clears the mark; whether `key` was counting. */
  static clear(key: object): boolean {
    if (!(#live in key) || !key.#live) return false;
    key.#live = false;
    return true;
  }
}

/** Untracks `key` on its first `dispose()` (later calls are not counted again). */
function untrack(key: object): void {
  if (LiveMark.clear(key) || tracked.delete(key)) live--;
}

/** Counts `key` as live until its first `dispose()`. */
function counted<K extends Disposable>(key: K): K {
  const proto = Object.getPrototypeOf(key) as (Disposable & object) | null;
  const classBased = !Object.hasOwn(key, 'dispose') && proto !== null && proto !== Object.prototype && Object.hasOwn(proto, 'dispose');
  if (classBased) {
    if (!wrapped.has(proto)) {
      const dispose = proto.dispose;
      wrapped.add(proto);
      // Assigned as a method: `this` is the instance the key's own code sees.
      proto.dispose = function (this: Disposable): void {
        untrack(this);
        dispose.call(this);
      };
    }
    if (Object.isExtensible(key)) {
      if (LiveMark.mark(key)) live++;
      return key;
    }
  }
  if (tracked.has(key)) return key; // the same object handed out twice is one key
  if (!classBased) {
    const dispose = key.dispose;
    key.dispose = (): void => {
      untrack(key);
      dispose.call(key);
    };
  }
  tracked.add(key);
  live++;
  return key;
}

/**
 * Wraps a backend so that the AES keys it prepares are counted by {@link liveKeyCount}. A
 * synchronous key factory ({@link SYNC_AES_GCM}) is carried over, counting its keys too.
 * @param backend - a backend implementation
 * @returns the same backend, whose `aesGcm` and `aesBlock` count the keys they return
 * @example
 * ```ts
 * const b = countKeys(createNodeBackend());
 * ```
 */
export function countKeys(backend: CryptoBackend): CryptoBackend {
  const aesGcm = async (key: Uint8Array) => counted(await backend.aesGcm(key));
  const sync = syncAesGcmOf(backend);
  if (sync !== undefined) {
    const countedSync: SyncAesGcm = (key) => counted(sync(key));
    Object.defineProperty(aesGcm, SYNC_AES_GCM, { value: countedSync });
  }
  const b: CryptoBackend = {
    ...backend,
    aesGcm,
    aesBlock: async (key) => counted(await backend.aesBlock(key)),
  };
  wrappers.add(b);
  return b;
}

/** Backends made by {@link countKeys}: their keys are the counted objects themselves. */
const wrappers = new WeakSet<CryptoBackend>();

/**
 * Whether the keys of `backend` can be taken out of the count with {@link kept}: a backend made
 * by {@link countKeys} (every named backend of `getBackend`), whose `aesGcm` returns the counted
 * key itself. A key of any other backend object (a custom or wrapping backend) may hold a
 * counted key inside it, which `kept` cannot reach.
 * @param backend - a backend
 * @returns whether its keys can be kept
 * @example
 * ```ts
 * if (keepable(ctx.backend)) cache = kept(await ctx.backend.aesGcm(kek));
 * ```
 */
export function keepable(backend: CryptoBackend): boolean {
  return wrappers.has(backend);
}

/**
 * Takes a key out of the count: for a key kept on purpose beyond the operation that created it,
 * by an owner that disposes it with itself (`aesKey`'s cached key-encryption key, disposed by the
 * provider's `dispose()`). Its `dispose` still works; it is simply no longer counted.
 * @param key - a key from a counted backend (others are ignored)
 * @returns the same key
 * @example
 * ```ts
 * const kek = kept(await ctx.backend.aesGcm(masterKey)); // lives as long as the provider
 * ```
 */
export function kept<K extends object>(key: K): K {
  untrack(key);
  return key;
}

/**
 * How many backend keys are alive (created and not disposed) right now.
 * @returns the count
 * @example
 * ```ts
 * const before = liveKeyCount();
 * await encrypt(data, { recipients });
 * liveKeyCount() === before; // true: every key was disposed
 * ```
 */
export function liveKeyCount(): number {
  return live;
}
