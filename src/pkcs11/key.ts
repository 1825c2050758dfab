/**
 * The PKCS#11 key provider: a master key held by an HSM or smart card (anything with a PKCS#11
 * module, e.g. SoftHSM, YubiHSM, Thales Luna, AWS CloudHSM) wraps and unwraps data keys on the
 * token; the master key never leaves it (docs/FORMAT.md §4).
 *
 * | `mechanism` | PKCS#11 | stanza type | wrapped |
 * |---|---|---|---|
 * | `'aes-key-wrap-pad'` | CKM_AES_KEY_WRAP_PAD (RFC 5649) | `pkcs11-aes-kwp` | 40 bytes |
 * | `'aes-gcm'` | CKM_AES_GCM, AAD = stanza binding | `pkcs11-aes-gcm` | iv 12 ‖ ct 32 ‖ tag 16 |
 * | `'rsa-oaep'` | CKM_RSA_PKCS_OAEP, SHA-1, MGF1-SHA-1 | `pkcs11-rsa-oaep-sha1` | modulus length |
 *
 * Key id: `<tokenLabel>/<keyLabel>` unless `id` is given; no params.
 *
 * **Strict.** A provider claims only stanzas of its type whose key id is its own, and always
 * wraps and unwraps with the key handle it found when it was created: nothing in a stanza (key
 * id, params — unauthenticated until the header MAC) can make it use another key of the token.
 * A stanza of its own id with params is malformed (`ERR_HEADER`) and never reaches the token.
 *
 * @module
 */
import { concat, escapeControl, utf8, utf8Strict, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { MAX_KEY_ID_LENGTH } from '../format/limits.js';
import type { KeyProvider, Stanza } from '../keys/provider.js';
import { aesGcmMechanism } from './aes-gcm.js';
import { aesKwpMechanism } from './aes-kwp.js';
import { pkcs11Error } from './errors.js';
import { loadPkcs11js } from './load.js';
import type { TokenMechanism } from './mechanism.js';
import { acquireModule, releaseModule } from './module.js';
import { rsaOaepMechanism } from './rsa-oaep.js';
import { openTokenSession, type TokenSession } from './session.js';

/** How the token wraps data keys. */
export type Pkcs11Mechanism = 'aes-key-wrap-pad' | 'aes-gcm' | 'rsa-oaep';

const MECHANISMS: readonly Pkcs11Mechanism[] = ['aes-key-wrap-pad', 'aes-gcm', 'rsa-oaep'];

/** Options of {@link pkcs11Key}. */
export interface Pkcs11KeyOptions {
  /** Path of the PKCS#11 module (shared library), e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
  module: string;
  /** Label of the token (CKA_LABEL of the token, without the blank padding). */
  tokenLabel: string;
  /** The user PIN. Passed to C_Login only; never stored in messages or stanzas. */
  pin: string;
  /** CKA_LABEL of the master key: an AES secret key, or an RSA key pair (both halves labelled alike). */
  keyLabel: string;
  /** Wrapping mechanism; see the module table. */
  mechanism: Pkcs11Mechanism;
  /** Key id written in stanzas and matched on decryption (default `<tokenLabel>/<keyLabel>`). */
  id?: string;
}

/** The provider {@link pkcs11Key} returns. */
export interface Pkcs11KeyProvider extends KeyProvider {
  /** The key id of its stanzas. */
  readonly keyId: string;
  /** Its stanza type. */
  readonly stanzaType: string;
  /**
   * Waits for pending operations, closes the session and releases the module (finalised when
   * the last provider using it closes). Later wrap/unwrap calls throw `ERR_STATE`. Idempotent.
   */
  close(): Promise<void>;
}

function nonEmpty(v: unknown, name: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`"${name}" expected a non-empty string`);
  return v;
}

const AAD_PREFIX = 'enseal/v1 ';

function findMechanism(ses: TokenSession, mechanism: Pkcs11Mechanism, keyLabel: string, what: string): TokenMechanism {
  const { api, lib } = ses.mod;
  if (mechanism === 'rsa-oaep') {
    const publicKey = ses.findKey(api.CKO_PUBLIC_KEY, api.CKK_RSA, keyLabel);
    const privateKey = ses.findKey(api.CKO_PRIVATE_KEY, api.CKK_RSA, keyLabel);
    const any = publicKey ?? privateKey;
    if (any === null) throw new EnsealError('ERR_KMS_NOT_FOUND', `no RSA key labelled "${escapeControl(keyLabel)}" on token "${escapeControl(ses.tokenLabel)}"`);
    let modulus: Buffer | undefined;
    try {
      modulus = lib.C_GetAttributeValue(ses.handle, any, [{ type: api.CKA_MODULUS }])[0]?.value;
    } catch (e) {
      throw pkcs11Error(e, `reading the modulus of "${what}"`);
    }
    if (modulus === undefined || modulus.length < 256) throw new EnsealError('ERR_UNSUPPORTED', `RSA key "${what}" is shorter than 2048 bits`);
    return rsaOaepMechanism(ses, { publicKey, privateKey }, modulus.length, what);
  }
  const master = ses.findKey(api.CKO_SECRET_KEY, api.CKK_AES, keyLabel);
  if (master === null) throw new EnsealError('ERR_KMS_NOT_FOUND', `no AES key labelled "${escapeControl(keyLabel)}" on token "${escapeControl(ses.tokenLabel)}"`);
  return mechanism === 'aes-gcm' ? aesGcmMechanism(ses, master, what) : aesKwpMechanism(ses, master, what);
}

