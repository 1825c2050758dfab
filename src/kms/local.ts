/**
 * LocalKms: a real, file-backed KMS for development, tests and single-host use (subpath
 * `enseal/kms-local`). It keeps AES-256 master keys in a JSON key store (`./local-store.ts`),
 * with ids (`lk-` + 32 hex), optional aliases, creation dates, versions and an enabled flag, and
 * implements {@link KmsClient} with its own blob format (`./local-blob.ts`).
 *
 * - **Rotation** adds a version and makes it primary; older versions stay for decryption
 *   (blobs name their key id and version), new blobs use the new version.
 * - **Disable/enable**: a disabled key refuses generate, encrypt and decrypt with
 *   `ERR_KMS_DISABLED`.
 * - **Several processes** may share a store: every change is a read-modify-write under a lock
 *   file (`./file-lock.ts`) and replaces the file atomically; reads re-check the file and reload
 *   it when it changed.
 * - **Failures**: an id or alias that names no key of the store → `ERR_KMS_NOT_FOUND`; a blob
 *   of another key than the one asked for, wrong context, tampered or foreign blob →
 *   `ERR_KMS_DENIED`; missing, unreadable, corrupt or locked store → `ERR_KMS_UNAVAILABLE`; a
 *   store that group or others can access → `ERR_KMS_DENIED` (refused, not just warned about).
 * - **Key ids**: the canonical id is `lk-…`; {@link LocalKms.resolveKeyId} maps an alias to it
 *   (the strict `kms()` provider's one lookup).
 *
 * The master keys are only as safe as the store file: anyone who can read it can decrypt
 * everything. Use a cloud KMS or an HSM where that matters.
 *
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { assertChunk, concat, escapeControl, fromBase64, wipe, type Bytes, toBase64, toHex } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { getBackend, type BackendChoice } from '../backends/select.js';
import { EnsealError } from '../errors.js';
import type { EncryptionContext } from '../format/header.js';
import type { KmsCiphertext, KmsClient, KmsDataKey } from '../keys/kms.js';

import { withFileLock } from './file-lock.js';
import { blobAad, encodeBlobPrefix, LOCAL_BLOB_NONCE_LENGTH, parseBlob } from './local-blob.js';
import {
  checkStore,
  LOCAL_ALIAS_RE,
  LOCAL_STORE_FORMAT,
  LOCAL_STORE_VERSION,
  readStore,
  serializeStore,
  writeFileAtomic,
  type StoreData,
  type StoredKey,
  type StoreSignature,
} from './local-store.js';

/** Largest plaintext {@link LocalKms.encrypt} accepts, in bytes (KMS-style small secrets). */
export const LOCAL_KMS_MAX_PLAINTEXT = 4096;
/** Environment variable naming the default store (see {@link defaultLocalKmsPath}). */
export const LOCAL_KMS_STORE_ENV = 'ENSEAL_KMS_STORE';

/** Options of {@link LocalKms.open}. */
export interface LocalKmsOpenOptions {
  /** Create the store (and its directory, mode 0700) if it does not exist. Default false. */
  create?: boolean;
  /** Backend for AES-GCM and random bytes (default: the runtime's default backend). */
  backend?: BackendChoice;
  /** How long a change waits for another process's lock, in ms (default 10000). */
  lockTimeoutMs?: number;
  /** Age after which a lock file is considered abandoned, in ms (default 30000). */
  staleLockMs?: number;
}

/** A key as {@link LocalKms.listKeys} describes it: no key material. */
export interface LocalKeyInfo {
  /** Canonical id, `lk-` + 32 hex. */
  readonly id: string;
  /** Alias, if any. */
  readonly alias?: string;
  /** Creation time (ISO 8601 UTC). */
  readonly created: string;
  /** False when disabled. */
  readonly enabled: boolean;
  /** The version new blobs use. */
  readonly primaryVersion: number;
  /** Every version, oldest first. */
  readonly versions: readonly { readonly version: number; readonly created: string }[];
}

