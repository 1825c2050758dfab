/**
 * `s3ecRsaKey`: an RSA key pair for S3EC objects (the Java client's `RsaKeyring`;
 * docs/INTEROP.md S3EC.2; research notes §2.2), which is also an ordinary enseal `rsaKey`
 * provider for enseal objects.
 *
 * ```
 * RSA-OAEP-SHA1 (V2, V3; written)   EDK = RSAES-OAEP(SHA-1, MGF1-SHA-1, empty label)(pk, pseudo data key)
 *     pseudo data key = len(data key) (1 byte, 0x20) || data key (32) || UTF-8 "AES/GCM/NoPadding" (V2) or "115" (V3)
 *     read: the length byte must be 32 and the suffix must equal the object's version's string
 * RSA/ECB/OAEPWithSHA-256AndMGF1Padding (V1)   not supported: JCE reads that name as OAEP-SHA-256 with
 *     MGF1-SHA-1, which no backend offers (ERR_UNSUPPORTED)
 * ```
 *
 * Reading is a legacy RSA operation (OAEP-SHA-1, no binding to an enseal header): it needs
 * `legacy: true`, like `rsaKey`'s legacy stanzas, else `ERR_UNSUPPORTED` naming the option.
 * Writing needs a 2048–4096-bit key.
 *
 * @module
 */
import { concat, constantTimeEqual, utf8, wipe, type Bytes, copyBytes } from '../bytes.js';
import type { CryptoBackend, RsaKey, RsaKeyInput } from '../backends/backend.js';
import { EnsealError } from '../errors.js';
import { rsaKey, type RsaKeyProvider } from '../keys/rsa.js';
import { S3EC_RSA_WRAPS, checkS3ecMap, s3ecBoundAlgorithm, sameS3ecMap, type S3ecKeyring, type S3ecWrapped, type S3ecWrapRequest } from './s3ec-keyring.js';
import type { S3ecObjectDescription } from './s3ec-metadata.js';

/** Options of {@link s3ecRsaKey}. */
export interface S3ecRsaKeyOptions {
  /** The public key (to write). Derived from `privateKey` when omitted. */
  publicKey?: RsaKeyInput;
  /** The private key (to read). */
  privateKey?: RsaKeyInput;
  /** Required to read S3EC objects (RSA-OAEP-SHA-1 is a legacy wrap). */
  legacy?: boolean;
  /** Material description written with new objects and required of read ones (default: none written, any accepted). */
  matdesc?: Readonly<Record<string, string>>;
  /** Key id of the inner enseal `rsaKey` (enseal objects only). */
  id?: string;
}

/** What {@link s3ecRsaKey} returns. */
export type S3ecRsaKeyProvider = RsaKeyProvider & S3ecKeyring;

const WRITE_BITS: ReadonlySet<number> = new Set([2048, 3072, 4096]);
const READ_BITS: ReadonlySet<number> = new Set([1024, 2048, 3072, 4096]);
const pseudoFailure = (): EnsealError => new EnsealError('ERR_AUTH', 'the S3EC RSA pseudo data key is malformed (wrong key, or modified metadata)');

/**
 * Builds the RSA pseudo data key.
 * @param dataKey - 32 bytes
 * @param version - 2 or 3
 * @returns `0x20 || dataKey || suffix` (the caller wipes it)
 * @example
 * ```ts
 * s3ecPseudoDataKey(dataKey, 3).length; // 1 + 32 + 3
 * ```
 */
export function s3ecPseudoDataKey(dataKey: Uint8Array, version: 2 | 3): Bytes {
  return concat(Uint8Array.of(dataKey.length), dataKey, utf8(s3ecBoundAlgorithm(version)));
}

/**
 * An RSA key pair for S3EC objects, usable both as an enseal `rsaKey` provider and as an
 * {@link S3ecKeyring}.
 *
 * @param opts - `{ privateKey?, publicKey?, legacy?, matdesc?, id? }`
 * @returns the provider
 * @throws TypeError for missing keys or a bad matdesc; on use, reading without `legacy: true` is
 *   `ERR_UNSUPPORTED` and writing with a key outside 2048–4096 bits a RangeError
 * @example
 * ```ts
 * const k = s3ecRsaKey({ privateKey: pem, legacy: true });
 * const { body } = await openS3ecObject(store, 'a.bin', await store.head('a.bin'), { keys: [k] });
 * ```
 */
