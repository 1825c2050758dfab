/**
 * Customer-managed RSA key pair as a key provider (docs/FORMAT.md §4, "rsa-oaep-sha256").
 *
 * ```
 * stanza type  "rsa-oaep-sha256"      written and read
 *              "rsa-oaep-sha1"        read only, with `legacy: true` (OSS Python SDK 2.5–2.10 objects)
 *              "rsa-pkcs1"            read only, with `legacy: true` (OSS SDKs' RSA/NONE/PKCS1Padding), node only
 * key id       the `id` option, else "sha256:" || first 32 hex digits of SHA-256(SPKI DER of the public key)
 * params       none
 * wrapped      k bytes (k = modulus length in bytes: 256, 384 or 512)
 *   rsa-oaep-sha256  RSAES-OAEP-ENCRYPT(pk, data key, L), SHA-256, MGF1-SHA-256 (RFC 8017 §7.1)
 *                    L = "enseal/v1 rsa-oaep-sha256" || 0x00 || u16 len(key id) || key id || bound header part
 *   rsa-oaep-sha1    RSAES-OAEP with SHA-1 and MGF1-SHA-1, empty label
 *   rsa-pkcs1        RSAES-PKCS1-v1_5, decrypted with implicit rejection (keys/rsa-pkcs1.ts)
 * modulus      2048, 3072 or 4096 bits; 1024 bits is accepted only to read the two legacy types,
 *              with `legacy: true`
 * ```
 *
 * **Legacy reads are an explicit opt-in** (like the S3 Encryption Client's
 * `enableLegacyUnauthenticatedModes`). The two legacy types bind nothing (no label), PKCS#1 v1.5
 * is the padding of every Bleichenbacher-style attack, and 1024-bit keys are factorable by a
 * determined attacker. Without `legacy: true` a provider still recognises such a stanza for its
 * own key id (it is the reader's own stanza type), but throws `ERR_UNSUPPORTED` naming the option
 * instead of touching the private key, so `ERR_NO_KEY.errors` says what to do. Writing is always
 * RSA-OAEP-SHA-256 with a 2048-, 3072- or 4096-bit key, whatever `legacy` says.
 *
 * **The OAEP label binds the header.** OAEP's label is authenticated associated data, so enseal
 * puts there what `aes256-gcm` puts in its AAD (§4.1): the key id and the bound header part
 * (version, suite, encryption context). A stanza moved to another object, or an object whose
 * context was edited, fails at unwrap (`ERR_NO_KEY` with an `ERR_AUTH` cause), before the header
 * MAC is even computed. The legacy types carry no label (their writers used none).
 *
 * **PKCS#1 v1.5 never reports bad padding.** An `rsa-pkcs1` unwrap always returns 32 bytes: the
 * data key, or a synthetic key when the padding (or the length) is wrong. A wrong key or a
 * modified stanza then fails at the header MAC (`ERR_AUTH`, "header authentication failed"),
 * exactly like a well-formed stanza holding another key: there is no padding oracle. WebCrypto
 * has no raw RSA, so there `rsa-pkcs1` stanzas throw `ERR_UNSUPPORTED` (use the node backend).
 *
 * The provider imports its key lazily, once per backend, on first use.
 *
 * @module
 */
import { toHex, concat, escapeControl, utf8, utf8Strict, type Bytes } from '../bytes.js';
import type { CryptoBackend, RsaKey, RsaKeyInput } from '../backends/backend.js';
import { getBackend, type BackendChoice } from '../backends/select.js';
import { EnsealError } from '../errors.js';
import { DATA_KEY_LENGTH, MAX_KEY_ID_LENGTH } from '../format/limits.js';
import type { KeyProvider, Stanza, WrapContext } from './provider.js';
import { rsaesPkcs1v15DecryptImplicit } from './rsa-pkcs1.js';

