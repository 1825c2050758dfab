/**
 * Key management services as key providers: the {@link KmsClient} interface every KMS client
 * implements (LocalKms, AWS KMS, Alibaba Cloud KMS, HashiCorp Vault Transit), and the
 * {@link kms} provider that wraps data keys with one.
 *
 * ```
 * stanza type  "kms-" || client type             e.g. "kms-aws", "kms-local"; ASCII [a-z0-9.-]
 * key id       the KMS's canonical key id        e.g. an AWS key ARN, "lk-…", "transit/app"
 * params       requested = the key id or alias the writer configured, only when it differs
 *                          from the canonical id (lets a reader configured with the alias
 *                          recognise the stanza); nothing else, never a secret
 * wrapped      the KMS's ciphertext blob, 1..8192 bytes, stored as the KMS returned it
 * ```
 *
 * **Binding (docs/FORMAT.md §4).** The KMS sees an encryption context made of the object's
 * encryption context plus one reserved entry:
 *
 * ```
 * enseal:bound = base64url(SHA-256(bound))        (43 characters, no padding)
 * ```
 *
 * where `bound` is the header's bound part (`WrapContext.aad`: magic, version, suite, context).
 * The user's pairs stay readable in the KMS's audit log and usable in its key policies (e.g. AWS
 * `kms:EncryptionContext:bucket`); the digest ties the wrap to this header format, version and
 * suite, so a wrapped key cannot be replayed into an object with another bound part. The key
 * `enseal:bound` is therefore reserved: a context that already holds it is refused. How each
 * client hands the context to its KMS (a map, a JSON string, canonical bytes) is described in
 * the client's module.
 *
 * **Provider contract (src/keys/provider.ts).** `unwrap` returns `null` for another stanza
 * type, another client type, a key id the client cannot own (`ownsKeyId`: another region,
 * Vault mount or LocalKms store), or another key (matched against the canonical id, the
 * configured id, the `requested` param, and the client's own equivalences such as an AWS key
 * id and its ARN); it throws when the stanza is its own and the KMS refuses (`ERR_KMS_DENIED`), the key is
 * disabled (`ERR_KMS_DISABLED`), or the KMS cannot be reached (`ERR_KMS_UNAVAILABLE`). As first
 * recipient the provider asks the KMS to generate the data key (`GenerateDataKey`); otherwise it
 * encrypts the data key enseal generated.
 *
 * @module
 */
import { isWellFormed, utf8, wipe, type Bytes, toBase64Url } from '../bytes.js';
import { EnsealError } from '../errors.js';
import type { EncryptionContext } from '../format/header.js';
import { DATA_KEY_LENGTH, MAX_KEY_ID_LENGTH, MAX_TYPE_LENGTH, MAX_WRAPPED_LENGTH } from '../format/limits.js';

import type { GeneratedDataKey, KeyProvider, Stanza, WrapContext } from './provider.js';

/** Prefix of every KMS stanza type: `kms-<client type>`. */
export const KMS_STANZA_PREFIX = 'kms-';
/** The encryption-context entry that carries the digest of the header's bound part. */
export const KMS_BOUND_CONTEXT_KEY = 'enseal:bound';
/** Stanza parameter holding the key id or alias the writer configured (when not canonical). */
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

/**
 * A key management service client. Implementations: `LocalKms` (`enseal/kms-local`),
 * `awsKms`, `alibabaKms`, `vaultTransit` (`enseal/kms`). Every method binds `context`: a blob
 * made under one context must not decrypt under another (the KMS refuses it).
 *
 * Failures are `EnsealError`s: `ERR_KMS_DENIED` (authentication, authorization, unknown key,
 * invalid ciphertext or context), `ERR_KMS_DISABLED` (the key exists but is disabled or pending
 * deletion), `ERR_KMS_UNAVAILABLE` (unreachable, throttled or failing after bounded retries).
 * Messages never contain credentials, tokens, plaintext or key bytes.
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
   * @param keyId - the canonical key id recorded with the blob (required by KMSs whose blobs
   *   do not name their key, such as Vault Transit; AWS checks it)
   * @returns the plaintext (the caller wipes it)
   */
  decrypt(ciphertext: Uint8Array, context: EncryptionContext, keyId?: string): Promise<Uint8Array>;
  /**
   * Optional: whether `configured` (what a user passes as `keyId`) names the same key as the
   * canonical id `canonical` without asking the KMS (e.g. an AWS key id and its ARN).
   */
  keyIdMatches?(configured: string, canonical: string): boolean | Promise<boolean>;
  /**
   * Optional: false when the canonical id cannot belong to the KMS this client talks to (an
   * ARN in another region, another Vault mount, a key absent from a LocalKms store), so that a
   * stanza written elsewhere under a same-named alias is "not mine" rather than a KMS error.
   */
  ownsKeyId?(canonical: string): boolean | Promise<boolean>;
}

