/**
 * The key-provider contract (after typage's `Recipient`/`Identity` and the AWS Encryption SDK's
 * keyrings): a provider wraps a fresh data key into a {@link Stanza} for the header and unwraps
 * stanzas it recognises.
 *
 * - `unwrap` returns `null` for a stanza that is not its own (other type, other key id);
 * - it throws when the stanza is its own but cannot be unwrapped (corrupt, wrong key material,
 *   KMS denied or unreachable);
 * - when no provider unwraps any stanza, enseal throws one `ERR_NO_KEY` error whose `errors`
 *   hold every provider's cause, and whose message lists the object's recipients (type and key
 *   id, escaped) and the keys tried (their descriptions);
 * - a provider whose attempts are expensive (a passphrase KDF) says so with `unwrapCost`: cheap
 *   attempts are made first, expensive ones in ascending cost, so a hostile header cannot make
 *   a reader spend its KDF budget before it reaches a stanza it could open cheaply.
 *
 * The functions here are the template around the provider hooks: they check pre- and
 * postconditions (stanza shape, data-key length) so a faulty provider cannot corrupt a header.
 *
 * @module
 */
import { escapeControl, type Bytes } from '../bytes.js';
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
  /**
   * Optional: how expensive `unwrap(stanza)` would be, in passphrase-KDF cost units (1 = one
   * default Argon2id derivation), computed from the stanza alone without doing the work.
   * Absent, 0, or anything not a finite non-negative number means cheap. Used only to order
   * attempts: every cheap attempt first, then the others in ascending cost.
   * @returns the cost, synchronously
   */
  unwrapCost?(stanza: Stanza): number;
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
 * can (KMS), else the backend's CSPRNG does. The data key is wiped if any recipient fails.
 * @param recipients - checked providers ({@link checkProviders})
 * @param ctx - the header's context; one object per header (passphrase recipients keep their
 *   per-header cost ledger on it)
 * @param onDataKey - called once with the data key as soon as it exists, before the remaining
 *   wraps (lets the caller derive the header MAC key concurrently); it must not retain the key
 *   beyond the caller's own use, and must not throw
 * @param onLastWrap - called once, as soon as the last recipient's `wrap` was called (before it
 *   settles), or once the generated key exists when it is the only recipient: lets the caller
 *   start the payload's key derivation concurrently with that wrap (a provider that draws its
 *   randomness before its first await, as `aesKey` does, still draws it before the caller's
 *   salt); same rules as `onDataKey`
 * @returns the data key (caller wipes it) and the stanzas in recipient order
 * @throws whatever a provider throws; TypeError for a generated key of the wrong length
 * @example
 * ```ts
 * const { dataKey, stanzas } = await wrapDataKey([aesKey({ id, key })], ctx);
 * ```
 */
export async function wrapDataKey(
  recipients: readonly KeyProvider[],
  ctx: WrapContext,
  onDataKey?: (dataKey: Bytes) => void,
  onLastWrap?: (dataKey: Bytes) => void,
): Promise<{ dataKey: Bytes; stanzas: Stanza[] }> {
  const [first, ...rest] = recipients as [KeyProvider, ...KeyProvider[]];
  let dataKey: Bytes | undefined;
  const stanzas: Stanza[] = [];
  try {
    if (first.generateDataKey !== undefined) {
      const g = await first.generateDataKey(DATA_KEY_LENGTH, ctx);
      if (!(g?.dataKey instanceof Uint8Array) || g.dataKey.length !== DATA_KEY_LENGTH) {
        if (g?.dataKey instanceof Uint8Array) g.dataKey.fill(0);
        throw new TypeError(`${describeProvider(first)} generated a data key of the wrong length`);
      }
      dataKey = g.dataKey;
      onDataKey?.(dataKey);
      if (rest.length === 0) onLastWrap?.(dataKey);
      stanzas.push(g.stanza);
    } else {
      dataKey = ctx.backend.randomBytes(DATA_KEY_LENGTH);
      onDataKey?.(dataKey);
      const wrapping = first.wrap(dataKey, ctx);
      if (rest.length === 0) onLastWrap?.(dataKey);
      stanzas.push(await wrapping);
    }
    for (let i = 0; i < rest.length; i++) {
      const wrapping = rest[i]!.wrap(dataKey, ctx);
      if (i === rest.length - 1) onLastWrap?.(dataKey);
      stanzas.push(await wrapping);
    }
    for (const s of stanzas) checkStanza(s);
  } catch (e) {
    dataKey?.fill(0);
    throw e;
  }
  return { dataKey, stanzas };
}

/** Most recipients and keys named in an `ERR_NO_KEY` message; the rest are counted. */
const LISTED = 8;

function quoted(s: string, max: number): string {
  return `"${escapeControl(s, max).replace(/"/g, '\\"')}"`;
}

