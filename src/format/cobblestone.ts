/**
 * C2SP chunked-encryption (https://c2sp.org/chunked-encryption, "Cobblestone"): key derivation,
 * per-chunk nonces and size arithmetic. Clause names below refer to sections of that spec.
 *
 * Byte layout of a message (spec §"AEAD usage"):
 *
 * ```
 * salt (24) || commitment (32) || chunk_0 || chunk_1 || … || chunk_last
 * chunk_i    = AEAD(key, nonce_i, plaintext_i, aad = "")   -- plaintext_i is 16384 bytes + 16-byte tag
 * chunk_last = AEAD(key, nonce_last, plaintext_last, "")   -- 0 ≤ len(plaintext_last) < 16384
 * nonce_i    = base_nonce XOR uint96_be(i),  i < 2^38
 * key || base_nonce || commitment = HKDF-Expand(prk = input key,
 *     info = "c2sp.org/chunked-encryption@v1+" || aead || 0x00 || salt || context)
 * ```
 *
 * @module
 */
import { concat, constantTimeEqual, utf8, wipe, type Bytes, copyBytes } from '../bytes.js';
import { hashLength, type AesGcmKey, type CryptoBackend, type HashName } from '../backends/backend.js';
import { hkdfExpand, hkdfExpandSync } from '../backends/hkdf.js';
import { syncGcmOf, type KeyedHmac, type SyncAesGcm, type SyncGcm } from '../backends/sync.js';
import { EnsealError, chunkAuthError } from '../errors.js';

/** Parameters of one Cobblestone instantiation. */
export interface ChunkedSuite {
  /** Name used in documentation, e.g. `Cobblestone-256`. */
  readonly name: string;
  /** IANA AEAD registry name, part of the HKDF info (spec §"Key derivation"). */
  readonly aead: 'AEAD_AES_256_GCM' | 'AEAD_AES_128_GCM';
  /** HKDF-Expand hash. */
  readonly hash: HashName;
  /** AEAD key length = input key length, in bytes. */
  readonly keyLengthInBytes: 16 | 32;
}

/** Cobblestone-256: HKDF-SHA-512 + AES-256-GCM. enseal's payload layer. */
export const COBBLESTONE_256: ChunkedSuite = Object.freeze({
  name: 'Cobblestone-256',
  aead: 'AEAD_AES_256_GCM',
  hash: 'SHA-512',
  keyLengthInBytes: 32,
});

/** Cobblestone-128: HKDF-SHA-512 + AES-128-GCM (spec's recommended instantiation uses SHA-256; Cobblestone uses SHA-512). */
export const COBBLESTONE_128: ChunkedSuite = Object.freeze({
  name: 'Cobblestone-128',
  aead: 'AEAD_AES_128_GCM',
  hash: 'SHA-512',
  keyLengthInBytes: 16,
});

/** Salt length (spec: "a sequence of 24 bytes"). */
export const SALT_LENGTH = 24;
/** Commitment length (spec: "MUST be of 32 bytes"). */
export const COMMITMENT_LENGTH = 32;
/** Bytes before the first chunk: salt || commitment. */
export const PREAMBLE_LENGTH = SALT_LENGTH + COMMITMENT_LENGTH;
/** Plaintext bytes in every chunk but the last (spec §"Message chunking": 16 KiB). */
export const CHUNK_SIZE = 16384;
/** AES-GCM tag length. */
export const TAG_LENGTH = 16;
/** Ciphertext bytes of a full chunk. */
export const SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_LENGTH;
/** Nonce length of AES-GCM. */
export const NONCE_LENGTH = 12;
/** Chunk count limit (spec: "MUST NOT exceed 2^38 chunks"). */
export const MAX_CHUNKS = 2 ** 38;

const INFO_PREFIX = utf8('c2sp.org/chunked-encryption@v1+');
const infoPrefixes = new Map<string, Bytes>();

/** `"c2sp.org/chunked-encryption@v1+" || aead || 0x00` (spec §"Key derivation"), encoded once per AEAD. */
function infoPrefix(suite: ChunkedSuite): Bytes {
  let p = infoPrefixes.get(suite.aead);
  if (p === undefined) {
    p = concat(INFO_PREFIX, utf8(suite.aead), Uint8Array.of(0));
    infoPrefixes.set(suite.aead, p);
  }
  return p;
}

/**
 * Number of chunks for a plaintext of `n` bytes: always ⌊n / 16384⌋ + 1, because the final chunk
 * is short and may be empty (spec §"Message chunking").
 */
