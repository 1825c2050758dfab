/**
 * What every KMS unwrap shares, strict or discovery: the KMS encryption context of an object
 * (its context plus `enseal:bound`, see `./kms.ts`), the stanza checks, the per-header bound on
 * KMS calls, and the KMS call itself under the key the *provider* chose — never one chosen by
 * the stanza.
 *
 * **Bounded work.** A header may hold 64 stanzas, all naming the reader's key (forged copies),
 * and each KMS call may take seconds (retries, deadline). A provider therefore asks its KMS at
 * most {@link KMS_MAX_DECRYPTS_PER_HEADER} times per header; the ledger is keyed by the header's
 * `WrapContext` object (`unwrapDataKey` makes one per header) in a `WeakMap`.
 *
 * @module
 */
import { escapeControl, isWellFormed, utf8, wipe, toBase64Url } from '../bytes.js';
import { EnsealError } from '../errors.js';
import type { EncryptionContext } from '../format/header.js';
import { DATA_KEY_LENGTH, MAX_KEY_ID_LENGTH } from '../format/limits.js';
import { KMS_BOUND_CONTEXT_KEY, KMS_REQUESTED_PARAM, type KmsClient } from './kms-client.js';
import type { WrapContext } from './provider.js';

/**
 * Checks a key id: a non-empty, well-formed string of at most 2048 UTF-8 bytes (FORMAT.md §3).
 * @param id - the value
 * @param what - its name, for the message
 * @throws TypeError/RangeError when it is not one
 * @example
 * ```ts
 * checkKeyId(opts.keyId, '"keyId"'); // narrows to string, or throws
 * ```
 */
export function checkKeyId(id: unknown, what: string): asserts id is string {
  if (typeof id !== 'string' || id.length === 0) throw new TypeError(`${what} expected a non-empty string`);
  if (!isWellFormed(id)) throw new TypeError(`${what} expected a well-formed string (lone UTF-16 surrogate)`);
  const n = utf8(id).length;
  if (n > MAX_KEY_ID_LENGTH) throw new RangeError(`${what} expected at most ${MAX_KEY_ID_LENGTH} bytes, got ${n}`);
}

/**
 * A KMS returned something enseal cannot store or use: not retried, not a denial.
 * @param description - the provider's description
 * @param what - what was wrong
 * @returns the error to throw
 * @example
 * ```ts
 * throw malformed('kms-aws:alias/x', 'an empty ciphertext');
 * ```
 */
export function malformed(description: string, what: string): EnsealError {
  return new EnsealError('ERR_KMS_UNAVAILABLE', `${description}: the KMS returned ${what}`);
}

/**
 * The KMS encryption context for an object: its context plus `enseal:bound`.
 * @param ctx - the provider's wrap context
 * @returns a new map (the reserved key is checked by the caller)
 */
async function kmsContextFor(ctx: WrapContext): Promise<EncryptionContext> {
  const digest = await ctx.backend.digest('SHA-256', ctx.aad);
  return Object.fromEntries([...Object.entries(ctx.encryptionContext), [KMS_BOUND_CONTEXT_KEY, toBase64Url(digest)]]);
}

/**
 * The KMS encryption context of an object, refusing a context that already holds the reserved
 * key.
 * @param ctx - the provider's wrap context
 * @param writing - true on wrap (misuse: TypeError), false on unwrap (data: `ERR_CONTEXT`)
 * @returns the context plus `enseal:bound`
 * @throws TypeError (writing) or EnsealError `ERR_CONTEXT` (reading) when the object's context
 *   already holds `enseal:bound`
 * @example
 * ```ts
 * const kctx = await contextOrThrow(ctx, false); // { ...ctx.encryptionContext, 'enseal:bound': '…' }
 * ```
 */
export async function contextOrThrow(ctx: WrapContext, writing: boolean): Promise<EncryptionContext> {
  if (Object.hasOwn(ctx.encryptionContext, KMS_BOUND_CONTEXT_KEY)) {
    const msg = `encryption context key "${KMS_BOUND_CONTEXT_KEY}" is reserved for KMS binding`;
    throw writing ? new TypeError(msg) : new EnsealError('ERR_CONTEXT', msg);
  }
  return kmsContextFor(ctx);
}

/** Most KMS decrypt calls one provider makes for one header. */
export const KMS_MAX_DECRYPTS_PER_HEADER = 4;

/** A provider's ledger of KMS calls per header (keyed by the header's `WrapContext`). */
export type KmsCallLedger = WeakMap<object, number>;

/**
 * Decrypts a claimed stanza's blob under `keyId`, the key the provider chose (strict: its
 * configured key; discovery: the stanza's, after the provider's checks).
 * @param client - the KMS client
 * @param type - the stanza type (`kms-<client type>`)
 * @param description - for messages
 * @param keyId - the key the KMS must decrypt under
 * @param params - the stanza's params (only `requested` is allowed)
 * @param wrapped - the KMS blob
 * @param ctx - the wrap context
 * @param ledger - the provider's calls per header
 * @returns the 32-byte data key (the caller wipes it)
 * @throws EnsealError `ERR_HEADER` (unknown params), `ERR_CONTEXT` (reserved key), `ERR_LIMIT`
 *   (this provider already asked its KMS {@link KMS_MAX_DECRYPTS_PER_HEADER} times for this
 *   header), `ERR_AUTH` (a data key of the wrong length, wiped), or the client's `ERR_KMS_*`
 * @example
 * ```ts
 * const ledger: KmsCallLedger = new WeakMap();
 * const dataKey = await decryptStanza(client, 'kms-aws', 'kms-aws:alias/x', canonicalArn, stanza.params, stanza.wrapped, ctx, ledger);
 * ```
 */
export async function decryptStanza(
  client: KmsClient,
  type: string,
  description: string,
  keyId: string,
  params: Readonly<Record<string, string>>,
  wrapped: Uint8Array,
  ctx: WrapContext,
  ledger: KmsCallLedger,
): Promise<Uint8Array> {
  const extra = Object.keys(params).filter((k) => k !== KMS_REQUESTED_PARAM);
  if (extra.length > 0) throw new EnsealError('ERR_HEADER', `${type} stanza for key "${escapeControl(keyId)}" has unknown params`);
  const kctx = await contextOrThrow(ctx, false);
  // Check and charge in one synchronous step: concurrent unwraps cannot both pass on the last call.
  const spent = ledger.get(ctx) ?? 0;
  if (spent >= KMS_MAX_DECRYPTS_PER_HEADER) {
    throw new EnsealError('ERR_LIMIT', `${description}: already ${spent} KMS decrypt calls for this header (at most ${KMS_MAX_DECRYPTS_PER_HEADER})`);
  }
  ledger.set(ctx, spent + 1);
  const dataKey = await client.decrypt(wrapped, kctx, keyId);
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_LENGTH) {
    if (dataKey instanceof Uint8Array) wipe(dataKey);
    throw new EnsealError('ERR_AUTH', `${description}: the KMS returned a data key of the wrong length`);
  }
  return dataKey;
}
