/**
 * `s3ecAesKey`: a customer AES-256 wrapping key for S3EC objects (the Java client's
 * `AesKeyring`; docs/INTEROP.md S3EC.2; research notes §2.2), which is also an ordinary enseal
 * `aesKey` provider for enseal objects.
 *
 * ```
 * AES/GCM (V2, V3; written)   EDK = nonce (12, random) || AES-256-GCM(wrap key, nonce, data key, AAD) || tag (16)   = 60 bytes
 *                             AAD = UTF-8 "AES/GCM/NoPadding" (V2) or "115" (V3)
 * AESWrap (V1, V2; read)      EDK = RFC 3394 AES key wrap of the data key (40 bytes), default IV A6…A6
 * ```
 *
 * AESWrap cannot bind anything and V1/V2 content is not committing, so such objects are only as
 * good as their GCM tag (V2) or not authenticated at all (V1 CBC).
 *
 * @module
 */
import { assertBytes, utf8, wipe, type Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { EnsealError } from '../errors.js';
import { aesKey, type AesKeyProvider } from '../keys/aes-key.js';
import { aesKwUnwrap } from '../keys/aes-kw.js';
import { S3EC_AES_WRAPS, checkS3ecMap, s3ecBoundAlgorithm, sameS3ecMap, type S3ecKeyring, type S3ecWrapped, type S3ecWrapRequest } from './s3ec-keyring.js';
import type { S3ecObjectDescription } from './s3ec-metadata.js';

/** Options of {@link s3ecAesKey}. */
export interface S3ecAesKeyOptions {
  /** The 32-byte AES-256 wrapping key (copied). */
  key: Uint8Array;
  /** Material description written with new objects and required of read ones (default: none written, any accepted). */
  matdesc?: Readonly<Record<string, string>>;
  /** Key id of the inner enseal `aesKey` (enseal objects only; default `s3ec-aes`). */
  id?: string;
}

/** What {@link s3ecAesKey} returns. */
export type S3ecAesKeyProvider = AesKeyProvider & S3ecKeyring;

const unwrapFailure = (): EnsealError => new EnsealError('ERR_AUTH', 'the S3EC AES/GCM encrypted data key failed to unwrap (wrong key, or modified metadata)');

/**
 * An AES-256 key for S3EC objects, usable both as an enseal `aesKey` provider and as an
 * {@link S3ecKeyring}.
 *
 * @param opts - `{ key, matdesc?, id? }`
 * @returns the provider (`dispose()` wipes both copies of the key)
 * @throws TypeError/RangeError for a key that is not 32 bytes or a bad matdesc
 * @example
 * ```ts
 * const k = s3ecAesKey({ key: wrappingKey, matdesc: { purpose: 'backups' } });
 * await putS3ecObject(store, 'a.bin', bytes, { recipients: [k] });
 * ```
 */
export function s3ecAesKey(opts: S3ecAesKeyOptions): S3ecAesKeyProvider {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected { key }');
  assertBytes(opts.key, 'key', 32);
  const matdesc = checkS3ecMap(opts.matdesc, 'matdesc');
  const inner = aesKey({ id: opts.id ?? 's3ec-aes', key: opts.key });
  // A real copy in a plain array (a Node Buffer's slice() is a view of the caller's memory).
  const key = new Uint8Array(opts.key);
  let disposed = false;
  const live = (): Bytes => {
    if (disposed) throw new EnsealError('ERR_STATE', 'this S3EC AES key provider was disposed');
    return key;
  };
  const description = `s3ec-aes:${inner.description}`;
  const ring: S3ecKeyring = {
    description,
    s3ecClaim(desc: S3ecObjectDescription): boolean {
      return S3EC_AES_WRAPS.has(desc.wrapAlgorithm) && (matdesc === undefined || sameS3ecMap(matdesc, desc.matdesc));
    },
    async s3ecUnwrap(desc: S3ecObjectDescription, backend: CryptoBackend): Promise<Bytes> {
      const k = live();
      const edk = desc.encryptedDataKey;
      if (desc.wrapAlgorithm === 'AESWrap') return aesKwUnwrap(backend, k, edk);
      if (edk.length !== 12 + 32 + 16) throw unwrapFailure();
      const gcm = await backend.aesGcm(k);
      try {
        // AAD: the content algorithm the object claims (`115` for V3), as the Java client binds
        // its suite's cipher name; a GCM object relabelled CBC does not unwrap.
        return await gcm.open(edk.subarray(0, 12), edk.subarray(12), utf8(desc.contentAlgorithm));
      } catch (e) {
        if (e instanceof EnsealError && e.code === 'ERR_AUTH') throw unwrapFailure();
        throw e;
      } finally {
        gcm.dispose();
      }
    },
    async s3ecWrap(dataKey: Uint8Array, req: S3ecWrapRequest, backend: CryptoBackend): Promise<S3ecWrapped> {
      const k = live();
      const nonce = backend.randomBytes(12);
      const gcm = await backend.aesGcm(k);
      try {
        const sealed = await gcm.seal(nonce, dataKey, utf8(s3ecBoundAlgorithm(req.version)));
        const edk = new Uint8Array(12 + sealed.length);
        edk.set(nonce);
        edk.set(sealed, 12);
        return { wrapAlgorithm: 'AES/GCM', encryptedDataKey: edk, matdesc: matdesc ?? {} };
      } finally {
        gcm.dispose();
      }
    },
  };
  return Object.assign(Object.create(null) as object, {
    description,
    wrap: inner.wrap.bind(inner),
    unwrap: inner.unwrap.bind(inner),
    dispose(): void {
      disposed = true;
      wipe(key);
      inner.dispose();
    },
    s3ecClaim: ring.s3ecClaim,
    s3ecUnwrap: ring.s3ecUnwrap,
    s3ecWrap: ring.s3ecWrap,
  }) as S3ecAesKeyProvider;
}