export function chunkCount(plaintextLength: number): number {
  return Math.floor(plaintextLength / CHUNK_SIZE) + 1;
}

/**
 * Ciphertext size of a C2SP message holding `n` plaintext bytes (56-byte preamble included).
 * @throws RangeError for a negative, non-integer or over-limit size
 */
export function sealedSize(plaintextLength: number): number {
  checkLength(plaintextLength, 'plaintextLength');
  const chunks = chunkCount(plaintextLength);
  if (chunks > MAX_CHUNKS) throw new RangeError(`"plaintextLength" exceeds the 2^38-chunk limit`);
  return PREAMBLE_LENGTH + plaintextLength + chunks * TAG_LENGTH;
}

/**
 * Plaintext size of a C2SP message of `n` ciphertext bytes, from the length alone (not yet
 * authenticated: see spec §"Implementation notes").
 * @throws EnsealError `ERR_TRUNCATED` for a length no valid message has
 */
export function openedSize(sealedLength: number): number {
  checkLength(sealedLength, 'sealedLength');
  if (sealedLength < PREAMBLE_LENGTH + TAG_LENGTH) {
    throw new EnsealError(
      'ERR_TRUNCATED',
      `ciphertext was tampered with or truncated: a payload of ${sealedLength} bytes cannot hold the ${PREAMBLE_LENGTH}-byte preamble and a final chunk`,
    );
  }
  const body = sealedLength - PREAMBLE_LENGTH;
  const full = Math.floor(body / SEALED_CHUNK_SIZE);
  const rest = body % SEALED_CHUNK_SIZE;
  // A final chunk shorter than a tag means the message was cut inside a chunk, or right after a
  // full chunk (the mandatory short final chunk is missing).
  if (rest < TAG_LENGTH) throw missingFinalChunk();
  if (full + 1 > MAX_CHUNKS) throw new EnsealError('ERR_LIMIT', 'ciphertext exceeds the 2^38-chunk limit');
  return full * CHUNK_SIZE + rest - TAG_LENGTH;
}

/**
 * The error of a message that ends inside a chunk, or right after a full chunk.
 * @returns a fresh `EnsealError` `ERR_TRUNCATED`
 * @example
 * ```ts
 * if (rest < TAG_LENGTH) throw missingFinalChunk();
 * ```
 */
export function missingFinalChunk(): EnsealError {
  return new EnsealError('ERR_TRUNCATED', 'ciphertext was tampered with or truncated: it ends without a short final chunk');
}

/**
 * The error of a chunk whose tag did not verify (fixed message plus the index, never bytes).
 * @param index - the chunk index
 * @returns a fresh `EnsealError` `ERR_AUTH` with `chunk = index`
 * @example
 * ```ts
 * chunkFailure(3).message; // "chunk 3 failed authentication: ciphertext was tampered with or truncated"
 * ```
 */
export function chunkFailure(index: number): EnsealError {
  const e = chunkAuthError(index);
  return new EnsealError('ERR_AUTH', `${e.message}: ciphertext was tampered with or truncated`, { chunk: index });
}

/** Throws RangeError unless `n` is a non-negative safe integer. */
export function checkLength(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`"${name}" expected a non-negative integer, got ${n}`);
}

/** The per-message secrets derived from the input key (spec §"Key derivation"). */
export interface MessageKeys {
  readonly cipher: ChunkCipher;
  readonly commitment: Bytes;
}

/**
 * Derives key, base nonce and commitment for one message.
 * @throws RangeError when `inputKey` is not the suite's key length
 */
export async function deriveMessageKeys(
  backend: CryptoBackend,
  suite: ChunkedSuite,
  inputKey: Uint8Array,
  salt: Uint8Array,
  context: Uint8Array,
): Promise<MessageKeys> {
  if (!(inputKey instanceof Uint8Array) || inputKey.length !== suite.keyLengthInBytes) {
    throw new RangeError(`"inputKey" expected ${suite.keyLengthInBytes} bytes for ${suite.name}, got ${inputKey?.length}`);
  }
  if (salt.length !== SALT_LENGTH) throw new RangeError(`"salt" expected ${SALT_LENGTH} bytes, got ${salt.length}`);
  const kl = suite.keyLengthInBytes;
  // info = "c2sp.org/chunked-encryption@v1+" || aead || 0x00 || salt || context
  const info = concat(infoPrefix(suite), salt, context);
  const okm = await hkdfExpand(backend, suite.hash, inputKey, info, kl + NONCE_LENGTH + COMMITMENT_LENGTH);
  const key = okm.subarray(0, kl);
  try {
    const aead = await backend.aesGcm(key);
    return {
      cipher: new ChunkCipher(aead, copyBytes(okm.subarray(kl, kl + NONCE_LENGTH))),
      commitment: copyBytes(okm.subarray(kl + NONCE_LENGTH)),
    };
  } finally {
    wipe(okm);
  }
}

