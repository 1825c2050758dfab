/**
 * The LocalKms key-store file: its JSON schema, strict parsing, the permission check on open,
 * and crash-safe replacement.
 *
 * ```json
 * { "format": "enseal-local-kms", "version": 1,
 *   "keys": [ { "id": "lk-<32 hex>", "alias": "backups", "created": "2026-01-02T03:04:05.678Z",
 *               "enabled": true, "primary": 2,
 *               "versions": [ { "version": 1, "created": "…", "material": "<base64 of 32 bytes>" },
 *                             { "version": 2, "created": "…", "material": "…" } ] } ] }
 * ```
 *
 * - **Permissions.** The file holds master keys in clear: it is created with mode 0600 (its
 *   directory, when created, 0700), and a store that group or others can read or write is
 *   refused (`ERR_KMS_DENIED`, with the `chmod` to run), as ssh refuses loose private keys.
 *   (Skipped on Windows, where POSIX modes do not apply.)
 * - **Atomic replacement.** A new version is written to a temporary file in the same directory
 *   (created exclusively, mode 0600), fsynced, renamed over the store, and the directory is
 *   fsynced. A crash or failure at any point leaves either the old or the new store, never a
 *   mix; a failed write removes its temporary file.
 * - **Strict parsing.** Anything that is not exactly this schema (unknown fields, duplicate ids
 *   or aliases, a primary version that does not exist, material that is not 32 bytes…) is
 *   reported as a corrupt store (`ERR_KMS_UNAVAILABLE`) naming the field, never its value.
 *
 * @module
 */
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fromBase64, wipe } from '../bytes.js';
import { EnsealError } from '../errors.js';

/** The `format` field of a store file. */
export const LOCAL_STORE_FORMAT = 'enseal-local-kms';
/** The store schema version this build reads and writes. */
export const LOCAL_STORE_VERSION = 1;
/** Largest store file read, in bytes. */
export const MAX_LOCAL_STORE_BYTES = 16 << 20;

/** One version of a key, as stored. */
export interface StoredVersion {
  version: number;
  created: string;
  /** Base64 of the 32-byte AES-256 key material. */
  material: string;
}

/** One key, as stored. */
export interface StoredKey {
  id: string;
  alias?: string;
  created: string;
  enabled: boolean;
  primary: number;
  versions: StoredVersion[];
}

/** A whole store. */
export interface StoreData {
  format: typeof LOCAL_STORE_FORMAT;
  version: typeof LOCAL_STORE_VERSION;
  keys: StoredKey[];
}