/** Stanza type written by {@link rsaKey}. */
export const RSA_OAEP_SHA256_STANZA = 'rsa-oaep-sha256';
/** Legacy stanza type {@link rsaKey} reads: RSA-OAEP with SHA-1, no label. */
export const RSA_OAEP_SHA1_STANZA = 'rsa-oaep-sha1';
/** Legacy stanza type {@link rsaKey} reads: RSAES-PKCS1-v1_5, implicit rejection (node only). */
export const RSA_PKCS1_STANZA = 'rsa-pkcs1';

/** Modulus sizes accepted for writing, and for reading `rsa-oaep-sha256`. */
const WRITE_BITS: ReadonlySet<number> = new Set([2048, 3072, 4096]);
/** Modulus sizes accepted for reading the legacy types. */
const LEGACY_BITS: ReadonlySet<number> = new Set([1024, 2048, 3072, 4096]);
const READ_TYPES: ReadonlySet<string> = new Set([RSA_OAEP_SHA256_STANZA, RSA_OAEP_SHA1_STANZA, RSA_PKCS1_STANZA]);
const LEGACY_TYPES: ReadonlySet<string> = new Set([RSA_OAEP_SHA1_STANZA, RSA_PKCS1_STANZA]);
const LABEL_PREFIX = utf8('enseal/v1 rsa-oaep-sha256');

/** Options of {@link rsaKey}. At least one of `publicKey` and `privateKey` is required. */
export interface RsaKeyOptions {
  /**
   * Key id stored in the stanza (not secret). Default: `sha256:` and the first 32 hex digits of
   * the SHA-256 of the public key's SPKI DER, so encryptors and decryptors agree without
   * configuration.
   */
  id?: string;
  /** The public key (to encrypt). Derived from `privateKey` when omitted. */
  publicKey?: RsaKeyInput;
  /** The private key (to decrypt). */
  privateKey?: RsaKeyInput;
  /**
   * Also read the legacy `rsa-oaep-sha1` and `rsa-pkcs1` stanzas, including with 1024-bit keys
   * (objects of other tools, e.g. the OSS SDKs). Default false: such a stanza of this key throws
   * `ERR_UNSUPPORTED`. Never changes what is written.
   */
  legacy?: boolean;
}

/** The provider {@link rsaKey} returns. */
export interface RsaKeyProvider extends KeyProvider {
  /**
   * The key id this provider writes and answers to (derived from the public key by default).
   * @param backend - the backend to import the key with (default: the runtime's default)
   * @returns the key id
   * @throws TypeError when the key material is unusable, or no id can be derived
   */
  keyId(backend?: BackendChoice): Promise<string>;
  /** Wipes the provider's copies of byte key material; later calls throw `ERR_STATE`. */
  dispose(): void;
}

interface Imported {
  readonly pub: RsaKey | undefined;
  readonly priv: RsaKey | undefined;
  readonly id: string;
  readonly idBytes: Bytes;
}

function checkInput(v: unknown, name: string): void {
  if (v === undefined) return;
  if (typeof v === 'string' || v instanceof Uint8Array) return;
  if (typeof v === 'object' && v !== null) return; // a JWK or a CryptoKey; the backend checks it
  throw new TypeError(`"${name}" expected a PEM string, DER bytes, a JWK or a CryptoKey, got ${typeof v}`);
}

const copyBytes = (v: RsaKeyInput | undefined): RsaKeyInput | undefined => (v instanceof Uint8Array ? new Uint8Array(v) : v);


function labelFor(idBytes: Uint8Array, ctx: WrapContext): Bytes {
  return concat(LABEL_PREFIX, Uint8Array.of(0, idBytes.length >>> 8, idBytes.length & 0xff), idBytes, ctx.aad);
}