/** Options of {@link LocalKms.createKey}. */
export interface CreateLocalKeyOptions {
  /** A unique alias: 1..128 of `[A-Za-z0-9._/-]`, starting alphanumeric, not `lk-…`. */
  alias?: string;
}

/**
 * The default store path: `$ENSEAL_KMS_STORE` if set, else `~/.enseal/kms.json` (what the CLI
 * uses with no configuration).
 *
 * @returns an absolute path
 * @example
 * ```ts
 * const local = await LocalKms.open(defaultLocalKmsPath(), { create: true });
 * ```
 */
export function defaultLocalKmsPath(): string {
  const env = process.env[LOCAL_KMS_STORE_ENV];
  return env !== undefined && env !== '' ? resolve(env) : join(homedir(), '.enseal', 'kms.json');
}

function info(k: StoredKey): LocalKeyInfo {
  return {
    id: k.id,
    ...(k.alias === undefined ? {} : { alias: k.alias }),
    created: k.created,
    enabled: k.enabled,
    primaryVersion: k.primary,
    versions: k.versions.map((v) => ({ version: v.version, created: v.created })),
  };
}

function positive(v: unknown, name: string, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`"${name}" expected a non-negative number of ms, got ${String(v)}`);
  return v;
}

/**
 * A file-backed KMS (client type `local`; stanzas `kms-local`). Create one with
 * {@link LocalKms.open}.
 *
 * @example
 * ```ts
 * import { LocalKms } from 'enseal/kms-local';
 * import { kms } from 'enseal/kms';
 * const local = await LocalKms.open('/home/me/.enseal/kms.json', { create: true });
 * const { id } = await local.createKey({ alias: 'backups' });
 * const sealed = await encrypt(data, { recipients: [kms({ client: local, keyId: 'backups' })] });
 * ```
 */
export class LocalKms implements KmsClient {
  /** Client type: stanzas are `kms-local`. */
  readonly type = 'local';
  /** Absolute path of the store file. */
  readonly path: string;
  readonly #backend: CryptoBackend;
  readonly #lockTimeoutMs: number;
  readonly #staleLockMs: number;
  #cache: { signature: StoreSignature; data: StoreData } | undefined;

  private constructor(path: string, backend: CryptoBackend, lockTimeoutMs: number, staleLockMs: number) {
    this.path = path;
    this.#backend = backend;
    this.#lockTimeoutMs = lockTimeoutMs;
    this.#staleLockMs = staleLockMs;
  }