/** Options of {@link kms}. */
export interface KmsProviderOptions {
  /** The KMS client. */
  client: KmsClient;
  /** The master key: id, ARN or alias, as the client accepts it. */
  keyId: string;
}

const TYPE_RE = /^[a-z0-9][a-z0-9.-]*$/;

function checkKeyId(id: unknown, what: string): asserts id is string {
  if (typeof id !== 'string' || id.length === 0) throw new TypeError(`${what} expected a non-empty string`);
  if (!isWellFormed(id)) throw new TypeError(`${what} expected a well-formed string (lone UTF-16 surrogate)`);
  const n = utf8(id).length;
  if (n > MAX_KEY_ID_LENGTH) throw new RangeError(`${what} expected at most ${MAX_KEY_ID_LENGTH} bytes, got ${n}`);
}

/** A KMS returned something enseal cannot store or use: not retried, not a denial. */
function malformed(description: string, what: string): EnsealError {
  return new EnsealError('ERR_KMS_UNAVAILABLE', `${description}: the KMS returned ${what}`);
}

/**
 * The KMS encryption context for an object: its context plus `enseal:bound`.
 * @param ctx - the provider's wrap context
 * @returns a new map (the reserved key is checked by the caller)
 */
async function kmsContextFor(ctx: WrapContext): Promise<EncryptionContext> {
  const digest = await ctx.backend.digest('SHA-256', ctx.aad);
  return Object.fromEntries([...Object.entries(ctx.encryptionContext), [KMS_BOUND_CONTEXT_KEY, toBase64Url(digest)]]);
}

/**
 * A key provider backed by a KMS: the data key is generated (first recipient) or encrypted
 * (other recipients) by the KMS under `keyId`, bound to the object's encryption context and
 * header (see the module comment), and decrypted by the KMS on unwrap.
 *
 * @param opts - `{ client, keyId }`
 * @returns a provider usable in `recipients` (encrypt) and `keys` (decrypt)
 * @throws TypeError/RangeError for a missing client, a client type outside `[a-z0-9.-]`, or a
 *   key id that is empty or longer than 2048 bytes
 * @example
 * ```ts
 * import { awsKms, kms } from 'enseal/kms';
 * const client = awsKms({ region: 'eu-west-1', credentials: { accessKeyId, secretAccessKey } });
 * const key = kms({ client, keyId: 'alias/backups' });
 * const sealed = await encrypt(data, { recipients: [key], context: { bucket: 'b' } });
 * const plain = await decrypt(sealed, { keys: [key] });
 * ```
 */
