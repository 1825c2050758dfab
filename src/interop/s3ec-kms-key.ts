/**
 * `s3ecKmsKey`: an AWS KMS key for S3EC objects (the Java client's `KmsKeyring`;
 * docs/INTEROP.md S3EC.2; research notes §2.2), which is also an ordinary enseal `kms` provider.
 *
 * ```
 * kms+context (V2, V3; written)   EDK = CiphertextBlob of KMS Encrypt(KeyId, data key, EncryptionContext = EC)
 *     EC = the caller's context + { "aws:x-amz-cek-alg": "AES/GCM/NoPadding" (V2) | "115" (V3) }
 *     stored as JSON in x-amz-matdesc (V2) or x-amz-t (V3); the caller may not set the reserved key
 * kms (V1, V2; read)              EDK = CiphertextBlob; EC = the stored x-amz-matdesc as it is
 * ```
 *
 * Strict like `kms()`: `keyId` is resolved once (`resolveKeyId`) and every Decrypt names it, so
 * an object made under another key the reader's credentials can use is refused by KMS
 * (`ERR_KMS_DENIED`). The stored EC is sent exactly as stored; KMS authenticates it.
 *
 * @module
 */
import { wipe, type Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { kms, type KmsClient } from '../keys/kms.js';
import type { KeyProvider } from '../keys/provider.js';
import { S3EC_KMS_WRAPS, checkS3ecMap, s3ecBoundAlgorithm, type S3ecKeyring, type S3ecWrapped, type S3ecWrapRequest } from './s3ec-keyring.js';
import { S3EC_RESERVED_CONTEXT_KEY, type S3ecObjectDescription } from './s3ec-metadata.js';

/** Options of {@link s3ecKmsKey}. */
export interface S3ecKmsKeyOptions {
  /** The KMS client (`awsKms` from `enseal/kms`). */
  client: KmsClient;
  /** The CMK id, alias or ARN (an ARN avoids a `DescribeKey` call). */
  keyId: string;
  /** Default encryption context of new objects (without the reserved `aws:x-amz-cek-alg`). */
  context?: Readonly<Record<string, string>>;
}

/** What {@link s3ecKmsKey} returns. */
export type S3ecKmsKeyProvider = KeyProvider & S3ecKeyring;

/**
 * An AWS KMS key for S3EC objects, usable both as an enseal `kms` provider and as an {@link S3ecKeyring}.
 *
 * @param opts - `{ client, keyId, context? }`
 * @returns the provider
 * @throws TypeError for a missing client or key id, or a context holding the reserved key
 * @example
 * ```ts
 * const k = s3ecKmsKey({ client: awsKms({ region, credentials }), keyId: 'arn:aws:kms:…:key/…' });
 * await putS3ecObject(store, 'a.bin', bytes, { recipients: [k], context: { team: 'ops' } });
 * ```
 */
export function s3ecKmsKey(opts: S3ecKmsKeyOptions): S3ecKmsKeyProvider {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected { client, keyId }');
  const inner = kms({ client: opts.client, keyId: opts.keyId });
  const client = opts.client;
  const keyId = opts.keyId;
  const defaults = checkS3ecMap(opts.context, 'context') ?? {};
  let canonical: Promise<string> | undefined;
  const canonicalId = (): Promise<string> => {
    if (canonical === undefined) {
      const p = Promise.resolve(client.resolveKeyId === undefined ? keyId : client.resolveKeyId(keyId));
      canonical = p;
      p.catch(() => {
        if (canonical === p) canonical = undefined;
      });
    }
    return canonical;
  };
  const description = `s3ec-${inner.description}`;
  const ring: S3ecKeyring = {
    description,
    s3ecClaim(desc: S3ecObjectDescription): boolean {
      return S3EC_KMS_WRAPS.has(desc.wrapAlgorithm);
    },
    async s3ecUnwrap(desc: S3ecObjectDescription, _backend: CryptoBackend): Promise<Bytes> {
      const id = await canonicalId();
      const r = await client.decrypt(desc.encryptedDataKey, { ...desc.matdesc }, id);
      const out = r.buffer instanceof ArrayBuffer ? (r as Bytes) : Uint8Array.from(r);
      if (out !== r) wipe(r);
      return out;
    },
    async s3ecWrap(dataKey: Uint8Array, req: S3ecWrapRequest, _backend: CryptoBackend): Promise<S3ecWrapped> {
      const extra = checkS3ecMap(req.context, 'context') ?? {};
      const context = { ...defaults, ...extra, [S3EC_RESERVED_CONTEXT_KEY]: s3ecBoundAlgorithm(req.version) };
      const r = await client.encrypt(keyId, dataKey, context);
      return { wrapAlgorithm: 'kms+context', encryptedDataKey: r.ciphertext instanceof Uint8Array && r.ciphertext.buffer instanceof ArrayBuffer ? (r.ciphertext as Bytes) : Uint8Array.from(r.ciphertext), matdesc: Object.freeze(context) };
    },
  };
  return Object.assign(Object.create(null) as object, {
    description,
    ...(inner.generateDataKey === undefined ? {} : { generateDataKey: inner.generateDataKey.bind(inner) }),
    wrap: inner.wrap.bind(inner),
    unwrap: inner.unwrap.bind(inner),
    s3ecClaim: ring.s3ecClaim,
    s3ecUnwrap: ring.s3ecUnwrap,
    s3ecWrap: ring.s3ecWrap,
  }) as S3ecKmsKeyProvider;
}
