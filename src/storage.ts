/**
 * `enseal/storage`: the object-store contract ({@link ObjectStore}), the encrypting bucket built
 * on it ({@link encryptedBucket}: ranged reads in at most two requests, parallel resumable
 * multipart uploads, key rotation by server-side copy), server-side encryption at rest for any
 * store ({@link atRestEncryption}), and the HTTPS-only bucket policy ({@link httpsOnlyPolicy}).
 * Adapters are separate subpaths (`enseal/storage/memory`, `/fs`, `/s3`, `/oss`, `/fetch`), each
 * importing its SDK only there; this entry imports no `node:` module and stays usable in
 * browsers (`fileUploadState` reaches `node:fs` through `process.getBuiltinModule` when called).
 *
 * @example
 * ```ts
 * import { encryptedBucket } from 'enseal/storage';
 * import { memoryStore } from 'enseal/storage/memory';
 * const bucket = encryptedBucket(memoryStore(), { recipients: [key], keys: [key] });
 * await bucket.putObject('a.txt', new TextEncoder().encode('hello'));
 * const { body } = await bucket.getObject('a.txt', { range: { start: 1, end: 3 } });
 * ```
 *
 * @module
 */
export type {
  CompletedPart,
  CreateMultipartOptions,
  GetOptions,
  GetResult,
  ListEntry,
  MultipartLimits,
  ObjectInfo,
  ObjectMetadata,
  ObjectStore,
  PutOptions,
  ServerSideEncryption,
  ServerSideEncryptionInfo,
  StoreFailure,
  StoreRange,
} from './storage/store.js';
export { encryptedBucket } from './storage/bucket.js';
export type {
  BucketListEntry,
  EncryptedBucket,
  EncryptedBucketOptions,
  GetObjectOptions,
  GetObjectResult,
  HeadObjectResult,
  PutObjectOptions,
  PutObjectResult,
  RewrapObjectOptions,
  RewrapObjectResult,
  UploadProgress,
  ConvertObjectOptions,
  ConvertObjectResult,
  InteropDescription,
  InteropObjectReader,
  OssWriteSettings,
  S3ecWriteSettings,
  StoredFormat,
  WriteFormat,
} from './storage/bucket.js';
export { ObjectReader, type ReaderOptions } from './storage/bucket-reader.js';
export { OBJECT_KEY_CONTEXT } from './storage/bucket-open.js';
export {
  FORMAT_VERSION,
  METADATA_FORMAT,
  METADATA_HEADER,
  METADATA_HEADER_LENGTH,
  METADATA_PLAINTEXT_SIZE,
} from './storage/bucket-marker.js';
export { encryptedMultipartUpload, type EncryptedMultipartOptions, type EncryptedMultipartResult } from './storage/multipart.js';
export { chunksPerPart, DEFAULT_PART_SIZE } from './storage/multipart-layout.js';
export type { RetryOptions } from './storage/multipart-retry.js';
export { bytesSource, streamSource, type PartSource, type Piece } from './storage/multipart-source.js';
export { fileUploadState, memoryUploadState, type UploadRecord, type UploadState, type UploadedPart } from './storage/upload-state.js';
export { httpsOnlyPolicy, type HttpsOnlyPolicyOptions } from './storage/policy.js';
export { atRestEncryption, AT_REST_PREFIX, AT_REST_STAGING_PREFIX, type AtRestOptions, type AtRestProvider } from './storage/at-rest.js';
