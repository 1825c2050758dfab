/**
 * Customer-managed AES-256 master key (docs/FORMAT.md §4.1, which also says why GCM is the
 * default rather than RFC 3394 key wrap). Three wrapping modes, all with key id = the key's id
 * and no params:
 *
 * ```
 * "aes256-gcm" (default)
 *   wrapped  nonce (12, random) || AES-256-GCM(cmk, nonce, data key, aad) (32 + 16 tag)   = 60 bytes
 *   aad      "enseal/v1 aes256-gcm" || 0x00 || u16 len(key id) || key id || bound header part
 * "aes256-kw"   (RFC 3394, default IV A6A6A6A6A6A6A6A6)
 *   wrapped  AES-KW(cmk, data key)                                                        = 40 bytes
 * "aes256-kwp"  (RFC 5649, AIV A65959A6 || 00000020)
 *   wrapped  AES-KWP(cmk, data key)                                                       = 40 bytes
 * ```
 *
 * KW and KWP (for interoperability with HSMs and KMSs that speak only those) cannot bind
 * associated data: a KW stanza copied into another object still unwraps there. The header MAC
 * (FORMAT.md §2.4) is what authenticates those stanzas and the context, and the payload commits
 * to the context (§2.3), so a moved or edited stanza still fails before any plaintext.
 *
 * Decryption accepts all three types for the provider's key id, whatever `wrap` says, so an
 * object wrapped in any mode decrypts with the same key file.
 *
 * @module
 */
import { assertBytes, concat, utf8, utf8Strict, type Bytes, copyBytes } from '../bytes.js';
import type { AesGcmKey } from '../backends/backend.js';
import { keepable, kept } from '../backends/live-keys.js';
import { syncAesGcmOf, syncGcmOf, type SyncAesGcm, type SyncGcm } from '../backends/sync.js';
import { EnsealError } from '../errors.js';
import { MAX_KEY_ID_LENGTH } from '../format/limits.js';
import { aesKwpUnwrap, aesKwpWrap, aesKwUnwrap, aesKwWrap } from './aes-kw.js';
import { NEEDS_ASYNC, SYNC_UNWRAP, SYNC_WRAP, type KeyProvider, type Stanza, type SyncUnwrap, type SyncWrap, type WrapContext } from './provider.js';

/** Stanza type written by {@link aesKey} by default (AES-256-GCM, FORMAT.md §4.1). */
export const AES_GCM_STANZA = 'aes256-gcm';
/** Stanza type written by {@link aesKey} with `wrap: 'aes256-kw'` (RFC 3394). */
export const AES_KW_STANZA = 'aes256-kw';
/** Stanza type written by {@link aesKey} with `wrap: 'aes256-kwp'` (RFC 5649). */
export const AES_KWP_STANZA = 'aes256-kwp';

/** How {@link aesKey} wraps data keys: the stanza type it writes. */
export type AesWrapMode = typeof AES_GCM_STANZA | typeof AES_KW_STANZA | typeof AES_KWP_STANZA;

const WRAPPED_LENGTH: Readonly<Record<AesWrapMode, number>> = { [AES_GCM_STANZA]: 12 + 32 + 16, [AES_KW_STANZA]: 40, [AES_KWP_STANZA]: 40 };
const AAD_LABEL = utf8('enseal/v1 aes256-gcm');
/** Most backends a provider keeps a prepared key-encryption key for. */
const KEK_CACHE = 4;

/** Options of {@link aesKey}. */
export interface AesKeyOptions {
  /** Key id stored in the stanza (not secret): how decryption finds the right key. */
  id: string;
  /** The 32-byte AES-256 master key. It is copied; the provider never sends it anywhere. */
  key: Uint8Array;
  /**
   * Stanza type to write: `'aes256-gcm'` (default; binds the header context), `'aes256-kw'`
   * (RFC 3394) or `'aes256-kwp'` (RFC 5649). Decryption accepts all three.
   */
  wrap?: AesWrapMode;
}

/** The constant head of a key's stanza AAD (FORMAT.md §4.1): label || 0x00 || u16 len(key id) || key id. */
function aadHeadFor(id: Bytes): Bytes {
  return concat(AAD_LABEL, Uint8Array.of(0, id.length >>> 8, id.length & 0xff), id);
}

/** The stanza AAD (FORMAT.md §4.1): the key's constant head, then the bound header part. */
function aadFor(head: Bytes, ctx: WrapContext): Bytes {
  const bound = ctx.aad;
  const aad = new Uint8Array(head.length + bound.length);
  aad.set(head, 0);
  aad.set(bound, head.length);
  return aad;
}

/** The provider {@link aesKey} returns: a {@link KeyProvider} that can forget its key. */
export interface AesKeyProvider extends KeyProvider {
  /** Wipes the provider's copy of the master key; later wrap/unwrap calls throw `ERR_STATE`. */
  dispose(): void;
}

