/**
 * An advisory lock between processes that share a file: `<file>.lock`, created exclusively
 * (`O_CREAT | O_EXCL`, mode 0600) and holding `{pid, host, token, created}`.
 *
 * - Waiting: a held lock is retried every 5–25 ms (jittered) until `timeoutMs`, then
 *   `ERR_KMS_UNAVAILABLE`.
 * - Stale locks: a lock whose file is older than `staleMs`, or whose owner is a process on this
 *   host that no longer exists, is removed and acquisition retried. (Removal re-reads the lock
 *   first and only removes the same owner's lock, narrowing the window in which two waiters
 *   could both judge it stale.)
 * - Release removes the lock only if it still holds our random token.
 *
 * @module
 */
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { EnsealError } from '../errors.js';

/** Lock timing. */
export interface FileLockOptions {
  /** How long to wait for a held lock, in ms. */
  timeoutMs: number;
  /** Age after which a lock is considered abandoned, in ms. */
  staleMs: number;
  /** Random token identifying this holder (hex). */
  token: string;
}

interface LockContent {
  pid?: unknown;
  host?: unknown;
  token?: unknown;
}

async function readLock(lockPath: string): Promise<LockContent | undefined> {
  try {
    const v: unknown = JSON.parse(await readFile(lockPath, 'utf8'));
    return typeof v === 'object' && v !== null ? (v as LockContent) : {};
  } catch {
    return undefined;
  }
}

function ownerIsGone(c: LockContent | undefined): boolean {
  if (c === undefined || c.host !== hostname() || typeof c.pid !== 'number' || !Number.isInteger(c.pid) || c.pid <= 0) return false;
  try {
    process.kill(c.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<LockContent | undefined> {
  let st;
  try {
    st = await stat(lockPath);
  } catch {
    return undefined; // gone: simply retry
  }
  const content = await readLock(lockPath);
  if (Date.now() - st.mtimeMs > staleMs || ownerIsGone(content)) return content ?? {};
  return undefined;
}

/**
 * Runs `fn` while holding the lock `lockPath`.
 *
 * @param lockPath - the lock file (e.g. `store.json.lock`)
 * @param opts - timeout, staleness and token
 * @param fn - the critical section
 * @returns what `fn` returns
 * @throws EnsealError `ERR_KMS_UNAVAILABLE` when the lock cannot be had within `timeoutMs` or
 *   the lock file cannot be created; whatever `fn` throws
 * @example
 * ```ts
 * await withFileLock(`${path}.lock`, { timeoutMs: 10_000, staleMs: 30_000, token }, () => update());
 * ```
 */
export async function withFileLock<T>(lockPath: string, opts: FileLockOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const content = JSON.stringify({ pid: process.pid, host: hostname(), token: opts.token, created: new Date().toISOString() });
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx', 0o600);
      try {
        await fh.writeFile(content);
      } finally {
        await fh.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new EnsealError('ERR_KMS_UNAVAILABLE', `cannot create lock file "${lockPath}" (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
      }
    }
    const stale = await isStale(lockPath, opts.staleMs);
    if (stale !== undefined) {
      const again = await readLock(lockPath);
      if (again === undefined || again.token === stale.token) await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new EnsealError('ERR_KMS_UNAVAILABLE', `timed out after ${opts.timeoutMs} ms waiting for lock "${lockPath}" (held by another process)`);
    }
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
  }
  try {
    return await fn();
  } finally {
    const held = await readLock(lockPath);
    if (held?.token === opts.token) await unlink(lockPath).catch(() => undefined);
  }
}
