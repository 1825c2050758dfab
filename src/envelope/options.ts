/**
 * Options of the envelope API and the steps every envelope operation shares: sealing a header
 * for the recipients, and unlocking a header with the caller's keys.
 *
 * @module
 */
import { wipe, type Bytes } from '../bytes.js';
import { getBackend, type BackendChoice } from '../backends/select.js';
import type { CryptoBackend } from '../backends/backend.js';
import { EnsealError } from '../errors.js';
import { appendHeaderMac, appendHeaderMacWithKey, headerMacKey, verifyHeaderMac } from '../format/header-mac.js';
import { decodeHeader, encodeBound, encodeHeaderBody, type EncryptionContext, type Header } from '../format/header.js';
import { checkProviders, unwrapDataKey, wrapDataKey, type KeyProvider, type WrapContext } from '../keys/provider.js';
import type { WorkersOption } from '../pool/session.js';

/** Options common to every envelope call. */
export interface BackendOptions {
  /** Force a backend (`'node'` or `'webcrypto'`); default: node:crypto where available. */
  backend?: BackendChoice;
}

/** The worker pool option of `encrypt`/`decrypt` and the stream APIs (src/pool/). */
export interface WorkerOptions {
  /**
   * Seal/open chunk batches on worker threads: a thread count (the shared pool of that many
   * threads: started on first use, reused by later calls, its idle threads never keep the process
   * alive, closed after 10 s without a message; src/pool/shared.ts) or a pool from `createPool()`
   * (yours; you close it). Output is byte-identical; default: none (the calling thread). Ranged
   * reads ignore it.
   */
  workers?: WorkersOption;
}

/** Options of `encrypt` and `encryptStream`. */
export interface EncryptOptions extends BackendOptions, WorkerOptions {
  /** Who can decrypt: one or more key providers (each wraps the data key into a stanza). */
  recipients: readonly KeyProvider[];
  /**
   * Encryption context: non-secret key/value pairs stored in the header and bound to the
   * ciphertext (an edit fails authentication). Decryption can require expected values.
   */
  context?: EncryptionContext;
}

/** Options of `decrypt`, `decryptStream`, `decryptRange` and `openReader`. */
export interface DecryptOptions extends BackendOptions, WorkerOptions {
  /** Candidate keys; each recipient stanza is offered to each of them. */
  keys: readonly KeyProvider[];
  /**
   * Expected encryption context: every pair given here must be present in the header with the
   * same value, else `ERR_CONTEXT` (checked before any key is unwrapped). Extra pairs in the
   * header are allowed.
   */
  context?: EncryptionContext;
}

/** A freshly sealed header and the data key it protects (the caller wipes `dataKey`). */
export interface SealedHeader {
  readonly header: Bytes;
  readonly bound: Bytes;
  readonly dataKey: Bytes;
}

/** Validates encrypt options, creates the data key, wraps it for every recipient, MACs the header. */
export async function sealHeader(opts: EncryptOptions, backend: CryptoBackend): Promise<SealedHeader> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected an object with recipients');
  checkProviders(opts.recipients, 'recipients');
  const context = opts.context ?? {};
  const bound = encodeBound(context); // validates the context before any provider is called
  const ctx: WrapContext = { aad: bound, encryptionContext: context, backend };
  const { dataKey, stanzas } = await wrapDataKey(opts.recipients, ctx);
  try {
    const header = await appendHeaderMac(backend, dataKey, encodeHeaderBody(context, stanzas));
    return { header, bound, dataKey };
  } catch (e) {
    wipe(dataKey);
    throw e;
  }
}

/**
 * {@link sealHeader}, deriving the header MAC key as soon as the data key exists (concurrently
 * with the recipients' wraps), and running `derive(dataKey, bound)` (the payload key
 * derivation) as soon as the last recipient's wrap was called, concurrently with it and with the
 * header MAC: on asynchronous backends (WebCrypto) the chains of platform calls overlap instead
 * of adding up. On failure the derivation's result is
 * handed to `discard` once it settles.
 * @param opts - encrypt options
 * @param backend - the backend of the call
 * @param derive - derives what the payload needs from the data key and the bound header part
 * @param discard - releases a derived value that will not be used (disposes its keys)
 * @returns the sealed header, its data key (the caller wipes it) and the derived value
 * @throws whatever {@link sealHeader} or `derive` throws
 * @example
 * ```ts
 * const { header, dataKey, derived } = await sealHeaderWith(opts, b, (k, bound) => deriveMessageKeys(b, suite, k, salt, bound), (k) => k.cipher.dispose());
 * ```
 */
