/**
 * Where a resumable encrypted multipart upload keeps its progress ({@link UploadState}): the
 * store's upload id, the sealed header (the data key only in *wrapped* form), the payload salt,
 * the part layout and every completed part with its entity tag and ciphertext digest. The
 * plaintext data key is **never** part of it: a resumed upload unwraps the header again with the
 * caller's keys.
 *
 * Two implementations: {@link memoryUploadState} (tests, or a process that retries in place) and
 * {@link fileUploadState} (Node: a 0600 JSON file replaced atomically on every save, reached
 * through `process.getBuiltinModule('node:fs')` so that importing `enseal/storage` never pulls
 * in a `node:` module).
 *
 * @module
 */
import { EnsealError } from '../errors.js';

/** A part as recorded (completed, or being sent). */
export interface UploadedPart {
  /** 1-based part number. */
  readonly partNumber: number;
  /**
   * Entity tag the store returned; empty while the part is being sent. A part is recorded, with
   * its digest, *before* its bytes leave, so a resume after a crash mid-part must reseal the same
   * plaintext there too: another plaintext under the same nonces, next to bytes the store may
   * already have seen, would reuse the AES-GCM keystream.
   */
  readonly etag: string;
  /** Stored bytes of the part. */
  readonly size: number;
  /** SHA-256 (hex) of the part's ciphertext: a resumed upload checks its source against it. */
  readonly sha256: string;
}


/**
 * Everything needed to resume an upload (no secret: the data key is wrapped in `header`),
 * authenticated by `mac` under a key derived from the data key (`./upload-state-mac.ts`).
 */
export interface UploadRecord {
  /** Record format version (2: with `mac`; version 1 records, without it, are refused). */
  readonly version: 2;
  /** Store name, as `ObjectStore.name`. */
  readonly store: string;
  /** Object key. */
  readonly key: string;
  /** The store's upload id. */
  readonly uploadId: string;
  /** The sealed enseal header, base64. */
  readonly header: string;
  /** The payload salt (24 bytes), base64. */
  readonly salt: string;
  /** 16 KiB chunks per part. */
  readonly chunksPerPart: number;
  /** Recorded parts, by part number: completed, or being sent (`etag` empty). */
  readonly parts: readonly UploadedPart[];
  /** HMAC-SHA-256 of every other field (64 hex digits; `./upload-state-mac.ts`). */
  readonly mac: string;
}

/** Persistence of one upload's {@link UploadRecord}. */
export interface UploadState {
  /** The saved record, or `undefined` when there is none. */
  load(): Promise<UploadRecord | undefined>;
  /** Replaces the saved record (atomically, where the medium allows). */
  save(record: UploadRecord): Promise<void>;
  /** Forgets the record (after completion or abort). */
  clear(): Promise<void>;
}

/**
 * Checks a loaded record's shape (a file may be stale, truncated or edited).
 * @param v - parsed JSON
 * @returns the record
 * @throws EnsealError `ERR_STATE` when it is not a valid record
 * @example
 * ```ts
 * const record = checkUploadRecord(JSON.parse(text));
 * ```
 */
export function checkUploadRecord(v: unknown): UploadRecord {
  const bad = (what: string): never => {
    throw new EnsealError('ERR_STATE', `upload state is not valid: ${what}`);
  };
  if (typeof v !== 'object' || v === null) bad('not an object');
  const r = v as Record<string, unknown>;
  if (r.version === 1) bad('written by an earlier enseal without authentication: start the upload again');
  if (r.version !== 2) bad('unknown version');
  if (typeof r.mac !== 'string' || !/^[0-9a-f]{64}$/.test(r.mac)) bad('"mac"');
  for (const f of ['store', 'key', 'uploadId', 'header', 'salt'] as const) {
    if (typeof r[f] !== 'string' || (r[f] as string).length === 0 || (r[f] as string).length > 200_000) bad(`"${f}"`);
  }
  if (!Number.isSafeInteger(r.chunksPerPart) || (r.chunksPerPart as number) < 1) bad('"chunksPerPart"');
  if (!Array.isArray(r.parts) || r.parts.length > 10_000) bad('"parts"');
  for (const p of r.parts as unknown[]) {
    const q = p as Record<string, unknown>;
    if (typeof p !== 'object' || p === null) bad('a part');
    if (!Number.isSafeInteger(q.partNumber) || (q.partNumber as number) < 1) bad('a part number');
    if (typeof q.etag !== 'string' || q.etag.length > 1024 || typeof q.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(q.sha256)) bad('a part etag or digest');
    if (!Number.isSafeInteger(q.size) || (q.size as number) < 0) bad('a part size');
  }
  return r as unknown as UploadRecord;
}

