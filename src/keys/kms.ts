/**
 * Key management services as key providers: the {@link KmsClient} interface every KMS client
 * implements (LocalKms, AWS KMS, Alibaba Cloud KMS, HashiCorp Vault Transit), and the
 * {@link kms} provider that wraps data keys with one.
 *
 * ```
 * stanza type  "kms-" || client type             e.g. "kms-aws", "kms-local"; ASCII [a-z0-9.-]
 * key id       the KMS's canonical key id        e.g. an AWS key ARN, "lk-…", "transit/app"
 * params       requested = the key id or alias the writer configured, only when it differs
 *                          from the canonical id; a hint for people and tools (the CLI's
 *                          `rewrap --remove`), never used to decide whether a stanza is a
 *                          reader's; nothing else, never a secret
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
 * **Strict by default (docs/SECURITY.md, "KMS providers").** A stanza, its key id and its params
 * are not authenticated until the header MAC, which can only be checked *after* a data key was
 * unwrapped. So nothing in a stanza may choose the key a reader uses. `kms({ client, keyId })`
 * resolves `keyId` once to the KMS's canonical id (`client.resolveKeyId`: AWS `DescribeKey`,
 * Alibaba `DescribeKey`, the LocalKms alias table; a Vault key name is canonical), claims only
 * stanzas whose key id is exactly that canonical id, and always asks the KMS to decrypt under
 * it — never under the stanza's key id. Without this, anyone able to encrypt under *another*
 * key the reader's credentials may use (another key of the same store, Transit mount or AWS
 * account, or a key in another account whose policy lets the reader decrypt) could make the
 * reader accept an object as if it came from its own key. This is the AWS Encryption SDK's
 * "strict mode".
 *
 * **Discovery is an explicit opt-in.** `kms({ client, discovery: true })` has no key: it claims
 * every stanza of its client type that the client can own (`ownsKeyId`: the client's region,
 * Vault mount, LocalKms store) and sends the stanza's key id to the KMS. `discovery: { accounts,
 * regions }` also requires the stanza's key to be in one of those AWS accounts / regions (read
 * from the key ARN with `client.keyScope`; clients whose key ids name no account or region —
 * LocalKms, Vault, Alibaba — refuse a filter with a TypeError). A discovery provider cannot be a
 * recipient: it has no key to wrap with.
 *
 * **Provider contract (src/keys/provider.ts).** `unwrap` returns `null` for another stanza
 * type, another client type, or another key (strict: any key id other than the configured key's
 * canonical id; discovery: a key id the client cannot own or outside the filter); it throws when
 * the stanza is its own and the KMS refuses (`ERR_KMS_DENIED`), the key is missing
 * (`ERR_KMS_NOT_FOUND`), disabled (`ERR_KMS_DISABLED`), or the KMS cannot be reached
 * (`ERR_KMS_UNAVAILABLE`). A provider asks its KMS at most 4 times per header (`ERR_LIMIT`
 * after that, `./kms-unwrap.ts`), so forged copies of a stanza cannot make a reader wait on
 * dozens of KMS calls. As first recipient the provider asks the KMS to generate the data key
 * (`GenerateDataKey`); otherwise it encrypts the data key enseal generated.
 *
 * @module
 */
