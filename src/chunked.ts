/**
 * `enseal/chunked`: the payload layer on its own — C2SP chunked-encryption
 * (https://c2sp.org/chunked-encryption), Cobblestone-256 by default. Byte-exact with the spec:
 * `salt (24) || commitment (32) || chunks`, 16 KiB chunks, a mandatory short final chunk.
 *
 * Use this when you manage the input key yourself; use the root `enseal` entry for envelope
 * encryption with key providers.
 *
 * @example
 * ```ts
 * import { seal, open } from 'enseal/chunked';
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const ct = await seal(key, new TextEncoder().encode('hi'), { context: 'app v1' });
 * const pt = await open(key, ct, { context: 'app v1' });
 * ```
 *
 * @module
 */
import { assertBytes, utf8, type Bytes, copyBytes, whileAttached } from './bytes.js';
import { getBackend, type BackendChoice } from './backends/select.js';
import { ChunkOpener } from './format/chunked-open.js';
import { ChunkSealer } from './format/chunked-seal.js';
import {
  COBBLESTONE_128,
  COBBLESTONE_256,
  SALT_LENGTH,
  deriveMessageKeys,
  openPreamble,
  openedSize,
  sealedSize,
  PREAMBLE_LENGTH,
  type ChunkedSuite,
} from './format/cobblestone.js';
import { openMessage, sealMessage } from './format/message.js';
import { ChunkedReader, readExact, sourceSize, type RandomAccessSource } from './format/chunked-reader.js';
import { pushTransform } from './streams/push-transform.js';
import { checkWorkersOption } from './pool/pool.js';
import { poolOpenMessage, poolSealMessage } from './pool/pool-message.js';
import { openPreambleSecrets, deriveMessageSecrets } from './pool/message-secrets.js';
import { PoolOpener } from './pool/pool-opener.js';
import { PoolSealer } from './pool/pool-sealer.js';
import { openSession, type WorkersOption } from './pool/session.js';

export {
  CHUNK_SIZE,
  COBBLESTONE_128,
  COBBLESTONE_256,
  PREAMBLE_LENGTH,
  SEALED_CHUNK_SIZE,
  TAG_LENGTH,
  type ChunkedSuite,
} from './format/cobblestone.js';

/** Options shared by every `enseal/chunked` call. */
export interface ChunkedOptions {
  /** Application context bound into the key derivation (bytes, or a string encoded as UTF-8). */
  context?: Uint8Array | string;
  /** Instantiation; default {@link COBBLESTONE_256}. */
  suite?: ChunkedSuite;
  /** Force a backend (`'node'`, `'webcrypto'`); default: the runtime's best. */
  backend?: BackendChoice;
  /**
   * Seal/open on worker threads (src/pool/): a thread count, or a pool from `createPool()`.
   * Same bytes; `openReader` ignores it.
   */
  workers?: WorkersOption;
}

/** Options for sealing. */
export interface SealOptions extends ChunkedOptions {
  /**
   * The 24-byte salt. Default: random. It MUST NOT repeat for an input key; set it only to
   * reproduce known vectors.
   */
  salt?: Uint8Array;
}

function contextBytes(c: Uint8Array | string | undefined): Uint8Array {
  if (c === undefined) return new Uint8Array(0);
  if (typeof c === 'string') return utf8(c);
  assertBytes(c, 'context');
  return c;
}

function suiteOf(opts: ChunkedOptions): ChunkedSuite {
  const s = opts.suite ?? COBBLESTONE_256;
  if (s !== COBBLESTONE_256 && s !== COBBLESTONE_128) throw new TypeError('"suite" expected COBBLESTONE_256 or COBBLESTONE_128');
  return s;
}

function checkKey(inputKey: unknown, suite: ChunkedSuite): asserts inputKey is Uint8Array {
  assertBytes(inputKey, 'inputKey', suite.keyLengthInBytes);
}

function saltOf(opts: SealOptions, random: (n: number) => Bytes): Uint8Array {
  if (opts.salt === undefined) return random(SALT_LENGTH);
  assertBytes(opts.salt, 'salt', SALT_LENGTH);
  return opts.salt;
}

/**
 * Encrypts a whole message.
 *
 * @param inputKey - uniformly random key of the suite's length (32 bytes for Cobblestone-256)
 * @param plaintext - message bytes (any length up to 2^38 chunks)
 * @param opts - context, salt, suite, backend
 * @returns `salt || commitment || chunks`
 * @throws RangeError when `inputKey` or `salt` has the wrong length
 * @example
 * ```ts
 * const ct = await seal(key, bytes);
 * ```
 */