export async function sealHeaderWith<T>(
  opts: EncryptOptions,
  backend: CryptoBackend,
  derive: (dataKey: Bytes, bound: Bytes) => Promise<T>,
  discard: (derived: T) => void,
): Promise<SealedHeader & { derived: T }> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected an object with recipients');
  checkProviders(opts.recipients, 'recipients');
  const context = opts.context ?? {};
  const bound = encodeBound(context); // validates the context before any provider is called
  const ctx: WrapContext = { aad: bound, encryptionContext: context, backend };
  let derived: Promise<T> | undefined;
  let macKey: Promise<Bytes> | undefined;
  const start = (dataKey: Bytes): void => {
    macKey = headerMacKey(backend, dataKey);
    macKey.catch(() => undefined); // awaited below, or wiped
  };
  let dataKey: Bytes | undefined;
  // Started once the last recipient's wrap was called (concurrently with it: on WebCrypto the
  // payload key import overlaps the wrap), so that the random draws keep their order (data key,
  // the recipients' own randomness, then what `derive` draws: the salt), as
  // test/vectors/enseal-v1.json replays, for every provider that draws before its first await.
  const startDerive = (key: Bytes): void => {
    derived = derive(key, bound);
    derived.catch(() => undefined); // awaited below, or discarded
  };
  try {
    const wrapped = await wrapDataKey(opts.recipients, ctx, start, startDerive);
    dataKey = wrapped.dataKey;
    if (macKey === undefined) start(dataKey);
    if (derived === undefined) startDerive(dataKey);
    const body = encodeHeaderBody(context, wrapped.stanzas);
    const [header, value] = await Promise.all([macKey!.then((k) => appendHeaderMacWithKey(backend, k, body)), derived!]);
    return { header, bound, dataKey, derived: value };
  } catch (e) {
    derived?.then(discard, () => undefined);
    macKey?.then(wipe, () => undefined);
    wipe(dataKey);
    throw e;
  }
}

/** Validates decrypt options. */
export function checkDecryptOptions(opts: DecryptOptions): CryptoBackend {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected an object with keys');
  checkProviders(opts.keys, 'keys');
  if (opts.context !== undefined && (typeof opts.context !== 'object' || opts.context === null)) {
    throw new TypeError('"context" expected a string map');
  }
  return getBackend(opts.backend);
}

/**
 * Checks the expected context, unwraps the data key, and verifies the header MAC — all before
 * any payload byte is decrypted.
 * @returns the decoded header and the data key (caller wipes it)
 * @throws EnsealError `ERR_HEADER`/`ERR_UNSUPPORTED`/`ERR_TRUNCATED` (decoding), `ERR_CONTEXT`,
 *   `ERR_NO_KEY`, `ERR_AUTH` (header MAC)
 */
export async function unlockHeader(
  headerBytes: Uint8Array,
  opts: DecryptOptions,
  backend: CryptoBackend,
): Promise<{ header: Header; dataKey: Uint8Array }> {
  const header = decodeHeader(headerBytes);
  for (const [k, v] of Object.entries(opts.context ?? {})) {
    if (!Object.hasOwn(header.context, k) || header.context[k] !== v) {
      throw new EnsealError('ERR_CONTEXT', `encryption context does not match the expected value of "${k}"`);
    }
  }
  const ctx: WrapContext = { aad: header.bound, encryptionContext: header.context, backend };
  const dataKey = await unwrapDataKey(header.recipients, opts.keys, ctx);
  try {
    await verifyHeaderMac(backend, dataKey, header);
  } catch (e) {
    wipe(dataKey);
    throw e;
  }
  return { header, dataKey };
}

/**
 * {@link unlockHeader}, running `derive(dataKey, header)` (the payload keys and commitment
 * check) concurrently with the header MAC verification. Nothing derived is used unless the MAC
 * verified, and the MAC's error comes first: a derived value is `discard`ed whenever the MAC
 * fails (also when the derivation failed too).
 * @param headerBytes - the object (its header first)
 * @param opts - decrypt options
 * @param backend - the backend of the call
 * @param derive - called with the unwrapped data key and the decoded header; may return
 *   `undefined` to skip (e.g. too few bytes for a preamble)
 * @param discard - releases a derived value that will not be used
 * @returns the header, the data key (the caller wipes it) and the derivation's outcome (a
 *   rejected derivation is returned as `{ error }`, for the caller to report in its own order)
 * @throws as {@link unlockHeader}
 * @example
 * ```ts
 * const u = await unlockHeaderWith(ct, opts, b, (k, h) => openPreamble(b, suite, k, pre, h.bound), (c) => c.dispose());
 * ```
 */
export async function unlockHeaderWith<T>(
  headerBytes: Uint8Array,
  opts: DecryptOptions,
  backend: CryptoBackend,
  derive: (dataKey: Uint8Array, header: Header) => Promise<T> | undefined,
  discard: (derived: T) => void,
): Promise<{ header: Header; dataKey: Uint8Array; derived: { value: T } | { error: unknown } | undefined }> {
  const header = decodeHeader(headerBytes);
  for (const [k, v] of Object.entries(opts.context ?? {})) {
    if (!Object.hasOwn(header.context, k) || header.context[k] !== v) {
      throw new EnsealError('ERR_CONTEXT', `encryption context does not match the expected value of "${k}"`);
    }
  }
  const ctx: WrapContext = { aad: header.bound, encryptionContext: header.context, backend };
  const dataKey = await unwrapDataKey(header.recipients, opts.keys, ctx);
  const derived = derive(dataKey, header);
  derived?.catch(() => undefined);
  try {
    await verifyHeaderMac(backend, dataKey, header);
  } catch (e) {
    derived?.then(discard, () => undefined);
    wipe(dataKey);
    throw e;
  }
  if (derived === undefined) return { header, dataKey, derived: undefined };
  try {
    return { header, dataKey, derived: { value: await derived } };
  } catch (error) {
    return { header, dataKey, derived: { error } };
  }
}
