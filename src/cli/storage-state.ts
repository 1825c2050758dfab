/**
 * Where `put --resume` keeps an upload's state: `--state FILE`, else
 * `~/.enseal/uploads/<id>.json`, `<id>` being 32 hex digits of the SHA-256 of the store's name
 * and the object key (so each object has its own file). The file holds the upload id, the
 * sealed header (the data key only wrapped), the salt and the part entity tags — never a
 * plaintext key (`fileUploadState` in src/storage/upload-state.ts); it is mode 0600 in a 0700
 * directory, and removed once the upload completes.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ObjectStore } from '../storage/store.js';
import { fileUploadState, type UploadState } from '../storage/upload-state.js';

/** The uploads directory and the state file name of an object. */
function statePath(storeName: string, key: string): { dir: string; path: string } {
  const dir = join(homedir(), '.enseal', 'uploads');
  const id = createHash('sha256').update(storeName).update('\0').update(key).digest('hex').slice(0, 32);
  return { dir, path: join(dir, `${id}.json`) };
}

/**
 * The default state file of an object's upload (its directory is created, mode 0700).
 * @param storeName - `ObjectStore.name`, e.g. `s3://photos`
 * @param key - the object key
 * @returns the path
 * @example
 * ```ts
 * await defaultStatePath('s3://photos', 'cat.jpg'); // ~/.enseal/uploads/<32 hex>.json
 * ```
 */
export async function defaultStatePath(storeName: string, key: string): Promise<string> {
  const { dir, path } = statePath(storeName, key);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return path;
}

/**
 * A `put` without `--resume` replaces any interrupted upload of the same object saved in the
 * default place: its parts are aborted in the store (best effort) and its state file removed.
 * @param store - the store
 * @param key - the object key
 */
export async function discardSavedUpload(store: ObjectStore, key: string): Promise<void> {
  const { path } = statePath(store.name, key);
  if (!(await access(path).then(() => true, () => false))) return;
  const state: UploadState = fileUploadState(path);
  const saved = await state.load().catch(() => undefined);
  if (saved !== undefined && saved.store === store.name && saved.key === key) await store.abortMultipart(key, saved.uploadId).catch(() => undefined);
  await state.clear();
}