/**
 * A key provider for a customer-managed AES-256 key.
 *
 * @param opts - `{ id, key, wrap? }`; the CLI's key files hold the id and key (as base64)
 * @returns a provider usable in `recipients` (encrypt) and `keys` (decrypt)
 * @throws TypeError/RangeError for a missing id, a key that is not 32 bytes, or an unknown `wrap`
 * @example
 * ```ts
 * const k = aesKey({ id: 'backup-2026', key: crypto.getRandomValues(new Uint8Array(32)) });
 * const ct = await encrypt(data, { recipients: [k] });
 * const hsm = aesKey({ id: 'hsm-kek-7', key: kek, wrap: 'aes256-kwp' }); // RFC 5649 stanza
 * ```
 */
export function aesKey(opts: AesKeyOptions): AesKeyProvider {
  if (typeof opts?.id !== 'string' || opts.id.length === 0) throw new TypeError('"id" expected a non-empty string');
  const idBytes = utf8Strict(opts.id, '"id"');
  if (idBytes.length > MAX_KEY_ID_LENGTH) throw new RangeError(`"id" expected at most ${MAX_KEY_ID_LENGTH} bytes, got ${idBytes.length}`);
  assertBytes(opts.key, 'key', 32);
  const mode: AesWrapMode = opts.wrap ?? AES_GCM_STANZA;
  if (!Object.hasOwn(WRAPPED_LENGTH, mode)) {
    throw new TypeError(`"wrap" expected ${Object.keys(WRAPPED_LENGTH).join(', ')}, got ${String(opts.wrap)}`);
  }
  const key = copyBytes(opts.key);
  const id = opts.id;
  const aadHead = aadHeadFor(idBytes);
  let disposed = false;
  const live = (): Uint8Array => {
    if (disposed) throw new EnsealError('ERR_STATE', `key "${id}" was disposed`);
    return key;
  };

  // The key-encryption key prepared once per named asynchronous backend (WebCrypto: an importKey
  // per message otherwise), kept until dispose(); it is out of the live-key count
  // (src/backends/live-keys.ts `kept`) because it outlives each operation on purpose. Named
  // backends are a handful of singletons (at most KEK_CACHE are cached; beyond, a fresh key per
  // call), and a cached key is never dropped while the provider lives, so no call in flight ever
  // sees its key disposed but by dispose(). A backend with synchronous GCM (node:crypto) has its
  // own cache below (syncKeks); a backend object passed by the caller (a custom or wrapping one,
  // often made per call) gets a fresh key per call.
  const keks = new Map<WrapContext['backend'], Promise<AesGcmKey>>();
  const kekFor = (backend: WrapContext['backend']): Promise<AesGcmKey> | undefined => {
    const raw = live();
    let k = keks.get(backend);
    if (k === undefined) {
      if (keks.size >= KEK_CACHE) return undefined;
      const key = backend.aesGcm(raw).then(kept);
      keks.set(backend, (k = key));
      key.catch(() => {
        if (keks.get(backend) === key) keks.delete(backend); // not cached: the next call tries again
      });
    }
    return k;
  };
  /** Runs `f` with the KEK as a backend key: a fresh one (disposed after) on a synchronous backend, else the cached one. */
  async function withKek<T>(backend: WrapContext['backend'], f: (aead: AesGcmKey) => Promise<T>): Promise<T> {
    const cached = syncAesGcmOf(backend) === undefined && keepable(backend) ? kekFor(backend) : undefined;
    if (cached === undefined) {
      const aead = await backend.aesGcm(live());
      try {
        return await f(aead);
      } finally {
        aead.dispose();
      }
    }
    const aead = await cached;
    live(); // disposed while the key was prepared: ERR_STATE
    return f(aead);
  }

  async function gcmWrap(dataKey: Uint8Array, ctx: WrapContext): Promise<Bytes> {
    live();
    // Drawn before the first await, so that a caller that starts the payload's derivation while
    // this wrap runs still draws its salt after this nonce (test/vectors/enseal-v1.json order).
    const nonce = ctx.backend.randomBytes(12);
    return withKek(ctx.backend, async (aead) => {
      const out = new Uint8Array(WRAPPED_LENGTH[AES_GCM_STANZA]);
      out.set(nonce, 0);
      const aad = aadFor(aadHead, ctx);
      const sync = syncGcmOf(aead);
      out.set(sync !== undefined ? sync.sealSync(nonce, dataKey, aad) : await aead.seal(nonce, dataKey, aad), 12);
      return out;
    });
  }

  async function gcmUnwrap(wrapped: Uint8Array, ctx: WrapContext): Promise<Bytes> {
    return withKek(ctx.backend, async (aead) => {
      const aad = aadFor(aadHead, ctx);
      const sync = syncGcmOf(aead);
      const nonce = wrapped.subarray(0, 12);
      return sync !== undefined ? sync.openSync(nonce, wrapped.subarray(12), aad) : await aead.open(nonce, wrapped.subarray(12), aad);
    });
  }

  // Synchronous wrap and unwrap (src/keys/provider.ts SYNC_WRAP/SYNC_UNWRAP) for a backend with
  // a synchronous AES-GCM key factory: the same bytes, checks and errors as gcmWrap/gcmUnwrap.
  // As keks, for the synchronous keys of a named backend (node:crypto: no copy of the key and
  // no key object per message).
  const syncKeks = new Map<WrapContext['backend'], AesGcmKey & SyncGcm>();
  /**
   * The cached synchronous KEK of a named backend (made on first use), or `undefined` for any
   * other backend object or beyond KEK_CACHE backends: the caller then makes a fresh key with
   * `make(live())` and disposes it after use. Throws `ERR_STATE` once disposed.
   */
  function cachedSyncKek(backend: WrapContext['backend'], make: SyncAesGcm): (AesGcmKey & SyncGcm) | undefined {
    const raw = live();
    if (!keepable(backend)) return undefined;
    let aead = syncKeks.get(backend);
    if (aead === undefined && syncKeks.size < KEK_CACHE) {
      aead = kept(make(raw));
      syncKeks.set(backend, aead);
    }
    return aead;
  }
  const gcmWrapSync: SyncWrap = (dataKey, ctx) => {
    const make = syncAesGcmOf(ctx.backend);
    if (make === undefined) throw new TypeError('a synchronous wrap needs a backend with synchronous AES-GCM');
    const cached = cachedSyncKek(ctx.backend, make);
    const aead = cached ?? make(key); // `key` is live: cachedSyncKek checked it
    try {
      const out = new Uint8Array(WRAPPED_LENGTH[AES_GCM_STANZA]);
      const nonce = ctx.backend.randomBytes(12);
      out.set(nonce, 0);
      out.set(aead.sealSync(nonce, dataKey, aadFor(aadHead, ctx)), 12);
      return { type: AES_GCM_STANZA, keyId: id, params: {}, wrapped: out };
    } finally {
      if (cached === undefined) aead.dispose();
    }
  };
  const unwrapSync: SyncUnwrap = (stanza, ctx) => {
    if (!Object.hasOwn(WRAPPED_LENGTH, stanza.type) || stanza.keyId !== id) return null;
    const type = stanza.type as AesWrapMode;
    if (stanza.wrapped.length !== WRAPPED_LENGTH[type] || Object.keys(stanza.params).length !== 0) {
      throw new EnsealError('ERR_HEADER', `${type} stanza for key "${id}" is malformed`);
    }
    const make = syncAesGcmOf(ctx.backend);
    if (type !== AES_GCM_STANZA || make === undefined) return NEEDS_ASYNC; // RFC 3394/5649 run on the async block cipher
    const cached = cachedSyncKek(ctx.backend, make);
    const aead = cached ?? make(key); // `key` is live: cachedSyncKek checked it
    try {
      return aead.openSync(stanza.wrapped.subarray(0, 12), stanza.wrapped.subarray(12), aadFor(aadHead, ctx));
    } catch (e) {
      if (e instanceof EnsealError && e.code === 'ERR_AUTH') throw unwrapFailure();
      throw e;
    } finally {
      if (cached === undefined) aead.dispose();
    }
  };
  const unwrapFailure = (): EnsealError =>
    new EnsealError('ERR_AUTH', `data key wrapped for "${id}" failed authentication (wrong key material, or a modified header)`);

  async function wrap(dataKey: Uint8Array, ctx: WrapContext): Promise<Stanza> {
    let wrapped: Bytes;
    if (mode === AES_KW_STANZA) wrapped = await aesKwWrap(ctx.backend, live(), dataKey);
    else if (mode === AES_KWP_STANZA) wrapped = await aesKwpWrap(ctx.backend, live(), dataKey);
    else wrapped = await gcmWrap(dataKey, ctx);
    return { type: mode, keyId: id, params: {}, wrapped };
  }
  async function unwrap(stanza: Stanza, ctx: WrapContext): Promise<Bytes | null> {
    if (!Object.hasOwn(WRAPPED_LENGTH, stanza.type) || stanza.keyId !== id) return null;
    const type = stanza.type as AesWrapMode;
    if (stanza.wrapped.length !== WRAPPED_LENGTH[type] || Object.keys(stanza.params).length !== 0) {
      throw new EnsealError('ERR_HEADER', `${type} stanza for key "${id}" is malformed`);
    }
    try {
      if (type === AES_KW_STANZA) return await aesKwUnwrap(ctx.backend, live(), stanza.wrapped);
      if (type === AES_KWP_STANZA) return await aesKwpUnwrap(ctx.backend, live(), stanza.wrapped);
      return await gcmUnwrap(stanza.wrapped, ctx);
    } catch (e) {
      if (e instanceof EnsealError && e.code === 'ERR_AUTH') throw unwrapFailure();
      throw e;
    }
  }
  if (mode === AES_GCM_STANZA) Object.defineProperty(wrap, SYNC_WRAP, { value: gcmWrapSync });
  Object.defineProperty(unwrap, SYNC_UNWRAP, { value: unwrapSync });

  return {
    description: `${mode}:${id}`,
    wrap,
    unwrap,
    dispose(): void {
      disposed = true;
      key.fill(0);
      for (const k of keks.values()) k.then((aead) => aead.dispose(), () => undefined);
      keks.clear();
      for (const k of syncKeks.values()) k.dispose();
      syncKeks.clear();
    },
  };
}