import { escapeControl, wipe, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { DATA_KEY_LENGTH, MAX_TYPE_LENGTH, MAX_WRAPPED_LENGTH } from '../format/limits.js';
import { KMS_REQUESTED_PARAM, KMS_STANZA_PREFIX, type KmsClient, type KmsDiscoveryFilter } from './kms-client.js';
import { discoveryOf, discoveryProvider } from './kms-discovery.js';
import { checkKeyId, contextOrThrow, decryptStanza, malformed, type KmsCallLedger } from './kms-unwrap.js';
import type { GeneratedDataKey, KeyProvider, Stanza, WrapContext } from './provider.js';

export {
  KMS_BOUND_CONTEXT_KEY,
  KMS_REQUESTED_PARAM,
  KMS_STANZA_PREFIX,
  type KmsCiphertext,
  type KmsClient,
  type KmsDataKey,
  type KmsDiscoveryFilter,
  type KmsKeyScope,
} from './kms-client.js';

/** Options of {@link kms}: exactly one of `keyId` (strict) and `discovery`. */
export interface KmsProviderOptions {
  /** The KMS client. */
  client: KmsClient;
  /**
   * The master key: id, ARN or alias, as the client accepts it. The provider wraps under it and
   * unwraps only stanzas made under it (strict mode).
   */
  keyId?: string;
  /**
   * Unwrap-only discovery (no `keyId`): `true` claims every stanza of the client's type that the
   * client can own and decrypts it under the stanza's own key id; a {@link KmsDiscoveryFilter}
   * also restricts the keys to some accounts/regions (clients with `keyScope` only, i.e. AWS).
   * Use it only when any key the credentials can decrypt with is acceptable.
   */
  discovery?: boolean | KmsDiscoveryFilter;
}

const TYPE_RE = /^[a-z0-9][a-z0-9.-]*$/;

/**
 * A key provider backed by a KMS: the data key is generated (first recipient) or encrypted
 * (other recipients) by the KMS under `keyId`, bound to the object's encryption context and
 * header (see the module comment), and decrypted by the KMS on unwrap.
 *
 * **Strict (`keyId`).** On its first unwrap the provider resolves `keyId` to the KMS's
 * canonical id (one lookup, e.g. AWS `DescribeKey`, cached for the provider's life; a failed
 * lookup is retried on the next unwrap). It claims only stanzas whose key id is that canonical
 * id — whatever the stanza's params say — and always decrypts under it.
 *
 * **Discovery (`discovery: true` or a filter, no `keyId`).** Unwrap only: claims every stanza of
 * the client's type the client can own (and, with a filter, whose key is in the listed AWS
 * accounts/regions), and decrypts it under the stanza's key id.
 *
 * @param opts - `{ client, keyId }` or `{ client, discovery }`
 * @returns a provider usable in `recipients` (strict only) and `keys` (decrypt)
 * @throws TypeError/RangeError for a missing client, a client type outside `[a-z0-9.-]`, a key
 *   id that is empty or longer than 2048 bytes, both or neither of `keyId` and `discovery`, or
 *   a discovery filter the client cannot apply; the provider's `wrap`/`generateDataKey` throw a
 *   TypeError in discovery mode
 * @example
 * ```ts
 * import { awsKms, kms } from 'enseal/kms';
 * const client = awsKms({ region: 'eu-west-1', credentials: { accessKeyId, secretAccessKey } });
 * const key = kms({ client, keyId: 'alias/backups' });
 * const sealed = await encrypt(data, { recipients: [key], context: { bucket: 'b' } });
 * const plain = await decrypt(sealed, { keys: [key] });
 * // Any key of account 111122223333 that these credentials may use (unwrap only):
 * const any = kms({ client, discovery: { accounts: ['111122223333'] } });
 * ```
 */
export function kms(opts: KmsProviderOptions): KeyProvider {
  const client = opts?.client;
  if (typeof client?.generateDataKey !== 'function' || typeof client.encrypt !== 'function' || typeof client.decrypt !== 'function') {
    throw new TypeError('"client" expected a KmsClient (generateDataKey, encrypt, decrypt)');
  }
  const clientType = client.type;
  const type = `${KMS_STANZA_PREFIX}${clientType}`;
  if (typeof clientType !== 'string' || !TYPE_RE.test(clientType) || type.length > MAX_TYPE_LENGTH) {
    throw new TypeError(`"client.type" expected [a-z0-9][a-z0-9.-]* of at most ${MAX_TYPE_LENGTH - KMS_STANZA_PREFIX.length} bytes, got ${escapeControl(JSON.stringify(clientType) ?? String(clientType))}`);
  }
  const configured = opts.keyId;
  const filter = discoveryOf(opts.discovery, client);
  if (filter !== undefined) {
    if (configured !== undefined) throw new TypeError('"keyId" and "discovery" are mutually exclusive: a strict provider names its key, a discovery provider accepts any');
    return discoveryProvider(client, type, filter);
  }
  if (configured === undefined) throw new TypeError('"keyId" expected a non-empty string (or discovery: true for an unwrap-only provider that accepts any key)');
  checkKeyId(configured, '"keyId"');
  const description = `${type}:${escapeControl(configured)}`;

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

  const ledger: KmsCallLedger = new WeakMap();
  // One lookup per provider; concurrent unwraps share it; a failure is not cached.
  let canonical: Promise<string> | undefined;
  const canonicalId = (): Promise<string> => {
    if (canonical === undefined) {
      const p = (async (): Promise<string> => {
        const id: unknown = client.resolveKeyId === undefined ? configured : await client.resolveKeyId(configured);
        try {
          checkKeyId(id, 'KMS key id');
        } catch {
          throw malformed(description, 'an invalid canonical key id');
        }
        return id;
      })();
      canonical = p;
      p.catch(() => {
        if (canonical === p) canonical = undefined;
      });
    }
    return canonical;
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
      // Snapshot: every check and the KMS call see the same values.
      const { type: stanzaType, keyId: stanzaKeyId, params, wrapped } = stanza;
      if (stanzaType !== type) return null;
      // Strict: the stanza's key id only selects; the key used is always the configured one.
      const keyId = await canonicalId();
      if (stanzaKeyId !== keyId) return null;
      return decryptStanza(client, type, description, keyId, params, wrapped, ctx, ledger);
    },
  };
}
