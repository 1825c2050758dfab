/**
 * `enseal/kms`: key management services as key providers. The {@link kms} provider wraps data
 * keys with any {@link KmsClient}; this entry ships clients for AWS KMS ({@link awsKms}),
 * Alibaba Cloud KMS ({@link alibabaKms}) and HashiCorp Vault Transit ({@link vaultTransit}),
 * each signing its own requests (SigV4, Alibaba RPC HMAC-SHA1, Vault token) over `fetch` — no
 * cloud SDK, and no `node:` module, so it runs in browsers, Deno, Bun and workers too. The
 * file-backed LocalKms is in `enseal/kms-local`.
 *
 * @example
 * ```ts
 * import { encrypt, decrypt } from 'enseal';
 * import { awsKms, kms } from 'enseal/kms';
 * const key = kms({ client: awsKms({ region: 'eu-west-1', credentials }), keyId: 'alias/backups' });
 * const sealed = await encrypt(data, { recipients: [key], context: { bucket: 'photos' } });
 * const plain = await decrypt(sealed, { keys: [key] });
 * ```
 *
 * A provider with a `keyId` is strict: it reads only objects made under that key. An
 * unwrap-only provider for any key the credentials can use is an explicit opt-in:
 * `kms({ client, discovery: true })` (or `discovery: { accounts, regions }` for AWS).
 *
 * @module
 */
export {
  kms,
  KMS_BOUND_CONTEXT_KEY,
  KMS_REQUESTED_PARAM,
  KMS_STANZA_PREFIX,
  type KmsCiphertext,
  type KmsClient,
  type KmsDataKey,
  type KmsDiscoveryFilter,
  type KmsKeyScope,
  type KmsProviderOptions,
} from './keys/kms.js';
export { awsKms, type AwsCredentials, type AwsKmsOptions } from './kms/aws.js';
export { alibabaKms, ALIBABA_KMS_API_VERSION, type AlibabaCredentials, type AlibabaKmsOptions, type AlibabaKmsClient } from './kms/alibaba.js';
export { vaultTransit, type VaultTransitOptions } from './kms/vault.js';
export type { KmsHttpOptions } from './kms/http.js';
export { signSigV4, type SigV4Input, type SigV4Result } from './kms/sigv4.js';
export { signAlibabaRpc, canonicalizeRpcQuery, type AlibabaSignature } from './kms/alibaba-signature.js';
export { encodeKmsContext } from './kms/context.js';