export async function seal(inputKey: Uint8Array, plaintext: Uint8Array, opts: SealOptions = {}): Promise<Bytes> {
  const suite = suiteOf(opts);
  checkKey(inputKey, suite);
  assertBytes(plaintext, 'plaintext');
  const backend = getBackend(opts.backend);
  checkWorkersOption(opts.workers);
  const workers = opts.workers;
  if (workers !== undefined) return whileAttached(plaintext, 'plaintext', () => poolSealMessage(workers, backend, suite, inputKey, plaintext, contextBytes(opts.context), saltOf(opts, backend.randomBytes)));
  return whileAttached(plaintext, 'plaintext', () => sealMessage(backend, suite, inputKey, plaintext, contextBytes(opts.context), saltOf(opts, backend.randomBytes)));
}

/**
 * Decrypts and authenticates a whole message; returns nothing unless every chunk verified.
 *
 * @param inputKey - the key it was sealed with
 * @param ciphertext - `salt || commitment || chunks`
 * @param opts - context (must equal the sealing context), suite, backend
 * @returns the plaintext
 * @throws RangeError when `inputKey` has the wrong length (before anything is decrypted)
 * @throws EnsealError `ERR_TRUNCATED` (impossible length), `ERR_AUTH` (commitment: wrong key or
 *   context; or a chunk, with `chunk` set)
 */
export async function open(inputKey: Uint8Array, ciphertext: Uint8Array, opts: ChunkedOptions = {}): Promise<Bytes> {
  const suite = suiteOf(opts);
  checkKey(inputKey, suite);
  assertBytes(ciphertext, 'ciphertext');
  checkWorkersOption(opts.workers);
  const workers = opts.workers;
  if (workers !== undefined) return whileAttached(ciphertext, 'ciphertext', () => poolOpenMessage(workers, getBackend(opts.backend), suite, inputKey, ciphertext, contextBytes(opts.context)));
  return whileAttached(ciphertext, 'ciphertext', () => openMessage(getBackend(opts.backend), suite, inputKey, ciphertext, contextBytes(opts.context)));
}

/**
 * A `TransformStream` that encrypts a plaintext byte stream. Memory: one 16 KiB chunk of
 * buffering plus one batch in flight. Cancelling the readable side, aborting the writable side,
 * or any error disposes the keys and wipes the buffered plaintext.
 *
 * @param inputKey - copied at call time; the copy is wiped once the keys are derived
 * @param opts - context, salt, suite, backend
 * @returns plaintext in, ciphertext out
 * @throws RangeError when `inputKey` or `salt` has the wrong length
 * @example
 * ```ts
 * await file.stream().pipeThrough(sealStream(key)).pipeTo(sink);
 * ```
 */
export function sealStream(inputKey: Uint8Array, opts: SealOptions = {}): TransformStream<Uint8Array, Uint8Array> {
  const suite = suiteOf(opts);
  checkKey(inputKey, suite);
  const backend = getBackend(opts.backend);
  const key = copyBytes(inputKey);
  const salt = copyBytes(saltOf(opts, backend.randomBytes));
  const context = copyBytes(contextBytes(opts.context));
  checkWorkersOption(opts.workers);
  const workers = opts.workers;
  if (workers !== undefined) {
    return pushTransform(async () => {
      let secrets;
      try {
        secrets = await deriveMessageSecrets(backend, suite, key, salt, context);
      } finally {
        key.fill(0);
      }
      let sealer: PoolSealer;
      try {
        sealer = new PoolSealer(openSession(workers, secrets.secret));
      } finally {
        secrets.secret.fill(0);
      }
      const commitment = secrets.commitment;
      return { start: async () => [salt, commitment], push: (d) => sealer.push(d), finish: () => sealer.finish(), abort: () => sealer.abort() };
    });
  }
  return pushTransform(async () => {
    let keys;
    try {
      keys = await deriveMessageKeys(backend, suite, key, salt, context);
    } finally {
      key.fill(0);
    }
    const sealer = new ChunkSealer(keys.cipher);
    const commitment = keys.commitment;
    return {
      start: async () => [salt, commitment],
      push: (d) => sealer.push(d),
      finish: async () => [await sealer.finish()],
      abort: () => sealer.abort(),
    };
  });
}

/**
 * A `TransformStream` that decrypts a ciphertext byte stream. The commitment is checked before
 * any chunk; each chunk's plaintext is emitted only after its tag verified. A stream that ends
 * without a short final chunk errors with `ERR_TRUNCATED`: never a silently short result.
 * Cancelling the readable side, aborting the writable side, or any error disposes the keys.
 *
 * @param inputKey - copied at call time; the copy is wiped once the keys are derived
 * @param opts - context, suite, backend
 * @returns ciphertext in, plaintext out
 * @throws RangeError when `inputKey` has the wrong length
 * @example
 * ```ts
 * const plain = sealed.pipeThrough(openStream(key, { context: 'app v1' }));
 * ```
 */
