/**
 * `ossRsaKey`: an RSA key pair for OSS client-side encryption objects (docs/INTEROP.md §OSS.3),
 * which is also an ordinary enseal `rsaKey` provider for enseal objects.
 *
 * ```
 * RSA/NONE/PKCS1Padding                 key   = RSAES-PKCS1-v1_5(pk, CEK)     (k bytes)
 *                                       start = RSAES-PKCS1-v1_5(pk, IV)      (k bytes, a separate encryption)
 *                                       read with implicit rejection (src/keys/rsa-pkcs1.ts): a wrong key
 *                                       or a modified value gives a synthetic key, never an error
 * RSA/NONE/OAEPWithSHA-1AndMGF1Padding  key/start = RSAES-OAEP(SHA-1, MGF1-SHA-1, empty label)
 * legacy "rsa"                          key = OAEP-SHA-1(CEK), start = OAEP-SHA-1(ASCII decimal counter)
 * ```
 *
 * Reading any of these is a legacy operation: it needs `legacy: true`, exactly like `rsaKey`'s
 * legacy stanzas (without it the keyring throws `ERR_UNSUPPORTED` naming the option). Writing
 * uses PKCS#1 v1.5 (what the Java, Go and C++ readers accept; default) or OAEP-SHA-1 (Python
 * only), with a 2048-, 3072- or 4096-bit key; PKCS#1 v1.5 encryption uses node:crypto's
 * `publicEncrypt` (reached through `process.getBuiltinModule`), elsewhere it is
 * `ERR_UNSUPPORTED`.
 *
 * @module
 */
import type { Bytes } from '../bytes.js';
import type { CryptoBackend, RsaKey, RsaKeyInput } from '../backends/backend.js';
import { getBackend, type BackendChoice } from '../backends/select.js';
import { EnsealError } from '../errors.js';
import { rsaKey, type RsaKeyProvider } from '../keys/rsa.js';
import { rsaesPkcs1v15DecryptImplicit } from '../keys/rsa-pkcs1.js';
import { matdescClaim, type OssClaim, type OssKeyring, type OssUnwrapped, type OssWrapped } from './oss-keyring.js';
import { OSS_WRAP_RSA_OAEP_SHA1, OSS_WRAP_RSA_PKCS1, type OssObjectDescription } from './oss-metadata.js';
import { checkMatdesc } from './oss-options.js';

/** Options of {@link ossRsaKey}. */
export interface OssRsaKeyOptions {
  /** The public key (to write). Derived from `privateKey` when omitted. */
  publicKey?: RsaKeyInput;
  /** The private key (to read). */
  privateKey?: RsaKeyInput;
  /** Required to read OSS objects (they are legacy RSA: PKCS#1 v1.5 / OAEP-SHA-1, no binding). */
  legacy?: boolean;
  /** The material description this key answers to and writes (see the keyring selection rules). */
  matdesc?: Readonly<Record<string, string>>;
  /** Wrap written: `'pkcs1'` (default; Java, Go, C++ and Python read it) or `'oaep-sha1'` (Python only). */
  wrap?: 'pkcs1' | 'oaep-sha1';
  /** Key id of the inner enseal `rsaKey` (enseal objects only). */
  id?: string;
  /** Run the RSA operations on this backend instead of the call's (e.g. `'node'` when the content runs on WebCrypto, which has no raw RSA). */
  rsaBackend?: BackendChoice;
}

/** What {@link ossRsaKey} returns: an enseal RSA provider with an OSS face. */
export type OssRsaKeyProvider = RsaKeyProvider & OssKeyring;

const READ_BITS: ReadonlySet<number> = new Set([1024, 2048, 3072, 4096]);
const WRITE_BITS: ReadonlySet<number> = new Set([2048, 3072, 4096]);

interface NodeCryptoPublic {
  publicEncrypt(key: { key: Uint8Array; format: 'der'; type: 'spki'; padding: number }, data: Uint8Array): Uint8Array;
  constants: { RSA_PKCS1_PADDING: number };
}

