/**
 * `ossKmsKey`: an Alibaba Cloud KMS master key for OSS client-side encryption objects
 * (`KMS/ALICLOUD`, docs/INTEROP.md §OSS.3), which is also an ordinary enseal `kms` provider.
 *
 * ```
 * Java, Go (single base64)   key   = CiphertextBlob of KMS Encrypt(KeyId, Plaintext = base64(CEK))
 *                            start = CiphertextBlob of KMS Encrypt(KeyId, Plaintext = base64(IV))
 *                            the metadata value IS the blob text (base64 of the blob bytes)
 * Python ≥ 2.11 (double)     key   = base64(CiphertextBlob text of GenerateDataKey(AES_256, 32 bytes))
 *                            start = base64(CiphertextBlob text of Encrypt(Plaintext = base64(IV)))
 * Python 2.5–2.10 "kms"      key   = CiphertextBlob text (Decrypt → base64 CEK)
 *                            start = CiphertextBlob text of Encrypt(Plaintext = decimal counter, raw)
 * ```
 *
 * The `alibabaKms` client (src/kms/alibaba.ts) sends `Plaintext` base64-encoded and decodes the
 * `Plaintext` of `Decrypt`, which is exactly the Java/Go/Python-current convention. The legacy
 * Python start is the one exception (its plaintext is raw decimal text, not base64): a client
 * needs the optional {@link OssKmsTextClient.decryptText} for it, else `ERR_UNSUPPORTED`.
 *
 * Which base64 layering an object uses is not recorded in its metadata: `encoding: 'auto'`
 * (default) reads the value once more as base64 when its decoded bytes are themselves strict
 * base64 text (the Python layout; a binary Java/Go blob essentially never is), else takes the
 * value as the blob. Strict like `kms()`: `keyId` is resolved once (`resolveKeyId`) and every
 * Decrypt must answer with that key (the client checks the `KeyId` of the answer).
 *
 * @module
 */