/**
 * A key provider for a customer-managed RSA key pair: writes `rsa-oaep-sha256` stanzas (RSA-OAEP
 * with SHA-256, the header bound as label), reads those, and — only with `legacy: true` — the
 * legacy `rsa-oaep-sha1` and `rsa-pkcs1` types (1024-bit keys included).
 *
 * @param opts - `{ id?, publicKey?, privateKey?, legacy? }`; keys as PEM (SPKI, PKCS#8, PKCS#1),
 *   DER (SPKI, PKCS#8), JWK or `CryptoKey`
 * @returns a provider usable in `recipients` (needs a public key) and `keys` (needs a private key)
 * @throws TypeError/RangeError for missing keys, a malformed id or a non-boolean `legacy`; the
 *   keys themselves are checked on first use (a TypeError for bad material, a RangeError on wrap
 *   for a modulus that is not 2048, 3072 or 4096 bits). On unwrap, a legacy stanza of this key
 *   without `legacy: true` is EnsealError `ERR_UNSUPPORTED`, as is a modulus not accepted for
 *   the stanza's type
 * @example
 * ```ts
 * const alice = rsaKey({ publicKey: readFileSync('alice.pub.pem', 'utf8') });
 * const sealed = await encrypt(data, { recipients: [alice] });
 * const me = rsaKey({ privateKey: readFileSync('alice.pem', 'utf8') });
 * const plain = await decrypt(sealed, { keys: [me] });
 * // Objects written by other tools with RSA-OAEP-SHA-1 or PKCS#1 v1.5 (read only):
 * const old = rsaKey({ privateKey: readFileSync('oss.pem', 'utf8'), legacy: true });
 * ```
 */