function nodeCrypto(): NodeCryptoPublic | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule('node:crypto') as NodeCryptoPublic | undefined) : undefined;
}

/**
 * RSAES-PKCS1-v1_5 encryption (RFC 8017 §7.2.1) with node:crypto.
 * @throws EnsealError `ERR_UNSUPPORTED` where node:crypto is unavailable
 */
async function pkcs1Encrypt(backend: CryptoBackend, pub: RsaKey, data: Uint8Array): Promise<Bytes> {
  const nc = nodeCrypto();
  if (nc === undefined) throw new EnsealError('ERR_UNSUPPORTED', 'writing RSA/NONE/PKCS1Padding needs node:crypto (use wrap: "oaep-sha1" or the KMS elsewhere)');
  const spki = await backend.exportRsaSpki(pub);
  const out = nc.publicEncrypt({ key: spki, format: 'der', type: 'spki', padding: nc.constants.RSA_PKCS1_PADDING }, data);
  return Uint8Array.from(out);
}

/**
 * An RSA key pair for OSS client-side-encryption objects, usable both as an enseal `rsaKey`
 * provider and as an {@link OssKeyring} (`openOssObject`, `putOssObject`, the encrypting bucket).
 *
 * @param opts - keys (PEM SPKI/PKCS#8/PKCS#1, DER, JWK or CryptoKey), `legacy: true` to read,
 *   optional `matdesc`, `wrap` (`'pkcs1'` default or `'oaep-sha1'`), `rsaBackend`
 * @returns the provider
 * @throws TypeError/RangeError for missing keys, a bad `wrap` or a non-string matdesc; on use:
 *   reading without `legacy: true` is EnsealError `ERR_UNSUPPORTED`; writing with a key that is
 *   not 2048, 3072 or 4096 bits is a RangeError
 * @example
 * ```ts
 * const key = ossRsaKey({ privateKey: readFileSync('oss.pem', 'utf8'), legacy: true });
 * const { body } = await openOssObject(store, 'photo.jpg', await store.head('photo.jpg'), { keys: [key], allowUnauthenticated: true });
 * ```
 */
