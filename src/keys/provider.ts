/**
 * The key-provider contract (after typage's `Recipient`/`Identity` and the AWS Encryption SDK's
 * keyrings): a provider wraps a fresh data key into a {@link Stanza} for the header and unwraps
 * stanzas it recognises.
 *
 * - `unwrap` returns `null` for a stanza that is not its own (other type, other key id);
 * - it throws when the stanza is its own but cannot be unwrapped (corrupt, wrong key material,
 *   KMS denied or unreachable);
 * - when no provider unwraps any stanza, enseal throws one `ERR_NO_KEY` error whose `errors`
 *   hold every provider's cause.
 *
 * The functions here are the template around the provider hooks: they check pre- and
 * postconditions (stanza shape, data-key length) so a faulty provider cannot corrupt a header.
 *
 * @module
 */
import type { Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { EnsealError } from '../errors.js';
import { checkStanza, type EncryptionContext, type Stanza } from '../format/header.js';
import { DATA_KEY_LENGTH, MAX_RECIPIENTS } from '../format/limits.js';

export type { Stanza, EncryptionContext } from '../format/header.js';

/** What a provider learns about the object whose data key it wraps or unwraps. */
export interface WrapContext {
  /**
   * Canonical bytes of the header's bound part (magic, version, suite, encryption context).
   * Providers that can authenticate associated data should bind these, so a wrapped key cannot
   * be moved to an object with another context. They do not change on rewrap.
   */
  readonly aad: Uint8Array;
  /** The object's encryption context (KMS providers pass it to the KMS). */
  readonly encryptionContext: EncryptionContext;
  /** The backend in use for this call. */
  readonly backend: CryptoBackend;
}

/** A fresh data key with its first stanza, as a KMS `GenerateDataKey` returns. */
export interface GeneratedDataKey {
  /** The plaintext data key (the caller wipes it after use). */
  readonly dataKey: Bytes;
  /** The stanza wrapping it. */
  readonly stanza: Stanza;
}

/**
 * A source of master keys: customer-managed AES or RSA keys, a KMS, a passphrase, an HSM.
 * All methods may be asynchronous.
 */
export interface KeyProvider {
  /** Short, non-secret label for errors, e.g. `aes256-gcm:backup-2026`. */
  readonly description: string;
  /**
   * Optional: creates the data key itself (a KMS that generates data keys). Used only when this
   * provider is the first recipient; otherwise enseal generates the key and calls `wrap`.
   */
  generateDataKey?(length: number, ctx: WrapContext): Promise<GeneratedDataKey>;
  /** Wraps `dataKey` (do not retain it) into a stanza. */
  wrap(dataKey: Uint8Array, ctx: WrapContext): Promise<Stanza>;
  /**
   * Unwraps a stanza.
   * @returns the data key, or `null` if the stanza is not this provider's
   * @throws when the stanza is this provider's but cannot be unwrapped
   */
  unwrap(stanza: Stanza, ctx: WrapContext): Promise<Uint8Array | null>;
}

function describeProvider(p: KeyProvider): string {
  return typeof p?.description === 'string' ? p.description : 'key provider';
}

/** Checks a list of providers given as `recipients` or `keys`. */
export function checkProviders(list: unknown, name: string): asserts list is readonly KeyProvider[] {
  if (!Array.isArray(list) || list.length === 0) throw new TypeError(`"${name}" expected a non-empty array of key providers`);
  if (list.length > MAX_RECIPIENTS) throw new RangeError(`"${name}" expected at most ${MAX_RECIPIENTS} providers, got ${list.length}`);
  for (const p of list) {
    if (typeof p?.wrap !== 'function' || typeof p?.unwrap !== 'function') {
      throw new TypeError(`"${name}" expected key providers (objects with wrap and unwrap)`);
    }
  }
}

/**
 * Creates a data key and one stanza per recipient. The first recipient generates the key if it
 * can (KMS), else the backend's CSPRNG does.
 * @returns the data key (caller wipes it) and the stanzas in recipient order
 */
export async function wrapDataKey(
  recipients: readonly KeyProvider[],
  ctx: WrapContext,
): Promise<{ dataKey: Bytes; stanzas: Stanza[] }> {
  const [first, ...rest] = recipients as [KeyProvider, ...KeyProvider[]];
  let dataKey: Bytes;
  const stanzas: Stanza[] = [];
  if (first.generateDataKey !== undefined) {
    const g = await first.generateDataKey(DATA_KEY_LENGTH, ctx);
    if (!(g?.dataKey instanceof Uint8Array) || g.dataKey.length !== DATA_KEY_LENGTH) {
      throw new TypeError(`${describeProvider(first)} generated a data key of the wrong length`);
    }
    dataKey = g.dataKey;
    stanzas.push(g.stanza);
  } else {
    dataKey = ctx.backend.randomBytes(DATA_KEY_LENGTH);
    stanzas.push(await first.wrap(dataKey, ctx));
  }
  try {
    for (const p of rest) stanzas.push(await p.wrap(dataKey, ctx));
    for (const s of stanzas) checkStanza(s);
  } catch (e) {
    dataKey.fill(0);
    throw e;
  }
  return { dataKey, stanzas };
}

/**
 * Finds a provider that unwraps one of the stanzas. Stanzas are tried in header order, each
 * with every provider in turn; the first data key returned wins.
 * @throws EnsealError `ERR_NO_KEY` with every provider's cause in `errors`
 */
export async function unwrapDataKey(
  stanzas: readonly Stanza[],
  keys: readonly KeyProvider[],
  ctx: WrapContext,
): Promise<Uint8Array> {
  const errors: unknown[] = [];
  for (const stanza of stanzas) {
    for (const key of keys) {
      let dataKey: Uint8Array | null;
      try {
        dataKey = await key.unwrap(stanza, ctx);
      } catch (e) {
        errors.push(e);
        continue;
      }
      if (dataKey === null) continue;
      if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_LENGTH) {
        errors.push(new EnsealError('ERR_AUTH', `${describeProvider(key)} returned a data key of the wrong length`));
        continue;
      }
      return dataKey;
    }
  }
  const detail = errors.length === 0 ? 'no provider recognised any recipient' : `${errors.length} provider error(s)`;
  throw new EnsealError(
    'ERR_NO_KEY',
    `no key could unwrap the data key (${stanzas.length} recipient(s), ${keys.length} key(s): ${detail})`,
    { errors },
  );
}