  /**
   * Opens (or creates) a key store.
   *
   * @param path - store file path
   * @param opts - `create`, `backend`, lock timing
   * @returns the client
   * @throws EnsealError `ERR_KMS_UNAVAILABLE` when the store does not exist (without `create`),
   *   cannot be read, or is corrupt; `ERR_KMS_DENIED` when group or others can access it
   * @throws TypeError/RangeError for a bad path or option
   * @example
   * ```ts
   * const local = await LocalKms.open(defaultLocalKmsPath(), { create: true });
   * ```
   */
  static async open(path: string, opts: LocalKmsOpenOptions = {}): Promise<LocalKms> {
    if (typeof path !== 'string' || path === '') throw new TypeError('"path" expected a non-empty string');
    const kms = new LocalKms(resolve(path), getBackend(opts.backend), positive(opts.lockTimeoutMs, 'lockTimeoutMs', 10_000), positive(opts.staleLockMs, 'staleLockMs', 30_000));
    if ((await checkStore(kms.path)) === undefined) {
      if (opts.create !== true) {
        throw new EnsealError('ERR_KMS_UNAVAILABLE', `local KMS store "${kms.path}" does not exist (open it with { create: true } to create it)`);
      }
      try {
        await mkdir(dirname(kms.path), { recursive: true, mode: 0o700 });
      } catch (e) {
        throw new EnsealError('ERR_KMS_UNAVAILABLE', `cannot create the directory of "${kms.path}" (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
      }
      await kms.#locked(async () => {
        if ((await checkStore(kms.path)) === undefined) {
          const empty: StoreData = { format: LOCAL_STORE_FORMAT, version: LOCAL_STORE_VERSION, keys: [] };
          await writeFileAtomic(kms.path, serializeStore(empty), toHex(kms.#backend.randomBytes(8)));
        }
      });
    }
    await kms.#load();
    return kms;
  }

  /** The current store, reloaded if the file changed since last read. */
  async #load(): Promise<StoreData> {
    const signature = await checkStore(this.path);
    if (signature === undefined) throw new EnsealError('ERR_KMS_UNAVAILABLE', `local KMS store "${this.path}" does not exist`);
    if (this.#cache?.signature === signature) return this.#cache.data;
    const data = await readStore(this.path);
    this.#cache = { signature, data };
    return data;
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const token = toHex(this.#backend.randomBytes(16));
    return withFileLock(`${this.path}.lock`, { timeoutMs: this.#lockTimeoutMs, staleMs: this.#staleLockMs, token }, fn);
  }

  /** Read-modify-write under the lock, from a fresh read of the file. */
  async #mutate<T>(change: (data: StoreData) => T): Promise<T> {
    return this.#locked(async () => {
      this.#cache = undefined;
      const data = await this.#load();
      const copy: StoreData = structuredClone(data);
      const result = change(copy);
      await writeFileAtomic(this.path, serializeStore(copy), toHex(this.#backend.randomBytes(8)));
      this.#cache = undefined;
      return result;
    });
  }

  static #find(data: StoreData, idOrAlias: string): StoredKey {
    if (typeof idOrAlias !== 'string' || idOrAlias === '') throw new TypeError('"keyId" expected a non-empty string');
    const k = data.keys.find((x) => x.id === idOrAlias || x.alias === idOrAlias);
    if (k === undefined) throw new EnsealError('ERR_KMS_NOT_FOUND', `local KMS: no key "${escapeControl(idOrAlias)}"`);
    return k;
  }

  static #usable(k: StoredKey): StoredKey {
    if (!k.enabled) throw new EnsealError('ERR_KMS_DISABLED', `local KMS: key "${k.id}"${k.alias === undefined ? '' : ` (${k.alias})`} is disabled`);
    return k;
  }

  /**
   * Creates a key with a fresh random AES-256 master key (version 1).
   * @param opts - optional unique `alias`
   * @returns the new key's description
   * @throws TypeError for a malformed alias; EnsealError `ERR_KMS_DENIED` when the alias is taken
   * @example
   * ```ts
   * const { id } = await local.createKey({ alias: 'backups' });
   * ```
   */
  async createKey(opts: CreateLocalKeyOptions = {}): Promise<LocalKeyInfo> {
    const alias = opts.alias;
    if (alias !== undefined && (typeof alias !== 'string' || !LOCAL_ALIAS_RE.test(alias))) {
      throw new TypeError('"alias" expected 1..128 of [A-Za-z0-9._/-], starting alphanumeric, not starting with "lk-"');
    }
    return this.#mutate((data) => {
      if (alias !== undefined && data.keys.some((k) => k.alias === alias)) throw new EnsealError('ERR_KMS_DENIED', `local KMS: alias "${alias}" already exists`);
      let id: string;
      do id = `lk-${toHex(this.#backend.randomBytes(16))}`;
      while (data.keys.some((k) => k.id === id));
      const now = new Date().toISOString();
      const material = this.#backend.randomBytes(32);
      const key: StoredKey = { id, ...(alias === undefined ? {} : { alias }), created: now, enabled: true, primary: 1, versions: [{ version: 1, created: now, material: toBase64(material) }] };
      wipe(material);
      data.keys.push(key);
      return info(key);
    });
  }

  /**
   * Lists every key, without key material.
   * @returns key descriptions in creation order
   * @throws EnsealError `ERR_KMS_UNAVAILABLE`/`ERR_KMS_DENIED` as {@link LocalKms.open}
   * @example
   * ```ts
   * for (const k of await local.listKeys()) console.log(k.id, k.alias, k.enabled);
   * ```
   */
  async listKeys(): Promise<LocalKeyInfo[]> {
    return (await this.#load()).keys.map(info);
  }

  /**
   * Rotates a key: adds a new version and makes it primary; older versions still decrypt.
   * @param idOrAlias - key id or alias
   * @returns the key's new description
   * @throws EnsealError `ERR_KMS_NOT_FOUND` for an unknown key
   * @example
   * ```ts
   * const { primaryVersion } = await local.rotateKey('backups');
   * ```
   */
  async rotateKey(idOrAlias: string): Promise<LocalKeyInfo> {
    return this.#mutate((data) => {
      const k = LocalKms.#find(data, idOrAlias);
      const material = this.#backend.randomBytes(32);
      const version = k.versions.length + 1;
      k.versions.push({ version, created: new Date().toISOString(), material: toBase64(material) });
      wipe(material);
      k.primary = version;
      return info(k);
    });
  }

  /**
   * Disables a key: generate, encrypt and decrypt then fail with `ERR_KMS_DISABLED`.
   * @param idOrAlias - key id or alias
   * @returns the key's new description
   * @throws EnsealError `ERR_KMS_NOT_FOUND` for an unknown key
   * @example
   * ```ts
   * await local.disableKey('backups');
   * ```
   */
  async disableKey(idOrAlias: string): Promise<LocalKeyInfo> {
    return this.#mutate((data) => {
      const k = LocalKms.#find(data, idOrAlias);
      k.enabled = false;
      return info(k);
    });
  }

