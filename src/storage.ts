/**
 * `enseal/storage`: the object-store contract ({@link ObjectStore}) and the encrypting bucket
 * built on it. Adapters are separate subpaths (`enseal/storage/memory`, `/fs`, `/s3`, `/oss`,
 * `/fetch`), each importing its SDK only there, so this entry stays importable in browsers.
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