/**
 * An in-memory {@link UploadState}.
 * @returns an empty state
 * @example
 * ```ts
 * const state = memoryUploadState();
 * await bucket.putObject('big.bin', stream, { uploadState: state });
 * ```
 */
export function memoryUploadState(): UploadState & { readonly record: UploadRecord | undefined } {
  let saved: string | undefined;
  return {
    get record() {
      return saved === undefined ? undefined : checkUploadRecord(JSON.parse(saved));
    },
    load: async () => (saved === undefined ? undefined : checkUploadRecord(JSON.parse(saved))),
    save: async (r) => {
      saved = JSON.stringify(r);
    },
    clear: async () => {
      saved = undefined;
    },
  };
}

interface NodeFs {
  promises: {
    readFile(path: string, enc: 'utf8'): Promise<string>;
    writeFile(path: string, data: string, opts: { mode: number; flag: string }): Promise<void>;
    rename(from: string, to: string): Promise<void>;
    rm(path: string, opts: { force: boolean }): Promise<void>;
    open(path: string, flags: string): Promise<{ sync(): Promise<void>; close(): Promise<void> }>;
  };
}

function nodeFs(): NodeFs {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule('node:fs') as NodeFs | undefined) : undefined;
  if (fs === undefined) throw new EnsealError('ERR_UNSUPPORTED', 'fileUploadState needs Node (process.getBuiltinModule("node:fs"))');
  return fs;
}

/**
 * A file-backed {@link UploadState} (Node): JSON in a file created with mode 0600, replaced by
 * write-to-temporary, fsync and rename, so a crash leaves the old or the new record, never half.
 *
 * @param path - the state file (its directory must exist)
 * @returns the state
 * @throws TypeError when `path` is not a non-empty string
 * @throws EnsealError `ERR_UNSUPPORTED` outside Node
 * @example
 * ```ts
 * const state = fileUploadState('/var/tmp/backup.upload.json');
 * await bucket.putObject('backup.tar', stream, { uploadState: state, resume: true });
 * ```
 */
export function fileUploadState(path: string): UploadState {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) throw new TypeError('"path" expected a non-empty file path');
  const fs = nodeFs().promises;
  let counter = 0;
  return {
    async load() {
      let text: string;
      try {
        text = await fs.readFile(path, 'utf8');
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return undefined;
        throw e;
      }
      if (text.length > 4 * 1024 * 1024) throw new EnsealError('ERR_STATE', 'upload state file is too large');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new EnsealError('ERR_STATE', 'upload state file is not JSON');
      }
      return checkUploadRecord(parsed);
    },
    async save(record) {
      const tmp = `${path}.${Date.now().toString(36)}-${(counter++).toString(36)}.tmp`;
      await fs.writeFile(tmp, JSON.stringify(record), { mode: 0o600, flag: 'wx' });
      try {
        const h = await fs.open(tmp, 'r+');
        try {
          await h.sync();
        } finally {
          await h.close();
        }
        await fs.rename(tmp, path);
      } catch (e) {
        await fs.rm(tmp, { force: true }).catch(() => undefined);
        throw e;
      }
    },
    async clear() {
      await fs.rm(path, { force: true });
    },
  };
}