/** Key ids LocalKms creates: "lk-" and 16 random bytes in hex. */
export const LOCAL_KEY_ID_RE = /^lk-[0-9a-f]{32}$/;
/** Aliases: 1..128 characters of [A-Za-z0-9._/-], starting alphanumeric, not "lk-…". */
export const LOCAL_ALIAS_RE = /^(?!lk-)[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

function corrupt(path: string, reason: string): EnsealError {
  return new EnsealError('ERR_KMS_UNAVAILABLE', `local KMS store "${path}" is corrupt: ${reason}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyFields(o: Record<string, unknown>, allowed: readonly string[], where: string, path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw corrupt(path, `${where} has an unknown field "${k.slice(0, 40)}"`);
}

/**
 * Parses and validates a store's text.
 * @param text - the file's content
 * @param path - for messages
 * @returns the store
 * @throws EnsealError `ERR_KMS_UNAVAILABLE` ("corrupt") for anything but a valid store
 * @example
 * ```ts
 * const data = parseStore(await readFile(path, 'utf8'), path);
 * ```
 */
export function parseStore(text: string, path: string): StoreData {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    throw corrupt(path, 'not valid JSON');
  }
  if (!isObject(root)) throw corrupt(path, 'not a JSON object');
  if (root.format !== LOCAL_STORE_FORMAT) throw corrupt(path, `"format" is not "${LOCAL_STORE_FORMAT}"`);
  if (root.version !== LOCAL_STORE_VERSION) throw corrupt(path, `unsupported "version" (this build reads ${LOCAL_STORE_VERSION})`);
  onlyFields(root, ['format', 'version', 'keys'], 'the store', path);
  if (!Array.isArray(root.keys)) throw corrupt(path, '"keys" is not an array');
  const ids = new Set<string>();
  const aliases = new Set<string>();
  const keys = root.keys.map((k: unknown, i): StoredKey => {
    const where = `keys[${i}]`;
    if (!isObject(k)) throw corrupt(path, `${where} is not an object`);
    onlyFields(k, ['id', 'alias', 'created', 'enabled', 'primary', 'versions'], where, path);
    if (typeof k.id !== 'string' || !LOCAL_KEY_ID_RE.test(k.id)) throw corrupt(path, `${where}.id is not a LocalKms key id`);
    if (ids.has(k.id)) throw corrupt(path, `${where}.id is a duplicate`);
    ids.add(k.id);
    if (k.alias !== undefined) {
      if (typeof k.alias !== 'string' || !LOCAL_ALIAS_RE.test(k.alias)) throw corrupt(path, `${where}.alias is not a valid alias`);
      if (aliases.has(k.alias)) throw corrupt(path, `${where}.alias is a duplicate`);
      aliases.add(k.alias);
    }
    if (typeof k.created !== 'string' || !ISO_RE.test(k.created)) throw corrupt(path, `${where}.created is not an ISO 8601 UTC time`);
    if (typeof k.enabled !== 'boolean') throw corrupt(path, `${where}.enabled is not a boolean`);
    if (!Array.isArray(k.versions) || k.versions.length === 0) throw corrupt(path, `${where}.versions is not a non-empty array`);
    const versions = k.versions.map((v: unknown, j): StoredVersion => {
      const w = `${where}.versions[${j}]`;
      if (!isObject(v)) throw corrupt(path, `${w} is not an object`);
      onlyFields(v, ['version', 'created', 'material'], w, path);
      if (v.version !== j + 1) throw corrupt(path, `${w}.version is not ${j + 1}`);
      if (typeof v.created !== 'string' || !ISO_RE.test(v.created)) throw corrupt(path, `${w}.created is not an ISO 8601 UTC time`);
      let material: Uint8Array | undefined;
      try {
        material = typeof v.material === 'string' ? fromBase64(v.material) : undefined;
      } catch {
        material = undefined;
      }
      const ok = material?.length === 32;
      wipe(material);
      if (!ok) throw corrupt(path, `${w}.material is not base64 of 32 bytes`);
      return { version: v.version, created: v.created, material: v.material as string };
    });
    if (typeof k.primary !== 'number' || !Number.isInteger(k.primary) || k.primary < 1 || k.primary > versions.length) {
      throw corrupt(path, `${where}.primary is not one of its versions`);
    }
    return { id: k.id, ...(k.alias === undefined ? {} : { alias: k.alias as string }), created: k.created, enabled: k.enabled, primary: k.primary, versions };
  });
  return { format: LOCAL_STORE_FORMAT, version: LOCAL_STORE_VERSION, keys };
}

/**
 * Serialises a store (pretty-printed, final newline).
 * @param data - the store
 * @returns the JSON text
 * @example
 * ```ts
 * await writeFileAtomic(path, serializeStore(data));
 * ```
 */
export function serializeStore(data: StoreData): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

/** A stat fingerprint that changes whenever the store file is replaced. */
export type StoreSignature = string;

/**
 * Stats the store and refuses loose permissions.
 * @param path - store path
 * @returns the fingerprint (inode, size, mtime), or `undefined` if the file does not exist
 * @throws EnsealError `ERR_KMS_DENIED` for a store readable/writable by group or others, or not
 *   a regular file; `ERR_KMS_UNAVAILABLE` for a store larger than 16 MiB or an unreadable one
 * @example
 * ```ts
 * if ((await checkStore(path)) === undefined) console.log('no store yet');
 * ```
 */
export async function checkStore(path: string): Promise<StoreSignature | undefined> {
  let st;
  try {
    st = await stat(path, { bigint: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EnsealError('ERR_KMS_UNAVAILABLE', `local KMS store "${path}" cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  if (!st.isFile()) throw new EnsealError('ERR_KMS_DENIED', `local KMS store "${path}" is not a regular file`);
  const mode = Number(st.mode & 0o777n);
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new EnsealError('ERR_KMS_DENIED', `local KMS store "${path}" is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 "${path}"`);
  }
  if (st.size > BigInt(MAX_LOCAL_STORE_BYTES)) throw corrupt(path, `larger than ${MAX_LOCAL_STORE_BYTES} bytes`);
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/**
 * Reads and parses the store (after {@link checkStore}); the read buffer is wiped.
 * @param path - store path
 * @returns the store
 * @throws EnsealError `ERR_KMS_UNAVAILABLE` when unreadable or corrupt
 * @example
 * ```ts
 * const data = await readStore(path);
 * ```
 */
export async function readStore(path: string): Promise<StoreData> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new EnsealError('ERR_KMS_UNAVAILABLE', `local KMS store "${path}" cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  try {
    if (buf.length > MAX_LOCAL_STORE_BYTES) throw corrupt(path, `larger than ${MAX_LOCAL_STORE_BYTES} bytes`);
    return parseStore(buf.toString('utf8'), path);
  } finally {
    buf.fill(0);
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Not possible everywhere (Windows cannot open directories); the rename is still atomic.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Replaces `path` with `text` atomically: temp file (exclusive, 0600) in the same directory,
 * fsync, rename, fsync of the directory.
 * @param path - the file to replace (or create)
 * @param text - its new content
 * @param tempSuffix - random suffix for the temporary file name
 * @returns once the new content is durable (file and directory fsynced)
 * @throws EnsealError `ERR_KMS_UNAVAILABLE` when any step fails (the old file is untouched and
 *   the temporary file removed)
 * @example
 * ```ts
 * await writeFileAtomic('/home/me/.enseal/kms.json', serializeStore(data), 'a1b2c3d4');
 * ```
 */
export async function writeFileAtomic(path: string, text: string, tempSuffix: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${tempSuffix}.tmp`);
  const content = Buffer.from(text, 'utf8');
  let created = false;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    created = true;
    try {
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    created = false;
  } catch (e) {
    if (created) await unlink(tmp).catch(() => undefined);
    throw new EnsealError('ERR_KMS_UNAVAILABLE', `local KMS store "${path}" could not be written (${(e as NodeJS.ErrnoException).code ?? 'error'}); the previous store is unchanged`, { cause: e });
  } finally {
    content.fill(0);
  }
  await fsyncDirectory(dir);
}