/** Buffer of {@link infoView}, shared: the info string (salt and context) is not secret. */
let infoScratch = new Uint8Array(256);

/** The HKDF info of a message as a view of a shared buffer, valid until the next call (synchronous use only). */
function infoView(suite: ChunkedSuite, salt: Uint8Array, context: Uint8Array): Uint8Array {
  const prefix = infoPrefix(suite);
  const n = prefix.length + salt.length + context.length;
  if (infoScratch.length < n) infoScratch = new Uint8Array(Math.max(n, 2 * infoScratch.length));
  infoScratch.set(prefix, 0);
  infoScratch.set(salt, prefix.length);
  infoScratch.set(context, prefix.length + salt.length);
  return infoScratch.subarray(0, n);
}

/**
 * {@link deriveMessageKeys}, synchronously, with an HMAC already keyed with the input key (so
 * the header MAC key, FORMAT.md §2.4, can be expanded from the same keying) and a synchronous
 * AES-GCM key factory (node:crypto). Same bytes as {@link deriveMessageKeys}.
 * @param suite - the Cobblestone instantiation
 * @param keyed - HMAC-`suite.hash` keyed with the input key (not disposed here)
 * @param makeGcm - prepares the message's AEAD key
 * @param salt - 24 bytes
 * @param context - the C2SP context (enseal: the header's bound part)
 * @returns the chunk cipher (the caller disposes it) and the commitment
 * @throws RangeError when `salt` is not 24 bytes
 * @example
 * ```ts
 * const { cipher, commitment } = deriveMessageKeysSync(COBBLESTONE_256, keyed, syncAesGcmOf(b)!, salt, bound);
 * ```
 */
export function deriveMessageKeysSync(suite: ChunkedSuite, keyed: KeyedHmac, makeGcm: SyncAesGcm, salt: Uint8Array, context: Uint8Array): MessageKeys {
  if (salt.length !== SALT_LENGTH) throw new RangeError(`"salt" expected ${SALT_LENGTH} bytes, got ${salt.length}`);
  const kl = suite.keyLengthInBytes;
  // spec §"Key derivation": key || base_nonce || commitment = HKDF-Expand(input key, info, …)
  const info = infoView(suite, salt, context);
  const length = kl + NONCE_LENGTH + COMMITMENT_LENGTH;
  // The SHA-2 module hands the output over inside its own memory (wiped after): the three parts
  // are copied straight out, no buffer of their own for the 76 bytes.
  const split = (okm: Uint8Array): MessageKeys => {
    const aead = makeGcm(okm.subarray(0, kl));
    return { cipher: new ChunkCipher(aead, copyBytes(okm.subarray(kl, kl + NONCE_LENGTH))), commitment: copyBytes(okm.subarray(kl + NONCE_LENGTH)) };
  };
  const direct = keyed.expandWith?.(info, length, split);
  if (direct !== undefined) return direct;
  const okm = hkdfExpandSync(keyed, hashLength[suite.hash], info, length);
  try {
    return split(okm);
  } finally {
    wipe(okm);
  }
}

/**
 * {@link openPreamble}, synchronously (see {@link deriveMessageKeysSync}): the commitment is
 * checked in constant time before any chunk is touched.
 * @param suite - the Cobblestone instantiation
 * @param keyed - HMAC-`suite.hash` keyed with the input key (not disposed here)
 * @param makeGcm - prepares the message's AEAD key
 * @param preamble - the message's first 56 bytes
 * @param context - the C2SP context
 * @returns the message's chunk cipher (the caller disposes it)
 * @throws EnsealError `ERR_AUTH` on a commitment mismatch
 * @example
 * ```ts
 * const cipher = openPreambleSync(COBBLESTONE_256, keyed, syncAesGcmOf(b)!, payload.subarray(0, 56), bound);
 * ```
 */
export function openPreambleSync(suite: ChunkedSuite, keyed: KeyedHmac, makeGcm: SyncAesGcm, preamble: Uint8Array, context: Uint8Array): ChunkCipher {
  const { cipher, commitment } = deriveMessageKeysSync(suite, keyed, makeGcm, preamble.subarray(0, SALT_LENGTH), context);
  if (!constantTimeEqual(commitment, preamble.subarray(SALT_LENGTH, PREAMBLE_LENGTH))) {
    cipher.dispose();
    throw commitmentFailure();
  }
  return cipher;
}