function listed<T>(items: readonly T[], show: (item: T) => string): string {
  if (items.length === 0) return 'none';
  const shown = items.slice(0, LISTED).map(show).join(', ');
  return items.length > LISTED ? `${shown} and ${items.length - LISTED} more` : shown;
}

function describeStanza(s: Stanza): string {
  const type = escapeControl(typeof s?.type === 'string' ? s.type : '?', 64);
  return typeof s?.keyId === 'string' && s.keyId !== '' ? `${type} ${quoted(s.keyId, 64)}` : type;
}

function costOf(key: KeyProvider, stanza: Stanza): number {
  if (typeof key.unwrapCost !== 'function') return 0;
  try {
    const c = key.unwrapCost(stanza);
    return typeof c === 'number' && Number.isFinite(c) && c > 0 ? c : 0;
  } catch {
    return 0; // unwrap will report the problem itself
  }
}

/**
 * Finds a provider that unwraps one of the stanzas; the first data key returned wins.
 *
 * Order: every (stanza, key) pair whose `unwrapCost` is 0 first, stanzas in header order and
 * for each stanza the keys in the caller's order (as before costs existed); then the costly
 * pairs (passphrase KDFs) in ascending cost, ties in that same order. Providers see one fresh
 * context object per call, so per-header state such as the passphrase KDF budget starts at zero
 * for every object and never carries over to another.
 *
 * @param stanzas - the header's recipients (untrusted)
 * @param keys - the caller's providers
 * @param ctx - the header's context
 * @returns the data key (caller wipes it)
 * @throws EnsealError `ERR_NO_KEY` with every provider's cause in `errors`; its message lists
 *   the recipients (type and escaped key id, at most 8 then "and N more") and the keys tried
 *   (their escaped descriptions); no secret is ever part of it
 * @example
 * ```ts
 * const dataKey = await unwrapDataKey(header.recipients, opts.keys, ctx);
 * ```
 */
export async function unwrapDataKey(
  stanzas: readonly Stanza[],
  keys: readonly KeyProvider[],
  ctx: WrapContext,
): Promise<Uint8Array> {
  const recipients = [...stanzas];
  const providers = [...keys];
  const headerCtx: WrapContext = { ...ctx };
  const attempts: { stanza: Stanza; key: KeyProvider; cost: number }[] = [];
  for (const stanza of recipients) for (const key of providers) attempts.push({ stanza, key, cost: costOf(key, stanza) });
  // Array.prototype.sort is stable (ES2019): equal costs keep header order, then key order.
  attempts.sort((a, b) => a.cost - b.cost);
  const errors: unknown[] = [];
  for (const { stanza, key } of attempts) {
    let dataKey: Uint8Array | null;
    try {
      dataKey = await key.unwrap(stanza, headerCtx);
    } catch (e) {
      errors.push(e);
      continue;
    }
    if (dataKey === null) continue;
    if (checkedDataKey(dataKey, key, errors)) return dataKey;
  }
  throw noKeyError(recipients, providers, errors);
}

/** Whether a provider's answer is a data key of the right length; else wipes it and records why. */
function checkedDataKey(dataKey: Uint8Array, key: KeyProvider, errors: unknown[]): boolean {
  if (dataKey instanceof Uint8Array && dataKey.length === DATA_KEY_LENGTH) return true;
  if (dataKey instanceof Uint8Array) dataKey.fill(0);
  errors.push(new EnsealError('ERR_AUTH', `${escapeControl(describeProvider(key), 80)} returned a data key of the wrong length`));
  return false;
}

function noKeyError(recipients: readonly Stanza[], providers: readonly KeyProvider[], errors: unknown[]): EnsealError {
  const detail = errors.length === 0 ? 'no provider recognised any recipient' : `${errors.length} provider error(s)`;
  return new EnsealError(
    'ERR_NO_KEY',
    `no key could unwrap the data key (${recipients.length} recipient(s), ${providers.length} key(s): ${detail}); ` +
      `recipients: ${listed(recipients, describeStanza)}; keys tried: ${listed(providers, (k) => escapeControl(describeProvider(k), 80))}`,
    { errors },
  );
}

// ---------------------------------------------------------------------------------------------
// Synchronous wrap and unwrap (internal): a one-shot call with a backend whose primitives are
// synchronous (node:crypto) runs without a promise when every provider involved can.

/**
 * A provider's `wrap`, synchronously. Called only with a backend that has a synchronous AES-GCM
 * key factory (`SYNC_AES_GCM`, src/backends/sync.ts); same stanza, errors and random draws as
 * the provider's `wrap`.
 */
export type SyncWrap = (dataKey: Uint8Array, ctx: WrapContext) => Stanza;

/** What a {@link SyncUnwrap} returns when this stanza needs the provider's asynchronous `unwrap`. */
export const NEEDS_ASYNC: unique symbol = Symbol('enseal.needsAsync');

