/**
 * `enseal head|ls|rm LOCATION` and `enseal rewrap … LOCATION` (key rotation of a stored object,
 * in place), plus {@link storageCommand}, which runs any storage command (`put` and `get` are in
 * ./storage-put.ts and ./storage-get.ts).
 *
 * - `head` prints, as JSON, what the store says and the object's header shows: plaintext size,
 *   stored size, user metadata, recipients, context, the store's own server-side encryption.
 *   Nothing in it is authenticated (`"authenticated": false`); it needs no key.
 * - `ls` prints one line per object: stored size, last modification (or `-`), key.
 * - `rm` deletes objects (a missing object is not an error, as in the stores).
 * - `rewrap` changes the recipients of a stored object without re-encrypting its payload: a
 *   server-side copy with the new, MAC-verified header in metadata where the store can copy
 *   (s3, oss), else a streamed rewrite that passes on each chunk only after it authenticated
 *   (docs/FORMAT.md §8). Prints the method used and the new recipients' key ids.
 *
 * Everything printed that comes from the store (keys, metadata, key ids, context) is escaped:
 * control, C1 and bidi characters never reach the terminal raw.
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import type { Stanza } from '../format/header.js';
import { encryptedBucket } from '../storage/bucket.js';
import type { ObjectStore } from '../storage/store.js';
import { usageError } from './cli-error.js';
import { KeyLoader, type KeyLoaderOptions } from './key-loader.js';
import { removes } from './rewrap.js';
import type { HeadCommand, LsCommand, RewrapObjectCommand, RmCommand, StorageCommand } from './storage-args.js';
import { openStore } from './storage-client.js';
import { getCommand } from './storage-get.js';
import { putCommand } from './storage-put.js';
import { resolveSse } from './storage-sse.js';
import type { StorageLocation } from './storage-url.js';
import { quoted, safeJson } from './terminal-text.js';

type Io = Pick<KeyLoaderOptions, 'env' | 'terminal' | 'warn'>;

const open = (loc: StorageLocation, flags: { allowInsecureHttp: boolean }, io: Io) =>
  openStore(loc, { allowInsecureHttp: flags.allowInsecureHttp, ...(io.env === undefined ? {} : { env: io.env }) });

/**
 * Runs `head`: prints the object's unauthenticated facts as JSON.
 * @param cmd - parsed command
 * @param io - the environment (default `process.env`)
 * @throws EnsealError `ERR_NOT_FOUND`, `ERR_HEADER`, `ERR_STORE`, …
 */
export async function headCommand(cmd: HeadCommand, io: Io = {}): Promise<void> {
  const { store } = await open(cmd.location, cmd, io);
  const sse = await resolveSse(cmd.sse);
  try {
    const h = await encryptedBucket(store).headObject(cmd.location.key, sse.sse === undefined ? {} : { sse: sse.sse });
    const doc = {
      location: cmd.location.text,
      format: h.format,
      size: h.size,
      storedSize: h.storedSize,
      metadata: h.metadata,
      context: h.context,
      recipients: h.recipients.map((r) => ({ type: r.type, keyId: r.keyId, ...(Object.keys(r.params).length === 0 ? {} : { params: r.params }) })),
      headerSource: h.headerSource,
      ...(h.interop === undefined ? {} : { interop: h.interop }),
      ...(h.etag === undefined ? {} : { etag: h.etag }),
      ...(h.lastModified === undefined ? {} : { lastModified: h.lastModified.toISOString() }),
      ...(h.sse === undefined ? {} : { serverSideEncryption: h.sse }),
      authenticated: false,
    };
    process.stdout.write(`${safeJson(doc)}\n`);
  } finally {
    sse.dispose();
  }
}

/**
 * Runs `ls`: one line per object under the prefix, `SIZE<TAB>MODIFIED<TAB>KEY` (stored bytes).
 * @param cmd - parsed command
 * @param io - the environment (default `process.env`)
 * @throws EnsealError `ERR_STORE`, …
 */
export async function lsCommand(cmd: LsCommand, io: Io = {}): Promise<void> {
  const { store } = await open(cmd.location, cmd, io);
  for await (const e of store.list(cmd.location.key)) {
    process.stdout.write(`${e.size}\t${e.lastModified?.toISOString() ?? '-'}\t${escapeControl(e.key, 2048)}\n`);
  }
}