function commitmentFailure(): EnsealError {
  return new EnsealError('ERR_AUTH', 'key commitment check failed (wrong key, wrong context, or modified ciphertext)');
}

/**
 * Derives the message keys and checks the stored commitment in constant time before any chunk
 * is touched (spec: "implementations MUST check the commitment matches the derived value").
 * @throws EnsealError `ERR_AUTH` on mismatch (wrong key, wrong context, or a modified preamble)
 */
export async function openPreamble(
  backend: CryptoBackend,
  suite: ChunkedSuite,
  inputKey: Uint8Array,
  preamble: Uint8Array,
  context: Uint8Array,
): Promise<ChunkCipher> {
  const salt = preamble.subarray(0, SALT_LENGTH);
  const { cipher, commitment } = await deriveMessageKeys(backend, suite, inputKey, salt, context);
  if (!constantTimeEqual(commitment, preamble.subarray(SALT_LENGTH, PREAMBLE_LENGTH))) {
    cipher.dispose();
    throw commitmentFailure();
  }
  return cipher;
}

/**
 * Owns the AEAD key and base nonce of one message and derives every chunk nonce; every call
 * names the chunk index it is for. Once disposed, every call, including one still awaiting the
 * backend when `dispose()` ran, fails with `ERR_STATE` and releases no plaintext.
 */
export class ChunkCipher {
  readonly #aead: AesGcmKey;
  readonly #sync: SyncGcm | undefined;
  readonly #baseNonce: Bytes;
  #disposed = false;

  /**
   * @param aead - the message's AEAD key (owned by this object: disposed with it)
   * @param baseNonce - 12-byte base nonce (owned by this object)
   */
  constructor(aead: AesGcmKey, baseNonce: Bytes) {
    this.#aead = aead;
    this.#sync = syncGcmOf(aead);
    this.#baseNonce = baseNonce;
  }

  /** Whether {@link dispose} ran. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Whether the synchronous chunk methods ({@link sealChunksSync}, {@link openChunksSync},
   * {@link sealSync}, {@link openSync}) are available: the backend key has synchronous
   * operations (node:crypto). Callers use them instead of the promise-returning ones, with the
   * same results and errors.
   */
  get sync(): boolean {
    return this.#sync !== undefined;
  }

  #syncLive(first: number, count: number): SyncGcm {
    this.#live();
    if (this.#sync === undefined) throw new TypeError('this chunk cipher has no synchronous operations (check `sync` first)');
    if (!Number.isSafeInteger(first) || first < 0) throw new RangeError(`"index" expected a non-negative integer, got ${first}`);
    if (first + Math.max(count, 1) > MAX_CHUNKS) throw new EnsealError('ERR_LIMIT', 'message exceeds the 2^38-chunk limit');
    return this.#sync;
  }

  /**
   * {@link sealChunks}, synchronously: appends the sealed pieces of chunks `first, first+1, …`
   * to `out` (ciphertext and tag of each chunk, no copy).
   * @throws EnsealError `ERR_STATE` once disposed, `ERR_LIMIT` at 2^38 chunks; TypeError
   *   unless {@link sync}
   */
  sealChunksSync(first: number, plaintexts: readonly Uint8Array[], out: Bytes[]): void {
    this.#syncLive(first, plaintexts.length).sealChunksSync(this.#baseNonce, first, plaintexts, out);
  }

  /**
   * {@link openChunks}, synchronously: appends the plaintexts of chunks `first, first+1, …` to
   * `out` only when every one of them authenticated (nothing is appended otherwise).
   * @throws EnsealError `ERR_AUTH` with `chunk` = the index of the first chunk that failed;
   *   `ERR_STATE` once disposed; TypeError unless {@link sync}
   */
  openChunksSync(first: number, sealed: readonly Uint8Array[], out: Bytes[]): void {
    const s = this.#syncLive(first, sealed.length);
    try {
      s.openChunksSync(this.#baseNonce, first, sealed, out);
    } catch (e) {
      if (e instanceof EnsealError && e.code === 'ERR_AUTH') throw chunkFailure(first + (e.chunk ?? 0));
      throw e;
    }
  }

  /**
   * {@link seal}, synchronously.
   * @returns `ciphertext || tag` of chunk `index`
   * @throws as {@link sealChunksSync}
   */
  sealSync(index: number, plaintext: Uint8Array): Bytes {
    return this.#syncLive(index, 1).sealSync(this.nonce(index), plaintext);
  }

  /**
   * {@link open}, synchronously.
   * @returns the authenticated plaintext of chunk `index`
   * @throws as {@link openChunksSync}
   */
  openSync(index: number, sealed: Uint8Array): Bytes {
    const s = this.#syncLive(index, 1);
    try {
      return s.openSync(this.nonce(index), sealed);
    } catch (e) {
      if (e instanceof EnsealError && e.code === 'ERR_AUTH') throw chunkFailure(index);
      throw e;
    }
  }

  #live(): void {
    if (this.#disposed) throw disposedCipher();
  }

  /** Checks the cipher once an awaited backend call settled; wipes `out` if it was disposed. */
  #after<T extends Bytes | Bytes[]>(out: T): T {
    if (this.#disposed) {
      for (const b of (Array.isArray(out) ? out : [out]) as Bytes[]) b.fill(0);
      throw disposedCipher();
    }
    return out;
  }