  /**
   * Enables a disabled key.
   * @param idOrAlias - key id or alias
   * @returns the key's new description
   * @throws EnsealError `ERR_KMS_NOT_FOUND` for an unknown key
   * @example
   * ```ts
   * await local.enableKey('backups');
   * ```
   */
  async enableKey(idOrAlias: string): Promise<LocalKeyInfo> {
    return this.#mutate((data) => {
      const k = LocalKms.#find(data, idOrAlias);
      k.enabled = true;
      return info(k);
    });
  }

  /**
   * Generates a random 32-byte data key and encrypts it under the key's primary version.
   * @param keyId - key id or alias
   * @param context - encryption context bound to the blob
   * @returns the plaintext key (caller wipes it), the blob and the canonical key id
   * @throws EnsealError `ERR_KMS_NOT_FOUND` (unknown key), `ERR_KMS_DISABLED`
   * @example
   * ```ts
   * const { plaintext, ciphertext, keyId } = await local.generateDataKey('backups', { app: 'x' });
   * ```
   */
  async generateDataKey(keyId: string, context: EncryptionContext): Promise<KmsDataKey> {
    const plaintext = this.#backend.randomBytes(32);
    try {
      return { plaintext, ...(await this.encrypt(keyId, plaintext, context)) };
    } catch (e) {
      wipe(plaintext);
      throw e;
    }
  }

  /**
   * Encrypts up to 4096 bytes under the key's primary version.
   * @param keyId - key id or alias
   * @param plaintext - bytes to encrypt (not retained)
   * @param context - encryption context bound to the blob
   * @returns the blob and the canonical key id
   * @throws RangeError for a plaintext over 4096 bytes; EnsealError `ERR_KMS_NOT_FOUND`
   *   (unknown key), `ERR_KMS_DISABLED`
   * @example
   * ```ts
   * const { ciphertext } = await local.encrypt('backups', secret, {});
   * ```
   */
  async encrypt(keyId: string, plaintext: Uint8Array, context: EncryptionContext): Promise<KmsCiphertext> {
    assertChunk(plaintext, '"plaintext" expected Uint8Array');
    if (plaintext.length > LOCAL_KMS_MAX_PLAINTEXT) throw new RangeError(`"plaintext" expected at most ${LOCAL_KMS_MAX_PLAINTEXT} bytes, got ${plaintext.length}`);
    const k = LocalKms.#usable(LocalKms.#find(await this.#load(), keyId));
    const v = k.versions[k.primary - 1]!;
    const prefix = encodeBlobPrefix(k.id, v.version);
    const material = fromBase64(v.material);
    const aead = await this.#backend.aesGcm(material);
    try {
      const nonce = this.#backend.randomBytes(LOCAL_BLOB_NONCE_LENGTH);
      const sealed = await aead.seal(nonce, plaintext, blobAad(prefix, context));
      return { ciphertext: concat(prefix, nonce, sealed), keyId: k.id };
    } finally {
      aead.dispose();
      wipe(material);
    }
  }

  /**
   * Decrypts a blob under the key and version it names. With `keyId`, the key asked for is
   * looked up first and the blob must name exactly that key: another key's blob is refused
   * before its material is touched.
   * @param ciphertext - the blob
   * @param context - the encryption context it was made with
   * @param keyId - optional: the key id or alias the blob must belong to
   * @returns the plaintext (caller wipes it)
   * @throws EnsealError `ERR_KMS_NOT_FOUND` (`keyId` names no key), `ERR_KMS_DENIED` (not a
   *   LocalKms blob, a key or version this store does not have, another key than `keyId`,
   *   wrong context, tampered), `ERR_KMS_DISABLED`
   * @example
   * ```ts
   * const dataKey = await local.decrypt(blob, { app: 'x' }, 'backups');
   * ```
   */
  async decrypt(ciphertext: Uint8Array, context: EncryptionContext, keyId?: string): Promise<Bytes> {
    const data = await this.#load();
    const wanted = keyId === undefined ? undefined : LocalKms.#find(data, keyId);
    const blob = parseBlob(ciphertext);
    if (wanted !== undefined && blob.keyId !== wanted.id) {
      throw new EnsealError('ERR_KMS_DENIED', `local KMS: the ciphertext was made under key "${escapeControl(blob.keyId)}", not "${escapeControl(keyId)}"`);
    }
    const k = wanted ?? data.keys.find((x) => x.id === blob.keyId);
    if (k === undefined) throw new EnsealError('ERR_KMS_DENIED', `local KMS: the ciphertext names key "${escapeControl(blob.keyId)}", which this store does not hold`);
    LocalKms.#usable(k);
    const v = k.versions[blob.version - 1];
    if (v === undefined) throw new EnsealError('ERR_KMS_DENIED', `local KMS: key "${k.id}" has no version ${blob.version}`);
    const material = fromBase64(v.material);
    const aead = await this.#backend.aesGcm(material);
    try {
      return await aead.open(blob.nonce, blob.sealed, blobAad(blob.prefix, context));
    } catch (e) {
      if (e instanceof EnsealError && e.code === 'ERR_AUTH') {
        throw new EnsealError('ERR_KMS_DENIED', `local KMS: ciphertext for key "${k.id}" v${blob.version} failed authentication (wrong encryption context, or modified)`);
      }
      throw e;
    } finally {
      aead.dispose();
      wipe(material);
    }
  }

  /**
   * The canonical `lk-…` id of a key id or alias (the alias table of the store).
   * @param keyId - key id or alias
   * @returns the key's canonical id
   * @throws EnsealError `ERR_KMS_NOT_FOUND` when no key has that id or alias
   * @example
   * ```ts
   * await local.resolveKeyId('backups'); // "lk-…"
   * ```
   */
  async resolveKeyId(keyId: string): Promise<string> {
    return LocalKms.#find(await this.#load(), keyId).id;
  }

  /**
   * Whether the key `canonical` is in this store (a stanza of another store is not ours).
   * @param canonical - a canonical `lk-…` id
   * @returns true when the store holds that key
   * @example
   * ```ts
   * await local.ownsKeyId('lk-…');
   * ```
   */
  async ownsKeyId(canonical: string): Promise<boolean> {
    return (await this.#load()).keys.some((x) => x.id === canonical);
  }
}
