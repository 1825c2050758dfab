/**
 * `rewrap`: changes an object's recipients without touching its payload (key rotation, adding or
 * revoking readers). It works because the payload is bound only to the header's *bound part*
 * (magic, version, suite, encryption context; docs/FORMAT.md §2.3), which rewrapping never
 * changes, while the recipients are authenticated by the header MAC (§2.4), which is recomputed
 * here with the data key.
 *
 * @module
 */
import { assertBytes, whileAttached, wipe, type Bytes } from '../bytes.js';
import { appendHeaderMac } from '../format/header-mac.js';
import { encodeHeaderBody, type Stanza } from '../format/header.js';
import { MAX_RECIPIENTS } from '../format/limits.js';
import { chargeKeptPassphraseStanzas } from '../keys/passphrase.js';
import { checkProviders, type KeyProvider, type WrapContext } from '../keys/provider.js';
import { checkDecryptOptions, unlockHeader, type DecryptOptions } from './options.js';
import type { CryptoBackend } from '../backends/backend.js';

/** Options of {@link rewrap}. */
export interface RewrapOptions extends DecryptOptions {
  /** New recipients: each wraps the object's data key into a new stanza (appended). */
  add?: readonly KeyProvider[];
  /**
   * Stanzas to drop: key ids (a stanza whose `keyId` is listed is removed), or a predicate
   * returning `true` for each stanza to remove.
   */
  remove?: readonly string[] | ((stanza: Stanza) => boolean);
}

function removalPredicate(remove: RewrapOptions['remove']): (s: Stanza) => boolean {
  if (typeof remove === 'function') return remove;
  if (Array.isArray(remove) && remove.every((k) => typeof k === 'string')) return (s) => remove.includes(s.keyId);
  throw new TypeError('"remove" expected an array of key ids or a predicate');
}

/**
 * Re-wraps an object's data key: unlocks the header with `keys` (checking the expected context
 * and the header MAC), removes the stanzas selected by `remove`, appends one stanza per `add`
 * provider, and returns the new header. The payload is unchanged: the new object is
 * `newHeader || object.subarray(oldHeaderLength)` (see `inspect(...).headerLength`).
 *
 * Rewrap or rotate? The data key does not change: a removed recipient who ever unwrapped it can
 * still read the object, and forge a new payload with a valid header MAC for it. Use `rewrap` to
 * add readers or drop one that never held the data key; after a compromise, re-encrypt with
 * `rotate` (a fresh data key).
 *
 * @param bytes - the object, or at least its whole header
 * @param opts - `keys` to unlock it, `add`, `remove`, expected `context`, `backend`
 * @returns the new header bytes
 * @throws RangeError when no recipient would remain, or more than 64 would
 * @throws EnsealError as `decrypt` for the header: `ERR_HEADER`, `ERR_CONTEXT`, `ERR_NO_KEY`, `ERR_AUTH`
 * @example
 * ```ts
 * const header = await rewrap(object, { keys: [oldKey], add: [newKey], remove: [oldKeyId] });
 * const rotated = concat(header, object.subarray(inspect(object).headerLength));
 * ```
 */
export async function rewrap(bytes: Uint8Array, opts: RewrapOptions): Promise<Bytes> {
  assertBytes(bytes, 'bytes');
  const backend = checkDecryptOptions(opts);
  const add = opts.add ?? [];
  if (add.length > 0) checkProviders(add, 'add');
  const drop = removalPredicate(opts.remove ?? []);
  return whileAttached(bytes, 'bytes', () => rewrapHeader(bytes, opts, backend, add, drop));
}

/** The body of {@link rewrap} once the options are checked: unlock, keep, add, re-MAC. */
async function rewrapHeader(bytes: Uint8Array, opts: RewrapOptions, backend: CryptoBackend, add: readonly KeyProvider[], drop: (s: Stanza) => boolean): Promise<Bytes> {
  const { header, dataKey } = await unlockHeader(bytes, opts, backend);
  try {
    const kept = header.recipients.filter((s) => !drop(s));
    const total = kept.length + add.length;
    if (total < 1 || total > MAX_RECIPIENTS) {
      throw new RangeError(`rewrap would leave ${total} recipients; expected 1..${MAX_RECIPIENTS}`);
    }
    const ctx: WrapContext = { aad: header.bound, encryptionContext: header.context, backend };
    // Added passphrase recipients share one KDF budget with the kept ones (what a reader will try).
    chargeKeptPassphraseStanzas(ctx, kept);
    const added: Stanza[] = [];
    for (const p of add) added.push(await p.wrap(dataKey, ctx));
    return await appendHeaderMac(backend, dataKey, encodeHeaderBody(header.context, [...kept, ...added]));
  } finally {
    wipe(dataKey);
  }
}