export function s3ecRsaKey(opts: S3ecRsaKeyOptions): S3ecRsaKeyProvider {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected an object with publicKey and/or privateKey');
  const inner = rsaKey({ id: opts.id, publicKey: opts.publicKey, privateKey: opts.privateKey, legacy: opts.legacy });
  const matdesc = checkS3ecMap(opts.matdesc, 'matdesc');
  const legacy = opts.legacy === true;
  const privateKey = opts.privateKey instanceof Uint8Array ? new Uint8Array(opts.privateKey) : opts.privateKey;
  const publicKey = opts.publicKey instanceof Uint8Array ? new Uint8Array(opts.publicKey) : opts.publicKey;
  let cache = new WeakMap<CryptoBackend, Map<string, Promise<RsaKey>>>();
  let disposed = false;
  const description = `s3ec-${inner.description}`;
  const load = (b: CryptoBackend, type: 'public' | 'private'): Promise<RsaKey> => {
    if (disposed) return Promise.reject(new EnsealError('ERR_STATE', 'this S3EC RSA key provider was disposed'));
    let m = cache.get(b);
    if (m === undefined) cache.set(b, (m = new Map()));
    let p = m.get(type);
    if (p === undefined) {
      const input = type === 'private' ? privateKey : (publicKey ?? privateKey);
      if (input === undefined) return Promise.reject(new TypeError(`s3ecRsaKey needs "${type === 'private' ? 'privateKey' : 'publicKey'}" for this`));
      p = b.importRsaKey(input, type);
      const mm = m;
      mm.set(type, p);
      p.catch(() => mm.delete(type));
    }
    return p;
  };
  const ring: S3ecKeyring = {
    description,
    s3ecClaim(desc: S3ecObjectDescription): boolean {
      return privateKey !== undefined && S3EC_RSA_WRAPS.has(desc.wrapAlgorithm) && (matdesc === undefined || sameS3ecMap(matdesc, desc.matdesc));
    },
    async s3ecUnwrap(desc: S3ecObjectDescription, backend: CryptoBackend): Promise<Bytes> {
      if (!legacy) throw new EnsealError('ERR_UNSUPPORTED', `S3EC objects wrapped with ${desc.wrapAlgorithm} are legacy RSA: reading them needs s3ecRsaKey({ ..., legacy: true })`);
      const priv = await load(backend, 'private');
      if (!READ_BITS.has(priv.modulusLengthInBits)) throw new EnsealError('ERR_UNSUPPORTED', `${priv.modulusLengthInBits}-bit RSA keys are not accepted for S3EC objects`);
      if (desc.wrapAlgorithm === 'RSA/ECB/OAEPWithSHA-256AndMGF1Padding') {
        // JCE's default for this name is OAEP-SHA-256 with MGF1-SHA-1 (a mixed-hash OAEP no backend offers).
        throw new EnsealError('ERR_UNSUPPORTED', 'S3EC V1 RSA/ECB/OAEPWithSHA-256AndMGF1Padding (JCE: OAEP-SHA-256 with MGF1-SHA-1) is not supported');
      }
      const pseudo = await backend.rsaOaepDecrypt(priv, 'SHA-1', desc.encryptedDataKey);
      try {
        const suffix = utf8(desc.contentAlgorithm); // the claimed content algorithm (`115` for V3), as in the AES/GCM wrap
        if (pseudo.length !== 1 + 32 + suffix.length || pseudo[0] !== 32 || !constantTimeEqual(pseudo.subarray(33), suffix)) throw pseudoFailure();
        return copyBytes(pseudo.subarray(1, 33));
      } finally {
        wipe(pseudo);
      }
    },
    async s3ecWrap(dataKey: Uint8Array, req: S3ecWrapRequest, backend: CryptoBackend): Promise<S3ecWrapped> {
      const pub = await load(backend, 'public');
      if (!WRITE_BITS.has(pub.modulusLengthInBits)) throw new RangeError(`RSA modulus expected 2048, 3072 or 4096 bits to encrypt, got ${pub.modulusLengthInBits}`);
      const pseudo = s3ecPseudoDataKey(dataKey, req.version);
      try {
        return { wrapAlgorithm: 'RSA-OAEP-SHA1', encryptedDataKey: await backend.rsaOaepEncrypt(pub, 'SHA-1', pseudo), matdesc: matdesc ?? {} };
      } finally {
        wipe(pseudo);
      }
    },
  };
  return Object.assign(Object.create(null) as object, {
    description,
    keyId: inner.keyId.bind(inner),
    wrap: inner.wrap.bind(inner),
    unwrap: inner.unwrap.bind(inner),
    dispose(): void {
      disposed = true;
      cache = new WeakMap();
      for (const k of [privateKey, publicKey]) if (k instanceof Uint8Array) k.fill(0);
      inner.dispose();
    },
    s3ecClaim: ring.s3ecClaim,
    s3ecUnwrap: ring.s3ecUnwrap,
    s3ecWrap: ring.s3ecWrap,
  }) as S3ecRsaKeyProvider;
}
