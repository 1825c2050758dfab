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
import { appendHeaderMac, verifyHeaderMac } from '../format/header-mac.js';
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
   * Seal/open chunk batches on worker threads: a thread count (a pool of its own, started and
   * closed by the call or stream) or a pool from `createPool()` (shared; you close it). Output is
   * byte-identical; default: none (the calling thread). Ranged reads ignore it.
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
