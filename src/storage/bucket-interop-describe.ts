/**
 * `headObject` / `enseal inspect` for foreign objects: a JSON-able description of an OSS or S3EC
 * object's metadata with no secret and no wrapped-key bytes (lengths only), and a sentence
 * saying which key provider would be needed to read it (docs/INTEROP.md §"Through the
 * encrypting bucket"). Nothing in it is authenticated.
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import { S3EC_CEK_CBC, S3EC_CEK_COMMIT, S3EC_RESERVED_CONTEXT_KEY, type S3ecObjectDescription } from '../interop/s3ec-metadata.js';
import { OSS_WRAP_KMS, OSS_WRAP_RSA_PKCS1, type OssObjectDescription } from '../interop/oss-metadata.js';
import type { StoredFormat } from './bucket-interop-format.js';

/** A foreign object, described (no secrets, no wrapped-key bytes). */
export interface InteropDescription {
  /** The format. */
  readonly format: Exclude<StoredFormat, 'enseal'>;
  /** The content cipher actually used. */
  readonly contentCipher: string;
  /** The cek-alg label as stored (OSS legacy says GCM but is CTR). */
  readonly contentAlgorithmLabel: string;
  /** The key-wrap algorithm. */
  readonly wrapAlgorithm: string;
  /** Length of the wrapped key in bytes (an RSA ciphertext is the modulus length). */
  readonly wrappedKeyLength: number;
  /** Material description (raw keys) as stored, when any. */
  readonly matdesc?: Readonly<Record<string, string>>;
  /** KMS encryption context as stored, when the format keeps one. */
  readonly encryptionContext?: Readonly<Record<string, string>>;
  /** Whether some fields come from `<key>.instruction`. */
  readonly instructionFile: boolean;
  /** Whether a whole read is authenticated (S3EC GCM) — ranged reads never are. */
  readonly authenticatedWholeRead: boolean;
  /** Whether the content key is committed (S3EC V3). */
  readonly keyCommitting: boolean;
  /** Whether a whole read checks a recorded MD5 (OSS). */
  readonly md5: boolean;
  /** Plaintext length as the writer recorded it (unauthenticated), when it did. */
  readonly unencryptedContentLength?: number;
  /** Multipart facts recorded by the writer (OSS), when any. */
  readonly multipart?: { readonly partSize?: number; readonly dataSize?: number };
  /** Which key provider would read it, in words. */
  readonly keyProvider: string;
}

const json = (m: Readonly<Record<string, string>>): string => escapeControl(JSON.stringify(m), 240);

/**
 * Describes an OSS object.
 * @param d - the decoded metadata
 * @returns the description
 * @example
 * ```ts
 * describeOss(describeOssObject(info)).keyProvider; // 'an RSA-1024 private key (ossRsaKey({ privateKey, legacy: true })) …'
 * ```
 */
export function describeOss(d: OssObjectDescription): InteropDescription {
  const md = d.matdesc === undefined || Object.keys(d.matdesc).length === 0 ? undefined : d.matdesc;
  const which = md === undefined ? 'with no matdesc (any key configured without one is tried)' : `whose matdesc is ${json(md)}`;
  let keyProvider: string;
  if (d.wrapAlgorithm === OSS_WRAP_KMS) {
    keyProvider =
      d.format === 'oss-legacy'
        ? `an Alibaba Cloud KMS key (ossKmsKey({ client, keyId }) with a client that has decryptText: the legacy start is raw text); the object does not name the key`
        : `an Alibaba Cloud KMS key (ossKmsKey({ client: alibabaKms(…), keyId })) ${which}; the object does not name the key`;
  } else {
    const bits = d.wrappedKey.length * 8;
    const pad = d.wrapAlgorithm === OSS_WRAP_RSA_PKCS1 ? 'PKCS#1 v1.5' : 'OAEP-SHA-1';
    keyProvider = `an RSA-${bits} private key (ossRsaKey({ privateKey, legacy: true }), ${pad}) ${d.format === 'oss-legacy' ? '(legacy Python format)' : which}`;
  }
  return {
    format: d.format,
    contentCipher: 'AES-256-CTR',
    contentAlgorithmLabel: d.cekAlgLabel,
    wrapAlgorithm: d.wrapAlgorithm,
    wrappedKeyLength: d.wrappedKey.length,
    ...(md === undefined ? {} : { matdesc: { ...md } }),
    instructionFile: false,
    authenticatedWholeRead: false,
    keyCommitting: false,
    md5: d.unencryptedContentMd5 !== undefined,
    ...(d.unencryptedContentLength === undefined ? {} : { unencryptedContentLength: d.unencryptedContentLength }),
    ...(d.partSize === undefined && d.dataSize === undefined
      ? {}
      : { multipart: { ...(d.partSize === undefined ? {} : { partSize: d.partSize }), ...(d.dataSize === undefined ? {} : { dataSize: d.dataSize }) } }),
    keyProvider,
  };
}