import { fromBase64, fromUtf8, utf8, wipe, type Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { EnsealError } from '../errors.js';
import type { EncryptionContext } from '../format/header.js';
import { kms, type KmsClient } from '../keys/kms.js';
import type { KeyProvider } from '../keys/provider.js';
import { matdescClaim, type OssClaim, type OssKeyring, type OssUnwrapped, type OssWrapped } from './oss-keyring.js';
import { OSS_WRAP_KMS, type OssObjectDescription } from './oss-metadata.js';
import { checkMatdesc } from './oss-options.js';

/** A KMS client that can also return a `Decrypt` plaintext as text (legacy Python starts). */
export interface OssKmsTextClient extends KmsClient {
  /**
   * Optional: `Decrypt` whose `Plaintext` is returned as the text KMS sent (not base64-decoded).
   * @param ciphertext - the blob text bytes
   * @param context - the encryption context
   * @param keyId - the canonical key the blob must be under
   */
  decryptText?(ciphertext: Uint8Array, context: EncryptionContext, keyId?: string): Promise<string>;
}

/** Options of {@link ossKmsKey}. */
export interface OssKmsKeyOptions {
  /** The KMS client (`alibabaKms` from `enseal/kms`, or any {@link KmsClient} of that shape). */
  client: OssKmsTextClient;
  /** The CMK id, alias or ARN. */
  keyId: string;
  /** The material description this key answers to and writes. */
  matdesc?: Readonly<Record<string, string>>;
  /** Base64 layering: `'auto'` (default, read), `'single'` (Java/Go; the default for writing), `'double'` (Python ≥ 2.11). */
  encoding?: 'auto' | 'single' | 'double';
  /** KMS encryption context of the OSS calls (default none; the Python SDK sends `{"x-passphrase": …}` when given a passphrase). */
  context?: EncryptionContext;
}

/** What {@link ossKmsKey} returns: an enseal KMS provider with an OSS face. */
export type OssKmsKeyProvider = KeyProvider & OssKeyring;

const STRICT_B64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$|^(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/;

/**
 * The KMS blob text of a stored value, by encoding.
 * @param text - the metadata value as stored
 * @param decoded - its base64 decoding
 * @param encoding - the configured layering
 */
function blobText(text: string, decoded: Uint8Array, encoding: 'auto' | 'single' | 'double'): string {
  if (encoding === 'single') return text;
  let inner: string | undefined;
  try {
    inner = fromUtf8(decoded);
  } catch {
    inner = undefined;
  }
  if (inner !== undefined && STRICT_B64.test(inner)) return inner;
  if (encoding === 'double') throw new EnsealError('ERR_HEADER', 'OSS metadata "client-side-encryption-key" is not the base64 of a KMS CiphertextBlob (encoding: "double")');
  return text;
}

/**
 * An Alibaba Cloud KMS key for OSS client-side-encryption objects, usable both as an enseal `kms`
 * provider (strict, under `keyId`) and as an {@link OssKeyring}.
 *
 * @param opts - `{ client, keyId, matdesc?, encoding?, context? }`
 * @returns the provider
 * @throws TypeError for a missing client or key id, a bad encoding or matdesc
 * @example
 * ```ts
 * const client = alibabaKms({ regionId: 'cn-hangzhou', credentials });
 * const key = ossKmsKey({ client, keyId: 'alias/oss-cse' });
 * await putOssObject(store, 'a.bin', bytes, { recipients: [key] });
 * ```
 */
export function ossKmsKey(opts: OssKmsKeyOptions): OssKmsKeyProvider {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('"options" expected { client, keyId }');
  const inner = kms({ client: opts.client, keyId: opts.keyId });
  const client = opts.client;
  const keyId = opts.keyId;
  const encoding = opts.encoding ?? 'auto';
  if (encoding !== 'auto' && encoding !== 'single' && encoding !== 'double') throw new TypeError(`"encoding" expected "auto", "single" or "double", got ${String(encoding)}`);
  const matdesc = checkMatdesc(opts.matdesc);
  const context: EncryptionContext = { ...(opts.context ?? {}) };
  for (const v of Object.values(context)) if (typeof v !== 'string') throw new TypeError('"context" expected a map of strings');
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
  const decrypt = async (text: string, id: string): Promise<Bytes> => {
    const r = await client.decrypt(utf8(text), context, id);
    const out = r.buffer instanceof ArrayBuffer ? (r as Bytes) : new Uint8Array(r);
    if (out !== r) wipe(r);
    return out;
  };

  const ring: OssKeyring = {
    description: `oss-${inner.description}`,
    async ossClaim(desc: OssObjectDescription): Promise<OssClaim> {
      return desc.wrapAlgorithm === OSS_WRAP_KMS ? matdescClaim(matdesc, desc) : null;
    },
    async ossUnwrap(desc: OssObjectDescription): Promise<OssUnwrapped> {
      const id = await canonicalId();
      if (desc.format === 'oss-legacy') {
        if (typeof client.decryptText !== 'function') {
          throw new EnsealError('ERR_UNSUPPORTED', 'legacy Python OSS objects with oss-wrap-alg "kms" store a raw-text KMS plaintext as start; this KMS client has no decryptText');
        }
        const key = await decrypt(desc.wrappedKeyText, id);
        try {
          const start = await client.decryptText(utf8(desc.wrappedStartText), context, id);
          return { key, start: utf8(start) };
        } catch (e) {
          key.fill(0);
          throw e;
        }
      }
      const key = await decrypt(blobText(desc.wrappedKeyText, desc.wrappedKey, encoding), id);
      try {
        return { key, start: await decrypt(blobText(desc.wrappedStartText, desc.wrappedStart, encoding), id) };
      } catch (e) {
        key.fill(0);
        throw e;
      }
    },
    async ossWrap(key: Uint8Array, iv: Uint8Array, _backend: CryptoBackend): Promise<OssWrapped> {
      const wrapOne = async (m: Uint8Array): Promise<Bytes> => {
        const r = await client.encrypt(keyId, m, context);
        const text = fromUtf8(r.ciphertext);
        if (encoding === 'double') return utf8(text);
        try {
          return fromBase64(text);
        } catch {
          throw new EnsealError('ERR_KMS_UNAVAILABLE', `${inner.description}: the KMS returned a CiphertextBlob that is not standard base64`);
        }
      };
      return { wrapAlgorithm: OSS_WRAP_KMS, wrappedKey: await wrapOne(key), wrappedStart: await wrapOne(iv), matdesc };
    },
  };

  return Object.assign(Object.create(null) as object, {
    description: ring.description,
    ...(inner.generateDataKey === undefined ? {} : { generateDataKey: inner.generateDataKey.bind(inner) }),
    wrap: inner.wrap.bind(inner),
    unwrap: inner.unwrap.bind(inner),
    ossClaim: ring.ossClaim,
    ossUnwrap: ring.ossUnwrap,
    ossWrap: ring.ossWrap,
  }) as OssKmsKeyProvider;
}