/**
 * A provider's `unwrap`, synchronously: the data key, `null` (not mine), or {@link NEEDS_ASYNC}
 * when this stanza (or this backend) needs the asynchronous `unwrap`; throws as `unwrap` does.
 */
export type SyncUnwrap = (stanza: Stanza, ctx: WrapContext) => Uint8Array | null | typeof NEEDS_ASYNC;

/**
 * Property of a provider's `wrap` function holding its {@link SyncWrap}. It travels with the
 * function, so a provider copied with `{ ...p }` keeps it and one whose `wrap` is replaced (a
 * test spy, a decorator) loses it.
 */
export const SYNC_WRAP: unique symbol = Symbol('enseal.syncWrap');
/** Property of a provider's `unwrap` function holding its {@link SyncUnwrap} (as {@link SYNC_WRAP}). */
export const SYNC_UNWRAP: unique symbol = Symbol('enseal.syncUnwrap');

function syncWrapOf(p: KeyProvider): SyncWrap | undefined {
  const f = (p.wrap as { [SYNC_WRAP]?: SyncWrap })[SYNC_WRAP];
  return typeof f === 'function' && p.generateDataKey === undefined ? f : undefined;
}

function syncUnwrapOf(p: KeyProvider): SyncUnwrap | undefined {
  const f = (p.unwrap as { [SYNC_UNWRAP]?: SyncUnwrap })[SYNC_UNWRAP];
  return typeof f === 'function' && p.unwrapCost === undefined ? f : undefined;
}

/**
 * {@link wrapDataKey}, synchronously, when every recipient has a {@link SyncWrap} (and none
 * generates the data key): same random draws in the same order (data key, then each
 * recipient's), same checks, the data key wiped if any recipient fails.
 * @param recipients - checked providers ({@link checkProviders})
 * @param ctx - the header's context (its backend has a synchronous AES-GCM key factory)
 * @returns the data key (caller wipes it) and the stanzas, or `undefined` (nothing was done)
 *   when some recipient cannot wrap synchronously
 * @throws whatever a provider throws
 * @example
 * ```ts
 * const sealed = wrapDataKeySync([aesKey({ id, key })], ctx) ?? (await wrapDataKey(recipients, ctx));
 * ```
 */
export function wrapDataKeySync(recipients: readonly KeyProvider[], ctx: WrapContext): { dataKey: Bytes; stanzas: Stanza[] } | undefined {
  const wraps: SyncWrap[] = [];
  for (const p of recipients) {
    const w = syncWrapOf(p);
    if (w === undefined) return undefined;
    wraps.push(w);
  }
  const dataKey = ctx.backend.randomBytes(DATA_KEY_LENGTH);
  const stanzas: Stanza[] = [];
  try {
    for (const w of wraps) stanzas.push(w(dataKey, ctx));
    for (const s of stanzas) checkStanza(s);
  } catch (e) {
    dataKey.fill(0);
    throw e;
  }
  return { dataKey, stanzas };
}

/**
 * {@link unwrapDataKey}, synchronously, when every key has a {@link SyncUnwrap} and none has an
 * `unwrapCost` (so the attempt order is header order, then key order): same results and errors.
 * @param stanzas - the header's recipients (untrusted)
 * @param keys - the caller's providers
 * @param ctx - the header's context
 * @returns the data key (caller wipes it), or {@link NEEDS_ASYNC} (no data key was kept) when
 *   some attempt needs an asynchronous `unwrap`: the caller then runs {@link unwrapDataKey}
 * @throws EnsealError `ERR_NO_KEY` as {@link unwrapDataKey}
 * @example
 * ```ts
 * const k = unwrapDataKeySync(header.recipients, keys, ctx);
 * const dataKey = k === NEEDS_ASYNC ? await unwrapDataKey(header.recipients, keys, ctx) : k;
 * ```
 */
export function unwrapDataKeySync(stanzas: readonly Stanza[], keys: readonly KeyProvider[], ctx: WrapContext): Uint8Array | typeof NEEDS_ASYNC {
  const unwraps: SyncUnwrap[] = [];
  for (const k of keys) {
    const u = syncUnwrapOf(k);
    if (u === undefined) return NEEDS_ASYNC;
    unwraps.push(u);
  }
  const headerCtx: WrapContext = { ...ctx };
  const errors: unknown[] = [];
  for (const stanza of stanzas) {
    for (let i = 0; i < keys.length; i++) {
      let dataKey: Uint8Array | null | typeof NEEDS_ASYNC;
      try {
        dataKey = unwraps[i]!(stanza, headerCtx);
      } catch (e) {
        errors.push(e);
        continue;
      }
      if (dataKey === NEEDS_ASYNC) return NEEDS_ASYNC;
      if (dataKey === null) continue;
      if (checkedDataKey(dataKey, keys[i]!, errors)) return dataKey;
    }
  }
  throw noKeyError([...stanzas], [...keys], errors);
}