export function openStream(inputKey: Uint8Array, opts: ChunkedOptions = {}): TransformStream<Uint8Array, Uint8Array> {
  const suite = suiteOf(opts);
  checkKey(inputKey, suite);
  const backend = getBackend(opts.backend);
  const key = copyBytes(inputKey);
  const context = copyBytes(contextBytes(opts.context));
  checkWorkersOption(opts.workers);
  const workers = opts.workers;
  if (workers !== undefined) {
    return pushTransform(async () => {
      const opener = new PoolOpener(workers, async (preamble) => {
        try {
          return await openPreambleSecrets(backend, suite, key, preamble, context);
        } finally {
          key.fill(0);
        }
      });
      return {
        push: (d) => opener.push(d),
        finish: () => opener.finish(),
        abort: () => {
          key.fill(0);
          opener.abort();
        },
      };
    });
  }
  return pushTransform(async () => {
    const opener = new ChunkOpener(async (preamble) => {
      try {
        return await openPreamble(backend, suite, key, preamble, context);
      } finally {
        key.fill(0);
      }
    });
    return {
      push: (d) => opener.push(d),
      finish: async () => [await opener.finish()],
      abort: () => {
        key.fill(0);
        opener.abort();
      },
    };
  });
}

/**
 * Ciphertext length of a message of `plaintextLength` bytes: `56 + n + 16 × (⌊n / 16384⌋ + 1)`.
 * @throws RangeError for a negative or non-integer length
 */
export function ciphertextSize(plaintextLength: number): number {
  return sealedSize(plaintextLength);
}

/**
 * Plaintext length implied by a ciphertext length (unauthenticated until the final chunk opens).
 * @throws EnsealError `ERR_TRUNCATED` for a length no valid message has
 */
export function plaintextSize(ciphertextLength: number): number {
  return openedSize(ciphertextLength);
}

export type { RandomAccessSource } from './format/chunked-reader.js';
export { createPool, WorkerPool, type PoolOptions } from './pool/pool.js';
export type { WorkersOption } from './pool/session.js';

/**
 * Authenticated random access to one C2SP message (see {@link openReader}). It uses one snapshot
 * of the source's `size`. After `close()`, `verifiedSize()` and `read()` reject with `ERR_STATE`,
 * also when they were in flight as `close()` ran.
 */
export interface ChunkedRandomReader {
  /** Plaintext size implied by the source length (unauthenticated). */
  readonly size: number;
  /** Authenticates the final chunk at its index (once, cached) and returns the size. */
  verifiedSize(): Promise<number>;
  /** Decrypts plaintext bytes `start..end`, inclusive; `end` defaults to the last byte. */
  read(start: number, end?: number): Promise<Bytes>;
  /** Wipes cached plaintext and the key. Idempotent. */
  close(): void;
}

/**
 * Opens a C2SP message for random access: reads the 56-byte preamble and checks the commitment;
 * each `read` then fetches only the chunks it needs, after authenticating the final chunk once
 * (spec §"Implementation notes": random access authenticates the length via the final chunk).
 *
 * @param inputKey - the message's input key
 * @param source - `{ size, read(offset, length) }`
 * @param opts - context, suite, backend
 * @returns a reader (reads `source.size` once: later changes of it are ignored)
 * @throws RangeError for a wrong-size key; EnsealError `ERR_TRUNCATED` for an impossible length,
 *   `ERR_AUTH` when the commitment does not match
 * @example
 * ```ts
 * const r = await openReader(key, source);
 * try { await r.read(0, 99) } finally { r.close() }
 * ```
 */
export async function openReader(inputKey: Uint8Array, source: RandomAccessSource, opts: ChunkedOptions = {}): Promise<ChunkedRandomReader> {
  const suite = suiteOf(opts);
  checkKey(inputKey, suite);
  const size = sourceSize(source); // the one read of source.size
  openedSize(size);
  const backend = getBackend(opts.backend);
  const context = contextBytes(opts.context);
  const preamble = await readExact(source, 0, PREAMBLE_LENGTH);
  const cipher = await openPreamble(backend, suite, inputKey, preamble, context);
  let r: ChunkedReader;
  try {
    r = new ChunkedReader(source, 0, cipher, size);
  } catch (e) {
    cipher.dispose();
    throw e;
  }
  return Object.freeze({ size: r.size, verifiedSize: () => r.verifiedSize(), read: (s: number, e?: number) => r.read(s, e), close: () => r.dispose() });
}
