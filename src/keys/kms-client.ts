/**
 * The contract between the {@link kms} provider (`./kms.ts`) and a KMS client: the client
 * interface, what its calls return, the reserved stanza and context names, and the discovery
 * filter. LocalKms, AWS KMS, Alibaba Cloud KMS and Vault Transit implement {@link KmsClient}
 * (`src/kms/`).
 *
 * @module
 */
import type { EncryptionContext } from '../format/header.js';

/** Prefix of every KMS stanza type: `kms-<client type>`. */
export const KMS_STANZA_PREFIX = 'kms-';
/** The encryption-context entry that carries the digest of the header's bound part. */
export const KMS_BOUND_CONTEXT_KEY = 'enseal:bound';
/**
 * Stanza parameter holding the key id or alias the writer configured (when not canonical). A
 * hint only: readers never use it to match a stanza or to choose a key.
 */
export const KMS_REQUESTED_PARAM = 'requested';

/** What a KMS `GenerateDataKey` returns. */
export interface KmsDataKey {
  /** The plaintext data key (the caller wipes it). */
  readonly plaintext: Uint8Array;
  /** The data key encrypted under the master key: the KMS's opaque blob. */
  readonly ciphertext: Uint8Array;
  /** The KMS's canonical id of the master key that encrypted it (e.g. the key ARN). */
  readonly keyId: string;
}

/** What a KMS `Encrypt` returns. */
export interface KmsCiphertext {
  /** The KMS's opaque ciphertext blob. */
  readonly ciphertext: Uint8Array;
  /** The KMS's canonical id of the master key used (e.g. the key ARN). */
  readonly keyId: string;
}

/** Where a key lives, as read from its canonical id (AWS: the key ARN's account and region). */
export interface KmsKeyScope {
  /** The account that owns the key (AWS: 12 digits). */
  readonly account: string;
  /** The key's region. */
  readonly region: string;
}

/**
 * A key management service client. Implementations: `LocalKms` (`enseal/kms-local`),
 * `awsKms`, `alibabaKms`, `vaultTransit` (`enseal/kms`). Every method binds `context`: a blob
 * made under one context must not decrypt under another (the KMS refuses it).
 *
 * Failures are `EnsealError`s: `ERR_KMS_NOT_FOUND` (no key or alias of that id),
 * `ERR_KMS_DENIED` (authentication, authorization, a blob of another key, invalid ciphertext or
 * context), `ERR_KMS_DISABLED` (the key exists but is disabled or pending deletion),
 * `ERR_KMS_UNAVAILABLE` (unreachable, throttled or failing after bounded retries). Messages
 * never contain credentials, tokens, plaintext or key bytes; key ids in them are escaped.
 */
export interface KmsClient {
  /** Short client type, ASCII `[a-z0-9][a-z0-9.-]*` (`local`, `aws`, `alibaba`, `vault`). */
  readonly type: string;
  /**
   * Generates a 32-byte data key and returns it in plaintext and encrypted under `keyId`.
   * @param keyId - key id, ARN or alias, as the KMS accepts it
   * @param context - encryption context bound to the blob
   */
  generateDataKey(keyId: string, context: EncryptionContext): Promise<KmsDataKey>;
  /**
   * Encrypts a small plaintext (a data key) under `keyId`.
   * @param keyId - key id, ARN or alias, as the KMS accepts it
   * @param plaintext - bytes to encrypt (not retained)
   * @param context - encryption context bound to the blob
   */
  encrypt(keyId: string, plaintext: Uint8Array, context: EncryptionContext): Promise<KmsCiphertext>;
  /**
   * Decrypts a blob made by {@link KmsClient.generateDataKey} or {@link KmsClient.encrypt}.
   * @param ciphertext - the blob
   * @param context - the encryption context it was made under
   * @param keyId - the canonical id of the key the blob must be decrypted under. The {@link kms}
   *   provider always passes it (strict: the configured key; discovery: the stanza's key), and
   *   a client must then refuse a blob made under any other key (`ERR_KMS_DENIED`): AWS sends it
   *   as `KeyId`, Vault names the key in the request path, LocalKms compares it with the key the
   *   blob names, Alibaba (whose `Decrypt` takes no key id) checks the `KeyId` of the answer
   * @returns the plaintext (the caller wipes it)
   */
  decrypt(ciphertext: Uint8Array, context: EncryptionContext, keyId?: string): Promise<Uint8Array>;
  /**
   * Optional: the canonical id (the one {@link KmsClient.encrypt} returns and stanzas record) of
   * a key id, ARN or alias. Called once per strict {@link kms} provider, on its first unwrap.
   * Without it the configured key id is taken as canonical.
   * @throws EnsealError `ERR_KMS_NOT_FOUND` when nothing has that id or alias
   */
  resolveKeyId?(keyId: string): string | Promise<string>;
  /**
   * Optional: false when the canonical id cannot belong to the KMS this client talks to (an
   * ARN in another region, another Vault mount, a key absent from a LocalKms store). Used by
   * discovery providers only.
   */
  ownsKeyId?(canonical: string): boolean | Promise<boolean>;
  /**
   * Optional: the account and region of a canonical key id (AWS key ARNs), or `undefined` when
   * it names none. Needed for `discovery: { accounts, regions }`.
   */
  keyScope?(canonical: string): KmsKeyScope | undefined;
}

/** Restricts a discovery provider to keys of some AWS accounts and/or regions. */
export interface KmsDiscoveryFilter {
  /** Accept only keys owned by these accounts (AWS: 12-digit account ids). */
  readonly accounts?: readonly string[];
  /** Accept only keys in these regions. */
  readonly regions?: readonly string[];
}