/**
 * A key provider for a master key on a PKCS#11 token.
 *
 * Loads the module (shared with other providers of the process), finds the token by label,
 * opens one session, logs in, and finds the key — all before it resolves, so configuration
 * errors surface here. Every token call of the provider then runs through one queue.
 *
 * On decryption the provider claims stanzas of its type and key id only (others: `null`,
 * whatever their params say) and always uses its own key handle; the wrapped length and the
 * absence of params are checked before the token sees it (`ERR_HEADER`); a token that refuses
 * the bytes is `ERR_AUTH`; a key deleted meanwhile is `ERR_KMS_NOT_FOUND`; a lost login is
 * `ERR_KMS_DENIED`; a token gone is `ERR_KMS_UNAVAILABLE`.
 *
 * @param opts - `{ module, tokenLabel, pin, keyLabel, mechanism, id? }`
 * @returns a connected provider; call `close()` when done
 * @throws TypeError for missing options or an unknown mechanism; EnsealError `ERR_UNSUPPORTED`
 *   when `pkcs11js` is not installed or the module cannot be loaded, `ERR_KMS_UNAVAILABLE` when
 *   no token has the label, `ERR_KMS_NOT_FOUND` when no key has the label, `ERR_KMS_DENIED` for
 *   a refused login (wrong PIN) or an ambiguous key label
 * @example
 * ```ts
 * import { pkcs11Key } from 'enseal/pkcs11';
 * const hsm = await pkcs11Key({ module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'prod',
 *   pin: process.env.HSM_PIN!, keyLabel: 'backup-kek', mechanism: 'aes-key-wrap-pad' });
 * const sealed = await encrypt(data, { recipients: [hsm] });
 * await hsm.close();
 * ```
 */
export async function pkcs11Key(opts: Pkcs11KeyOptions): Promise<Pkcs11KeyProvider> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected an object');
  const modulePath = nonEmpty(opts.module, 'module');
  const tokenLabel = nonEmpty(opts.tokenLabel, 'tokenLabel');
  const pin = nonEmpty(opts.pin, 'pin');
  const keyLabel = nonEmpty(opts.keyLabel, 'keyLabel');
  const mechanism = opts.mechanism;
  if (!MECHANISMS.includes(mechanism)) throw new TypeError(`"mechanism" expected one of ${MECHANISMS.join(', ')}, got ${String(mechanism)}`);
  const keyId = opts.id === undefined ? `${tokenLabel}/${keyLabel}` : nonEmpty(opts.id, 'id');
  const keyIdBytes = utf8Strict(keyId, '"id"');
  if (keyIdBytes.length > MAX_KEY_ID_LENGTH) throw new RangeError(`"id" expected at most ${MAX_KEY_ID_LENGTH} bytes, got ${keyIdBytes.length}`);

  const api = await loadPkcs11js();
  const mod = await acquireModule(api, modulePath);
  let ses: TokenSession;
  let mech: TokenMechanism;
  try {
    ses = openTokenSession(mod, tokenLabel, pin);
    try {
      mech = findMechanism(ses, mechanism, keyLabel, keyId);
    } catch (e) {
      await ses.close();
      throw e;
    }
  } catch (e) {
    releaseModule(mod);
    throw e;
  }

  const type = mech.stanzaType;
  // "enseal/v1 <type>" || 0x00 || u16 len(key id) || key id || bound (used by pkcs11-aes-gcm)
  const aadPrefix = concat(utf8(AAD_PREFIX + type), Uint8Array.of(0, keyIdBytes.length >>> 8, keyIdBytes.length & 0xff), keyIdBytes);
  let closed = false;

  return {
    description: `${type}:${keyId}`,
    keyId,
    stanzaType: type,
    async wrap(dataKey, ctx): Promise<Stanza> {
      const wrapped = await ses.run(() => mech.wrap(dataKey, concat(aadPrefix, ctx.aad), (n) => ctx.backend.randomBytes(n)));
      return { type, keyId, params: {}, wrapped };
    },
    async unwrap(stanza, ctx): Promise<Bytes | null> {
      // Snapshot, then match on the key id alone; the handle used is always this provider's.
      const { type: stanzaType, keyId: stanzaKeyId, params, wrapped } = stanza;
      if (stanzaType !== type || stanzaKeyId !== keyId) return null;
      if (wrapped.length !== mech.wrappedLength || Object.keys(params).length !== 0) {
        throw new EnsealError('ERR_HEADER', `${type} stanza for key "${escapeControl(keyId)}" is malformed`);
      }
      return ses.run(() => mech.unwrap(wrapped, concat(aadPrefix, ctx.aad)));
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await ses.close();
      releaseModule(mod);
    },
  };
}