/**
 * Describes an S3EC object.
 * @param d - the decoded metadata (merged with its instruction file)
 * @returns the description
 * @example
 * ```ts
 * describeS3ec(await describeS3ecObject(store, key, info.metadata)).keyProvider; // 'an AES-256 key (s3ecAesKey({ key })) …'
 * ```
 */
export function describeS3ec(d: S3ecObjectDescription): InteropDescription {
  const cbc = d.contentAlgorithm === S3EC_CEK_CBC;
  const md = { ...d.matdesc };
  const which = Object.keys(md).length === 0 ? 'with an empty material description' : `whose material description is ${json(md)}`;
  let keyProvider: string;
  if (d.wrapAlgorithm === 'kms+context' || d.wrapAlgorithm === 'kms') {
    const cmk = Object.hasOwn(md, 'kms_cmk_id') ? md.kms_cmk_id : undefined;
    const ctx = Object.fromEntries(Object.entries(md).filter(([k]) => k !== S3EC_RESERVED_CONTEXT_KEY && k !== 'kms_cmk_id'));
    keyProvider =
      (cmk === undefined ? 'an AWS KMS key (s3ecKmsKey({ client: awsKms(…), keyId })); the object does not name it' : `AWS KMS key ${escapeControl(cmk, 200)} (s3ecKmsKey({ client: awsKms(…), keyId }))`) +
      (Object.keys(ctx).length === 0 ? '' : `, encryption context ${json(ctx)}`);
  } else if (d.wrapAlgorithm === 'AES/GCM' || d.wrapAlgorithm === 'AESWrap') {
    keyProvider = `an AES-256 key (s3ecAesKey({ key }), ${d.wrapAlgorithm}) ${which}`;
  } else {
    keyProvider = `an RSA-${d.encryptedDataKey.length * 8} private key (s3ecRsaKey({ privateKey, legacy: true }), ${d.wrapAlgorithm}) ${which}`;
  }
  return {
    format: d.version === 1 ? 's3ec-v1' : d.version === 2 ? 's3ec-v2' : 's3ec-v3',
    contentCipher: cbc ? 'AES-256-CBC' : d.version === 3 ? 'AES-256-GCM, HKDF-SHA512 derived key, key commitment' : 'AES-256-GCM',
    contentAlgorithmLabel: d.contentAlgorithm === S3EC_CEK_COMMIT ? '115 (ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY)' : d.contentAlgorithm,
    wrapAlgorithm: d.wrapAlgorithm,
    wrappedKeyLength: d.encryptedDataKey.length,
    ...(d.matdescIsContext ? { encryptionContext: md } : Object.keys(md).length === 0 ? {} : { matdesc: md }),
    instructionFile: d.instructionFile,
    authenticatedWholeRead: !cbc,
    keyCommitting: d.version === 3,
    md5: false,
    ...(d.unencryptedContentLength === undefined ? {} : { unencryptedContentLength: d.unencryptedContentLength }),
    keyProvider,
  };
}