export function rsaKey(opts: RsaKeyOptions): RsaKeyProvider {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected an object with publicKey and/or privateKey');
  if (opts.publicKey === undefined && opts.privateKey === undefined) throw new TypeError('rsaKey expected "publicKey" or "privateKey"');
  checkInput(opts.publicKey, 'publicKey');
  checkInput(opts.privateKey, 'privateKey');
  if (opts.legacy !== undefined && typeof opts.legacy !== 'boolean') throw new TypeError(`"legacy" expected a boolean, got ${typeof opts.legacy}`);
  const legacyReads = opts.legacy === true;
  let fixedId: Bytes | undefined;
  if (opts.id !== undefined) {
    if (typeof opts.id !== 'string' || opts.id.length === 0) throw new TypeError('"id" expected a non-empty string');
    fixedId = utf8Strict(opts.id, '"id"');
    if (fixedId.length > MAX_KEY_ID_LENGTH) throw new RangeError(`"id" expected at most ${MAX_KEY_ID_LENGTH} bytes, got ${fixedId.length}`);
  }
  const publicKey = copyBytes(opts.publicKey);
  const privateKey = copyBytes(opts.privateKey);
  let cache = new WeakMap<CryptoBackend, Promise<Imported>>();
  let disposed = false;

  async function importOn(backend: CryptoBackend): Promise<Imported> {
    const priv = privateKey !== undefined ? await backend.importRsaKey(privateKey, 'private') : undefined;
    let pub: RsaKey | undefined;
    if (publicKey !== undefined) pub = await backend.importRsaKey(publicKey, 'public');
    else {
      try {
        pub = await backend.importRsaKey(privateKey!, 'public');
      } catch (e) {
        // A non-extractable private CryptoKey: decryption still works given an explicit id.
        if (!(e instanceof EnsealError && e.code === 'ERR_UNSUPPORTED')) throw e;
      }
    }
    let spki: Bytes | undefined;
    if (pub !== undefined) spki = await backend.exportRsaSpki(pub);
    if (priv !== undefined && pub !== undefined && publicKey !== undefined) {
      const own = await backend.exportRsaSpki(priv).catch(() => undefined);
      if (own !== undefined && toHex(own) !== toHex(spki!)) throw new TypeError('rsaKey: "publicKey" and "privateKey" are not a key pair');
    }
    if (fixedId !== undefined) return { pub, priv, id: opts.id!, idBytes: fixedId };
    if (spki === undefined) throw new TypeError('rsaKey: the public key cannot be read from this private key; pass "publicKey" or "id"');
    const id = `sha256:${toHex((await backend.digest('SHA-256', spki)).subarray(0, 16))}`;
    return { pub, priv, id, idBytes: utf8(id) };
  }

  function load(backend: CryptoBackend): Promise<Imported> {
    if (disposed) return Promise.reject(new EnsealError('ERR_STATE', 'this RSA key provider was disposed'));
    let p = cache.get(backend);
    if (p === undefined) {
      p = importOn(backend);
      cache.set(backend, p);
      p.catch(() => cache.delete(backend)); // a later call may retry (e.g. after a transient failure)
    }
    return p;
  }

  async function decryptStanza(stanza: Stanza, imp: Imported, priv: RsaKey, ctx: WrapContext): Promise<Bytes> {
    const legacy = LEGACY_TYPES.has(stanza.type);
    if (legacy && !legacyReads) {
      // The reader's own stanza type: throw (not null) so ERR_NO_KEY.errors explains it.
      throw new EnsealError('ERR_UNSUPPORTED', `${stanza.type} stanza for key "${escapeControl(imp.id)}" is a legacy RSA type: reading it needs rsaKey({ ..., legacy: true }) (CLI: --legacy)`);
    }
    const bits = priv.modulusLengthInBits;
    if (stanza.wrapped.length !== Math.ceil(bits / 8) || Object.keys(stanza.params).length !== 0) {
      throw new EnsealError('ERR_HEADER', `${stanza.type} stanza for key "${escapeControl(imp.id)}" is malformed`);
    }
    if (!(legacy ? LEGACY_BITS : WRITE_BITS).has(bits)) {
      throw new EnsealError('ERR_UNSUPPORTED', `${bits}-bit RSA keys are not accepted for ${stanza.type} stanzas${legacy ? '' : ` (keys under 2048 bits read only ${RSA_OAEP_SHA1_STANZA} and ${RSA_PKCS1_STANZA}, with legacy: true)`}`);
    }
    const b = ctx.backend;
    switch (stanza.type) {
      case RSA_PKCS1_STANZA:
        return rsaesPkcs1v15DecryptImplicit(b, priv, stanza.wrapped, DATA_KEY_LENGTH);
      case RSA_OAEP_SHA1_STANZA:
        return b.rsaOaepDecrypt(priv, 'SHA-1', stanza.wrapped);
      default:
        return b.rsaOaepDecrypt(priv, 'SHA-256', stanza.wrapped, labelFor(imp.idBytes, ctx));
    }
  }

  return {
    description: `rsa:${opts.id ?? 'sha256-of-spki'}`,
    async keyId(backend?: BackendChoice): Promise<string> {
      return (await load(getBackend(backend))).id;
    },
    async wrap(dataKey, ctx): Promise<Stanza> {
      const imp = await load(ctx.backend);
      if (imp.pub === undefined) throw new TypeError('rsaKey needs "publicKey" (or an extractable "privateKey") to encrypt');
      const bits = imp.pub.modulusLengthInBits;
      if (!WRITE_BITS.has(bits)) throw new RangeError(`RSA modulus expected 2048, 3072 or 4096 bits to encrypt, got ${bits}`);
      const wrapped = await ctx.backend.rsaOaepEncrypt(imp.pub, 'SHA-256', dataKey, labelFor(imp.idBytes, ctx));
      return { type: RSA_OAEP_SHA256_STANZA, keyId: imp.id, params: {}, wrapped };
    },
    async unwrap(given, ctx): Promise<Bytes | null> {
      // Snapshot: every check and the decryption see the same values.
      const stanza: Stanza = { type: given.type, keyId: given.keyId, params: given.params, wrapped: given.wrapped };
      if (!READ_TYPES.has(stanza.type) || privateKey === undefined) return null;
      const imp = await load(ctx.backend);
      if (stanza.keyId !== imp.id) return null;
      try {
        return await decryptStanza(stanza, imp, imp.priv!, ctx);
      } catch (e) {
        if (e instanceof EnsealError && e.code === 'ERR_AUTH') {
          throw new EnsealError('ERR_AUTH', `data key wrapped for "${escapeControl(imp.id)}" failed to decrypt (wrong private key, or a modified header)`);
        }
        throw e;
      }
    },
    dispose(): void {
      disposed = true;
      cache = new WeakMap();
      for (const k of [publicKey, privateKey]) if (k instanceof Uint8Array) k.fill(0);
    },
  };
}
