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