/**
 * Runs `rm`: deletes each object (one store per distinct bucket or folder).
 * @param cmd - parsed command
 * @param io - the environment (default `process.env`)
 * @throws EnsealError `ERR_STORE`, …
 */
export async function rmCommand(cmd: RmCommand, io: Io = {}): Promise<void> {
  const stores = new Map<string, ObjectStore>();
  for (const loc of cmd.locations) {
    const id = `${loc.scheme}\0${loc.bucket}`;
    let store = stores.get(id);
    if (store === undefined) {
      store = (await open(loc, cmd, io)).store;
      stores.set(id, store);
    }
    await store.delete(loc.key);
  }
}

/** Refuses a `--remove` that matches no recipient (listing a few key ids, which are not secret). */
function checkRemovals(recipients: readonly { type: string; keyId: string; params: Record<string, string> }[], remove: readonly string[]): void {
  for (const id of remove) {
    if (!recipients.some((r) => removes(r, id))) {
      const ids = recipients.slice(0, 8).map((r) => quoted(r.keyId, 80)).join(', ') + (recipients.length > 8 ? ', ...' : '');
      throw usageError(`--remove ${quoted(id, 80)} matches no recipient of the object (key ids: ${ids}; see enseal head)`);
    }
  }
}

/**
 * Runs `rewrap` on a stored object.
 * @param cmd - parsed command
 * @param io - the environment, terminal and warning sink (default: the process's own)
 * @throws CliError `ERR_USAGE`/`ERR_KEYFILE`/`ERR_CANCELLED`; EnsealError (`ERR_NO_KEY`,
 *   `ERR_AUTH`, `ERR_CONTEXT`, `ERR_NOT_FOUND`, `ERR_STORE`, KMS errors)
 */
export async function rewrapObjectCommand(cmd: RewrapObjectCommand, io: Io = {}): Promise<void> {
  const loader = new KeyLoader({ kmsStore: cmd.kmsStore, kdf: cmd.kdf, legacyRsa: cmd.legacyRsa, kmsDiscovery: cmd.kmsDiscovery, ...io });
  let sse: Awaited<ReturnType<typeof resolveSse>> | undefined;
  try {
    const { store, maxMetadataBytes } = await open(cmd.location, cmd, io);
    const [keys, add] = await loader.load([
      { sources: cmd.keys, role: 'unlock', promptLabel: 'Passphrase' },
      { sources: cmd.add, role: 'recipient', promptLabel: 'New passphrase' },
    ]);
    sse = await resolveSse(cmd.sse);
    const common = sse.sse === undefined ? {} : { sse: sse.sse };
    const bucket = encryptedBucket(store, { keys: keys!, context: cmd.context, ...(maxMetadataBytes === undefined ? {} : { maxMetadataBytes }) });
    const key = cmd.location.key;
    if (cmd.remove.length > 0) checkRemovals((await bucket.headObject(key, common)).recipients, cmd.remove);
    const remove = (s: Stanza): boolean => cmd.remove.some((id) => removes(s, id));
    const r = await bucket.rewrapObject(key, { add: add!, remove, ...common });
    const ids = r.recipients.map((x) => escapeControl(x.keyId, 200)).join(', ');
    process.stdout.write(`rewrap ${escapeControl(cmd.location.text, 300)}: ${r.method === 'copy' ? 'server-side copy' : 'streamed rewrite'}; recipients: ${ids}\n`);
  } finally {
    sse?.dispose();
    loader.dispose();
  }
}

/**
 * Runs a storage command.
 * @param cmd - parsed command
 * @param io - the environment, terminal and warning sink (default: the process's own)
 * @throws as the command
 * @example
 * ```ts
 * await storageCommand(parseStorageCommand('ls', ['s3://photos/2026/']) as StorageCommand);
 * ```
 */
export async function storageCommand(cmd: StorageCommand, io: Io = {}): Promise<void> {
  switch (cmd.kind) {
    case 'put':
      return putCommand(cmd, io);
    case 'get':
      return getCommand(cmd, io);
    case 'head':
      return headCommand(cmd, io);
    case 'ls':
      return lsCommand(cmd, io);
    case 'rm':
      return rmCommand(cmd, io);
    case 'rewrap-object':
      return rewrapObjectCommand(cmd, io);
  }
}
