/**
 * `enseal/interop`: read and write the objects other client-side-encryption libraries store,
 * through any object store (docs/INTEROP.md). One module per foreign format under
 * `src/interop/`; this entry re-exports their public parts.
 *
 * Alibaba Cloud OSS client-side encryption (current and legacy Python format): the metadata
 * codec, format detection, the OSS keyrings (`ossRsaKey`, `ossKmsKey`: also ordinary enseal key
 * providers), the AES-CTR content stream, and `openOssObject` / `putOssObject` /
 * `sealOssObject`. Every read of these formats is unauthenticated and needs
 * `allowUnauthenticated: true` (docs/SECURITY.md §"Foreign formats").
 *
 * AWS S3 Encryption Client (V1 read only, V2, V3 with key commitment, instruction files): the
 * metadata codec (`detectS3ecFormat`, `decodeS3ecMetadata`, `encodeS3ecMetadata`), the S3EC
 * keyrings (`s3ecAesKey`, `s3ecRsaKey`, `s3ecKmsKey`: also ordinary enseal key providers), and
 * `openS3ecObject` / `putS3ecObject` / `sealS3ecObject`. Whole GCM reads are authenticated;
 * ranged GCM reads and CBC reads need `allowUnauthenticated: true`.
 *
 * @module
 */
export {
  OSS_CEK_ALG,
  OSS_MAX_MATDESC_ENTRIES,
  OSS_MAX_MATDESC_LENGTH,
  OSS_MAX_VALUE_LENGTH,
  OSS_PREFIX,
  OSS_WRAP_KMS,
  OSS_WRAP_RSA_OAEP_SHA1,
  OSS_WRAP_RSA_PKCS1,
  compactMatdesc,
  decodeOssMetadata,
  detectFormat,
  encodeOssMetadata,
  type DetectedFormat,
  type OssFormat,
  type OssMetadataFields,
  type OssObjectDescription,
  type OssWrapAlgorithm,
} from './interop/oss-metadata.js';
export { addBlocks, counterFromDecimal, newOssIv } from './interop/oss-counter.js';
export { ossCtrStream, type OssCtrStreamOptions } from './interop/oss-content.js';
export {
  isOssKeyring,
  matdescClaim,
  sameMatdesc,
  unwrapOssContentKey,
  type OssClaim,
  type OssContentKey,
  type OssKeyring,
  type OssUnwrapped,
  type OssWrapped,
} from './interop/oss-keyring.js';
export { ossRsaKey, type OssRsaKeyOptions, type OssRsaKeyProvider } from './interop/oss-rsa-key.js';
export { ossKmsKey, type OssKmsKeyOptions, type OssKmsKeyProvider, type OssKmsTextClient } from './interop/oss-kms-key.js';
export { describeOssObject, openOssObject, type OpenOssObjectOptions, type OpenOssObjectResult } from './interop/oss-read.js';
export { putOssObject, sealOssObject, type PutOssObjectOptions, type SealOssObjectOptions, type SealedOssObject } from './interop/oss-write.js';

// AWS S3 Encryption Client (V1 read, V2 and V3 read/write, instruction files): docs/INTEROP.md §"AWS S3 Encryption Client".
export {
  S3EC_CEK_CBC,
  S3EC_CEK_COMMIT,
  S3EC_CEK_GCM,
  S3EC_RESERVED_CONTEXT_KEY,
  decodeS3ecMetadata,
  detectS3ecFormat,
  encodeS3ecMetadata,
  type S3ecContentAlgorithm,
  type S3ecEncodeInput,
  type S3ecFormat,
  type S3ecObjectDescription,
  type S3ecWrapAlgorithm,
} from './interop/s3ec-metadata.js';
export { S3EC_INSTRUCTION_MARKER, S3EC_INSTRUCTION_SUFFIX, mergeS3ecInstruction, parseS3ecInstruction, splitS3ecInstruction } from './interop/s3ec-instruction.js';
export { deriveS3ecV3 } from './interop/s3ec-content.js';
export { isS3ecKeyring, unwrapS3ecDataKey, type S3ecKeyring, type S3ecWrapped, type S3ecWrapRequest } from './interop/s3ec-keyring.js';
export { s3ecAesKey, type S3ecAesKeyOptions, type S3ecAesKeyProvider } from './interop/s3ec-aes-key.js';
export { s3ecRsaKey, type S3ecRsaKeyOptions, type S3ecRsaKeyProvider } from './interop/s3ec-rsa-key.js';
export { s3ecKmsKey, type S3ecKmsKeyOptions, type S3ecKmsKeyProvider } from './interop/s3ec-kms-key.js';
export { S3EC_DEFAULT_MAX_BUFFER, describeS3ecObject, openS3ecObject, type OpenS3ecObjectOptions, type OpenS3ecObjectResult } from './interop/s3ec-read.js';
export { putS3ecObject, sealS3ecObject, type PutS3ecObjectOptions, type SealS3ecObjectOptions, type SealedS3ecObject } from './interop/s3ec-write.js';