export function ossRsaKey(opts: OssRsaKeyOptions): OssRsaKeyProvider {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected an object with publicKey and/or privateKey');
  const inner = rsaKey({ id: opts.id, publicKey: opts.publicKey, privateKey: opts.privateKey, legacy: opts.legacy });
  const wrapAlgorithm = opts.wrap === undefined || opts.wrap === 'pkcs1' ? OSS_WRAP_RSA_PKCS1 : opts.wrap === 'oaep-sha1' ? OSS_WRAP_RSA_OAEP_SHA1 : undefined;
  if (wrapAlgorithm === undefined) throw new TypeError(`"wrap" expected "pkcs1" or "oaep-sha1", got ${String(opts.wrap)}`);
  const matdesc = checkMatdesc(opts.matdesc);
  const legacy = opts.legacy === true;
  const rsaBackend = opts.rsaBackend === undefined ? undefined : getBackend(opts.rsaBackend);
  const privateKey = opts.privateKey instanceof Uint8Array ? new Uint8Array(opts.privateKey) : opts.privateKey;
  const publicKey = opts.publicKey instanceof Uint8Array ? new Uint8Array(opts.publicKey) : opts.publicKey;
  let caches = { private: new WeakMap<CryptoBackend, Promise<RsaKey>>(), public: new WeakMap<CryptoBackend, Promise<RsaKey>>() };
  let disposed = false;
  const description = `oss-${inner.description}${matdesc === undefined ? '' : ` (matdesc ${Object.keys(matdesc).length} entries)`}`;

  const load = (b: CryptoBackend, type: 'public' | 'private'): Promise<RsaKey> => {
    if (disposed) return Promise.reject(new EnsealError('ERR_STATE', 'this OSS RSA key provider was disposed'));
    const cache = caches[type];
    let p = cache.get(b);
    if (p === undefined) {
      const input = type === 'private' ? privateKey : (publicKey ?? privateKey);
      if (input === undefined) return Promise.reject(new TypeError(`ossRsaKey needs "${type === 'private' ? 'privateKey' : 'publicKey'}" for this`));
      p = b.importRsaKey(input, type);
      cache.set(b, p);
      p.catch(() => cache.delete(b));
    }
    return p;
  };

  const ring: OssKeyring = {
    description,
    async ossClaim(desc: OssObjectDescription, backend: CryptoBackend): Promise<OssClaim> {
      if (desc.wrapAlgorithm !== OSS_WRAP_RSA_PKCS1 && desc.wrapAlgorithm !== OSS_WRAP_RSA_OAEP_SHA1) return null;
      if (privateKey === undefined) return null;
      const priv = await load(rsaBackend ?? backend, 'private');
      // Public facts only: an RSA ciphertext of this key is exactly k bytes long.
      const k = Math.ceil(priv.modulusLengthInBits / 8);
      if (desc.wrappedKey.length !== k || desc.wrappedStart.length !== k) return null;
      return matdescClaim(matdesc, desc);
    },
    async ossUnwrap(desc: OssObjectDescription, backend: CryptoBackend): Promise<OssUnwrapped> {
      if (!legacy) {
        throw new EnsealError('ERR_UNSUPPORTED', `OSS objects wrapped with ${desc.wrapAlgorithm} are legacy RSA: reading them needs ossRsaKey({ ..., legacy: true })`);
      }
      const b = rsaBackend ?? backend;
      const priv = await load(b, 'private');
      if (!READ_BITS.has(priv.modulusLengthInBits)) throw new EnsealError('ERR_UNSUPPORTED', `${priv.modulusLengthInBits}-bit RSA keys are not accepted for OSS objects`);
      if (desc.wrapAlgorithm === OSS_WRAP_RSA_PKCS1) {
        // Fixed lengths: anything else is bad padding, answered with a synthetic value (no oracle).
        const key = await rsaesPkcs1v15DecryptImplicit(b, priv, desc.wrappedKey, 32);
        try {
          return { key, start: await rsaesPkcs1v15DecryptImplicit(b, priv, desc.wrappedStart, 16) };
        } catch (e) {
          key.fill(0);
          throw e;
        }
      }
      const key = await b.rsaOaepDecrypt(priv, 'SHA-1', desc.wrappedKey);
      try {
        return { key, start: await b.rsaOaepDecrypt(priv, 'SHA-1', desc.wrappedStart) };
      } catch (e) {
        key.fill(0);
        throw e;
      }
    },
    async ossWrap(key: Uint8Array, iv: Uint8Array, backend: CryptoBackend): Promise<OssWrapped> {
      const b = rsaBackend ?? backend;
      const pub = await load(b, 'public');
      if (!WRITE_BITS.has(pub.modulusLengthInBits)) throw new RangeError(`RSA modulus expected 2048, 3072 or 4096 bits to encrypt, got ${pub.modulusLengthInBits}`);
      const enc = (m: Uint8Array): Promise<Bytes> => (wrapAlgorithm === OSS_WRAP_RSA_PKCS1 ? pkcs1Encrypt(b, pub, m) : b.rsaOaepEncrypt(pub, 'SHA-1', m));
      return { wrapAlgorithm, wrappedKey: await enc(key), wrappedStart: await enc(iv), matdesc };
    },
  };

  return Object.assign(Object.create(null) as object, {
    description,
    keyId: inner.keyId.bind(inner),
    wrap: inner.wrap.bind(inner),
    unwrap: inner.unwrap.bind(inner),
    dispose(): void {
      disposed = true;
      caches = { private: new WeakMap(), public: new WeakMap() };
      for (const k of [privateKey, publicKey]) if (k instanceof Uint8Array) k.fill(0);
      inner.dispose();
    },
    ossClaim: ring.ossClaim,
    ossUnwrap: ring.ossUnwrap,
    ossWrap: ring.ossWrap,
  }) as OssRsaKeyProvider;
}