export function kms(opts: KmsProviderOptions): KeyProvider {
  const client = opts?.client;
  if (typeof client?.generateDataKey !== 'function' || typeof client.encrypt !== 'function' || typeof client.decrypt !== 'function') {
    throw new TypeError('"client" expected a KmsClient (generateDataKey, encrypt, decrypt)');
  }
  const type = `${KMS_STANZA_PREFIX}${client.type}`;
  if (typeof client.type !== 'string' || !TYPE_RE.test(client.type) || type.length > MAX_TYPE_LENGTH) {
    throw new TypeError(`"client.type" expected [a-z0-9][a-z0-9.-]* of at most ${MAX_TYPE_LENGTH - KMS_STANZA_PREFIX.length} bytes, got ${JSON.stringify(client.type)}`);
  }
  const configured = opts.keyId;
  checkKeyId(configured, '"keyId"');
  const description = `${type}:${configured}`;

  const contextOrThrow = async (ctx: WrapContext, writing: boolean): Promise<EncryptionContext> => {
    if (Object.hasOwn(ctx.encryptionContext, KMS_BOUND_CONTEXT_KEY)) {
      const msg = `encryption context key "${KMS_BOUND_CONTEXT_KEY}" is reserved for KMS binding`;
      throw writing ? new TypeError(msg) : new EnsealError('ERR_CONTEXT', msg);
    }
    return kmsContextFor(ctx);
  };

  const stanzaFor = (ciphertext: unknown, keyId: unknown): Stanza => {
    if (!(ciphertext instanceof Uint8Array) || ciphertext.length === 0) throw malformed(description, 'an empty ciphertext');
    if (ciphertext.length > MAX_WRAPPED_LENGTH) {
      throw new EnsealError('ERR_LIMIT', `${description}: KMS ciphertext of ${ciphertext.length} bytes exceeds ${MAX_WRAPPED_LENGTH}`);
    }
    try {
      checkKeyId(keyId, 'KMS key id');
    } catch {
      throw malformed(description, 'an invalid key id');
    }
    const params: Record<string, string> = keyId === configured ? {} : { [KMS_REQUESTED_PARAM]: configured };
    return { type, keyId, params, wrapped: ciphertext };
  };

  const mine = async (stanza: Stanza): Promise<boolean> => {
    if (stanza.type !== type) return false;
    if (client.ownsKeyId !== undefined && (await client.ownsKeyId(stanza.keyId)) !== true) return false;
    if (stanza.keyId === configured || stanza.params[KMS_REQUESTED_PARAM] === configured) return true;
    return (await client.keyIdMatches?.(configured, stanza.keyId)) === true;
  };

  return {
    description,

    async generateDataKey(length: number, ctx: WrapContext): Promise<GeneratedDataKey> {
      if (length !== DATA_KEY_LENGTH) throw new RangeError(`"length" expected ${DATA_KEY_LENGTH}, got ${length}`);
      const kctx = await contextOrThrow(ctx, true);
      const g = await client.generateDataKey(configured, kctx);
      try {
        if (!(g?.plaintext instanceof Uint8Array) || g.plaintext.length !== DATA_KEY_LENGTH) {
          throw malformed(description, 'a data key of the wrong length');
        }
        const stanza = stanzaFor(g.ciphertext, g.keyId);
        // enseal hands out ArrayBuffer-backed keys (WebCrypto-ready); copy anything else.
        const dataKey = g.plaintext.buffer instanceof ArrayBuffer ? (g.plaintext as Bytes) : new Uint8Array(g.plaintext);
        if (dataKey !== g.plaintext) wipe(g.plaintext);
        return { dataKey, stanza };
      } catch (e) {
        if (g?.plaintext instanceof Uint8Array) wipe(g.plaintext);
        throw e;
      }
    },

    async wrap(dataKey: Uint8Array, ctx: WrapContext): Promise<Stanza> {
      const kctx = await contextOrThrow(ctx, true);
      const r = await client.encrypt(configured, dataKey, kctx);
      return stanzaFor(r?.ciphertext, r?.keyId);
    },

    async unwrap(stanza: Stanza, ctx: WrapContext): Promise<Uint8Array | null> {
      if (!(await mine(stanza))) return null;
      const extra = Object.keys(stanza.params).filter((k) => k !== KMS_REQUESTED_PARAM);
      if (extra.length > 0) throw new EnsealError('ERR_HEADER', `${type} stanza for key "${stanza.keyId}" has unknown params`);
      const kctx = await contextOrThrow(ctx, false);
      const dataKey = await client.decrypt(stanza.wrapped, kctx, stanza.keyId);
      if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_LENGTH) {
        if (dataKey instanceof Uint8Array) wipe(dataKey);
        throw new EnsealError('ERR_AUTH', `${description}: the KMS returned a data key of the wrong length`);
      }
      return dataKey;
    },
  };
}