  /**
   * nonce_i = base_nonce XOR i as a 96-bit big-endian integer; i < 2^38 touches only the last
   * 5 bytes (spec §"AEAD usage").
   * @param index - the chunk index
   * @returns a fresh 12-byte nonce
   * @throws EnsealError `ERR_LIMIT` when `index` reaches 2^38; `ERR_STATE` once disposed
   */
  nonce(index: number): Bytes {
    this.#live();
    if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`"index" expected a non-negative integer, got ${index}`);
    if (index >= MAX_CHUNKS) throw new EnsealError('ERR_LIMIT', 'message exceeds the 2^38-chunk limit');
    const n = this.#baseNonce.slice();
    const hi = Math.floor(index / 2 ** 32); // < 2^6
    const lo = index >>> 0;
    n[7] = (n[7] as number) ^ hi;
    n[8] = (n[8] as number) ^ (lo >>> 24);
    n[9] = (n[9] as number) ^ ((lo >>> 16) & 0xff);
    n[10] = (n[10] as number) ^ ((lo >>> 8) & 0xff);
    n[11] = (n[11] as number) ^ (lo & 0xff);
    return n;
  }

  /**
   * Encrypts chunk `index`; the AEAD's AAD is empty (spec: "MUST be empty").
   * @throws EnsealError `ERR_STATE` once disposed
   */
  async seal(index: number, plaintext: Uint8Array): Promise<Bytes> {
    return this.#after(await this.#aead.seal(this.nonce(index), plaintext));
  }

  /**
   * Decrypts and authenticates chunk `index`.
   * @throws EnsealError `ERR_AUTH` with `chunk = index` on failure; `ERR_STATE` once disposed
   */
  async open(index: number, sealed: Uint8Array): Promise<Bytes> {
    const nonce = this.nonce(index);
    let pt: Bytes;
    try {
      pt = await this.#aead.open(nonce, sealed);
    } catch (e) {
      this.#live();
      if (e instanceof EnsealError && e.code === 'ERR_AUTH') throw chunkFailure(index);
      throw e;
    }
    return this.#after(pt);
  }

  /**
   * Seals chunks `first, first+1, …` in one backend call.
   * @returns pieces whose concatenation is the sealed chunks, in order
   * @throws EnsealError `ERR_STATE` once disposed
   */
  async sealChunks(first: number, plaintexts: readonly Uint8Array[]): Promise<Bytes[]> {
    const nonces = plaintexts.map((_, i) => this.nonce(first + i));
    return this.#after(await this.#aead.sealBatch(nonces, plaintexts));
  }

  /**
   * Opens chunks `first, first+1, …` in one backend call.
   * @returns their plaintexts, each authenticated
   * @throws EnsealError `ERR_AUTH` with `chunk` = the index of the first chunk that failed;
   *   `ERR_STATE` once disposed
   */
  async openChunks(first: number, sealed: readonly Uint8Array[]): Promise<Bytes[]> {
    const nonces = sealed.map((_, i) => this.nonce(first + i));
    let pts: Bytes[];
    try {
      pts = await this.#aead.openBatch(nonces, sealed);
    } catch (e) {
      this.#live();
      if (e instanceof EnsealError && e.code === 'ERR_AUTH') throw chunkFailure(first + (e.chunk ?? 0));
      throw e;
    }
    return this.#after(pts);
  }

  /** Wipes the base nonce and disposes the AEAD key. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#baseNonce.fill(0);
    this.#aead.dispose();
  }
}

function disposedCipher(): EnsealError {
  return new EnsealError('ERR_STATE', 'the message keys were disposed (stream cancelled, reader closed, or message finished)');
}
