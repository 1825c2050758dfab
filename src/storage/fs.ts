/**
 * `enseal/storage/fs`: an {@link ObjectStore} in a local folder (Node). Objects are written
 * atomically, metadata lives beside each object, and no key can reach outside the folder.
 *
 * Layout (a key's `/`-separated segments become directories; each segment is stored
 * percent-encoded where a file system would misread it, and `~` is always encoded, so the
 * store's own names — which contain a bare `~` — never collide with a key):
 *
 * ```
 * <dir>/photos/cat.jpg~meta.json      the object's record: {format, key, data, size, etag,
 *                                     lastModified, metadata}; renaming it into place is the
 *                                     commit point of a put
 * <dir>/photos/cat.jpg~<32 hex>.bin   the bytes, immutable, named by the record
 * <dir>/~staging/<upload id>/         a multipart upload: upload.json + part-00001 …
 * ```
 *
 * - **Atomic puts:** the bytes go to a temporary file in the object's directory, are fsynced and
 *   renamed to a fresh `~<version>.bin`; then the record is written the same way (temp file,
 *   fsync, rename over `~meta.json`) and the directory fsynced. A reader opens the record, then
 *   the bytes it names: it sees the old object or the new one, never one's metadata with the
 *   other's bytes, never a partial file. The replaced version is unlinked after the commit (a
 *   reader that already opened it keeps reading it). A crash can leave `*.tmp` files or an
 *   unreferenced `.bin`: they are never listed or served.
 * - **Multipart:** parts are files in `~staging/<upload id>/`; completing concatenates them (in
 *   the order given, each checked against its ETag) into a temporary file beside the object,
 *   then commits as a put does.
 * - **Confinement:** a key that is absolute (`/a`), has an empty, `.` or `..` segment, a
 *   backslash or a drive prefix (`C:`, `C:/…`) is a `TypeError`. At run time every directory on the
 *   way is checked with `lstat`/`realpath`: a symlinked directory that resolves outside `dir`
 *   is `ERR_STORE` (code `SymlinkEscape`); object files are opened with `O_NOFOLLOW`, so a
 *   symlinked record or data file is `ERR_STORE` (code `SymlinkRefused`).
 * - **Limits:** an encoded segment is at most 200 bytes (file-name limits); keys are 1..1024
 *   UTF-8 bytes as everywhere. Server-side encryption cannot be requested (`ERR_UNSUPPORTED`;
 *   wrap the store with `atRestEncryption` instead). ETags are MD5 hex, as S3's (multipart:
 *   MD5 of the parts' MD5s, `-N`).
 *
 * Concurrent puts of one key from one store instance are committed in turn; across processes
 * the last rename wins and a lost race can leave an unreferenced `.bin` behind (never served).
 *
 * @module
 */
import { assertChunk } from '../bytes.js';
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, readFile, realpath, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { EnsealError } from '../errors.js';
import { checkBody } from './body.js';
import { notFoundError, quoteKey, storeError } from './errors.js';
import { checkRange, resolveRange } from './http-range.js';
import { checkMetadata, S3_MAX_METADATA_BYTES } from './metadata.js';
import { checkKey } from './object-key.js';
import type {
  CompletedPart,
  CreateMultipartOptions,
  GetOptions,
  GetResult,
  ListEntry,
  MultipartLimits,
  ObjectInfo,
  ObjectMetadata,
  ObjectStore,
  PutOptions,
  ServerSideEncryption,
} from './store.js';

/** Options of {@link fsStore}. */
export interface FsStoreOptions {
  /** Largest user metadata, names plus values in bytes (default 2048, as S3). */
  readonly maxMetadataBytes?: number;
  /** Multipart limits to report and enforce (default: no minimum part size, 5 GiB parts, 10 000 parts). */
  readonly multipart?: Partial<MultipartLimits>;
}

const RECORD_SUFFIX = '~meta.json';
const STAGING = '~staging';
const RECORD_FORMAT = 'enseal-fs-store/1';
const MAX_SEGMENT_BYTES = 200;
const MAX_RECORD_BYTES = 64 * 1024;
const READ_PIECE = 64 * 1024;
const UPLOAD_ID = /^[0-9a-f]{32}$/;
const DEFAULT_LIMITS: MultipartLimits = { minPartSize: 1, maxPartSize: 5 * 1024 ** 3, maxParts: 10_000 };
/** Characters encoded in a segment: `%` and `~` (ours), controls, and what Windows forbids. */
const ENCODE = /[%~\\:*?"<>|\u0000-\u001f\u007f]/gu;
const O_NOFOLLOW = fsc.O_NOFOLLOW ?? 0;

interface ObjectRecord {
  readonly format: string;
  readonly key: string;
  readonly data: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: number;
  readonly metadata: ObjectMetadata;
}

interface Located {
  /** The object's directory (absolute). */
  readonly dir: string;
  /** Encoded last segment. */
  readonly base: string;
  /** Directory segments (encoded), from the root. */
  readonly segments: readonly string[];
}

function encodeSegment(s: string): string {
  return s.replace(ENCODE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * Splits and checks a key for the file system.
 * @throws TypeError for keys that would escape or that a file system cannot hold
 */
function keySegments(key: string): string[] {
  checkKey(key);
  if (key.startsWith('/')) throw new TypeError(`fsStore: key "${quoteKey(key)}" is an absolute path`);
  if (key.includes('\\')) throw new TypeError(`fsStore: key "${quoteKey(key)}" contains a backslash (a path separator on Windows)`);
  // A drive path (`C:`, `C:/x`): refused as Windows-like input. (`a:b` is a fine key: `:` is encoded.)
  if (/^[A-Za-z]:(?:[\\/]|$)/.test(key)) throw new TypeError(`fsStore: key "${quoteKey(key)}" starts with a drive prefix`);
  const segments = key.split('/');
  return segments.map((s) => {
    if (s === '' || s === '.' || s === '..') throw new TypeError(`fsStore: key "${quoteKey(key)}" has an empty, "." or ".." segment`);
    const enc = encodeSegment(s);
    if (Buffer.byteLength(enc) > MAX_SEGMENT_BYTES) throw new TypeError(`fsStore: a segment of key "${quoteKey(key)}" exceeds ${MAX_SEGMENT_BYTES} bytes once encoded`);
    return enc;
  });
}

const md5hex = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

function errno(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function within(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Creates an {@link ObjectStore} over the folder `dir` (created if missing).
 *
 * @param dir - the folder; relative paths are resolved against the current directory now
 * @param opts - metadata and multipart limits
 * @returns the store (its `name` is `fs:<absolute dir>`)
 * @throws TypeError when `dir` is not a non-empty string without NUL
 * @example
 * ```ts
 * import { fsStore } from 'enseal/storage/fs';
 * const store = fsStore('./data');
 * await store.put('photos/cat.jpg', bytes, { metadata: { owner: 'ana' } });
 * const { body, size } = await store.get('photos/cat.jpg', { range: { start: 0, end: 1023 } });
 * ```
 */
export function fsStore(dir: string, opts: FsStoreOptions = {}): ObjectStore {
  if (typeof dir !== 'string' || dir === '' || dir.includes('\0')) throw new TypeError('"dir" expected a non-empty path without NUL');
  const base = resolve(dir);
  const name = `fs:${base}`;
  const maxMetadataBytes = opts.maxMetadataBytes ?? S3_MAX_METADATA_BYTES;
  if (!Number.isSafeInteger(maxMetadataBytes) || maxMetadataBytes < 0) throw new RangeError('"maxMetadataBytes" expected a non-negative integer');
  const limits: MultipartLimits = { ...DEFAULT_LIMITS, ...opts.multipart };
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`"multipart.${k}" expected a positive integer, got ${String(v)}`);
  }

  let rootPromise: Promise<string> | undefined;
  const root = (): Promise<string> => {
    rootPromise ??= (async () => {
      await mkdir(base, { recursive: true });
      return realpath(base);
    })().catch((e: unknown) => {
      rootPromise = undefined;
      throw storeError(name, 'open the store folder', { code: errno(e) ?? 'IOError', cause: e });
    });
    return rootPromise;
  };

  /** Per-key commit queue: the read-old / rename / unlink-old step of one key runs in turn. */
  const commits = new Map<string, Promise<unknown>>();
  const serial = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = commits.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    commits.set(key, tail);
    void tail.then(() => {
      if (commits.get(key) === tail) commits.delete(key);
    });
    return run;
  };

  const fail = (what: string, e: unknown): never => {
    if (e instanceof EnsealError || e instanceof TypeError || e instanceof RangeError) throw e;
    if (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError') throw e;
    const code = errno(e);
    if (code === undefined) throw e; // not a file-system error: e.g. the caller's body stream failed
    if (code === 'ELOOP') throw storeError(name, `${what}: a symlink in the store`, { code: 'SymlinkRefused', cause: e });
    throw storeError(name, what, { code, cause: e });
  };

  /** Checks that `p` (an existing directory under the root) resolves inside the root. */
  const confined = async (r: string, p: string, key: string): Promise<void> => {
    const real = await realpath(p);
    if (!within(r, real)) throw storeError(name, `key "${quoteKey(key)}": a symlinked directory leads outside the store`, { code: 'SymlinkEscape' });
  };

  /** Locates a key's directory; with `create`, makes the directories one by one, never through a symlink out. */
  const locate = async (key: string, create: boolean): Promise<Located | undefined> => {
    const segs = keySegments(key);
    const r = await root();
    let p = r;
    for (const s of segs.slice(0, -1)) {
      p = join(p, s);
      let st;
      try {
        st = await lstat(p);
      } catch (e) {
        if (errno(e) !== 'ENOENT') throw e;
        if (!create) return undefined;
        try {
          await mkdir(p);
        } catch (e2) {
          if (errno(e2) !== 'EEXIST') throw e2;
        }
        st = await lstat(p);
      }
      if (st.isSymbolicLink()) await confined(r, p, key);
      else if (!st.isDirectory()) throw storeError(name, `key "${quoteKey(key)}": a path segment is not a directory`, { code: 'NotADirectory' });
    }
    await confined(r, p, key);
    return { dir: p, base: segs[segs.length - 1] as string, segments: segs.slice(0, -1) };
  };

  const readRecord = async (loc: Located, key: string): Promise<ObjectRecord | undefined> => {
    let fh: FileHandle;
    try {
      fh = await open(join(loc.dir, loc.base + RECORD_SUFFIX), fsc.O_RDONLY | O_NOFOLLOW);
    } catch (e) {
      if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return undefined;
      throw e;
    }
    let text: string;
    try {
      const st = await fh.stat();
      if (!st.isFile() || st.size > MAX_RECORD_BYTES) throw storeError(name, `record of "${quoteKey(key)}"`, { code: 'CorruptRecord' });
      text = (await fh.readFile()).toString('utf8');
    } finally {
      await fh.close();
    }
    return parseRecord(text, loc, key);
  };

  const parseRecord = (text: string, loc: Located, key: string): ObjectRecord => {
    const bad = (): never => {
      throw storeError(name, `record of "${quoteKey(key)}"`, { code: 'CorruptRecord' });
    };
    let r: unknown;
    try {
      r = JSON.parse(text);
    } catch {
      return bad();
    }
    if (typeof r !== 'object' || r === null) return bad();
    const o = r as Record<string, unknown>;
    const dataName = new RegExp(`^${loc.base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}~[0-9a-f]{32}\\.bin$`);
    if (o.format !== RECORD_FORMAT || o.key !== key || typeof o.data !== 'string' || !dataName.test(o.data)) return bad();
    if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) return bad();
    if (typeof o.etag !== 'string' || typeof o.lastModified !== 'number' || typeof o.metadata !== 'object' || o.metadata === null) return bad();
    let metadata: ObjectMetadata;
    try {
      metadata = checkMetadata(o.metadata, Number.MAX_SAFE_INTEGER);
    } catch {
      return bad();
    }
    return { format: RECORD_FORMAT, key, data: o.data as string, size: o.size, etag: o.etag, lastModified: o.lastModified, metadata };
  };

  const info = (rec: ObjectRecord): ObjectInfo => ({ size: rec.size, metadata: { ...rec.metadata }, etag: rec.etag, lastModified: new Date(rec.lastModified) });

  /** Writes `bytes` (or a stream) to a fresh temp file in `dir`, fsynced; returns its path, size and MD5. */
  const writeTemp = async (
    dir: string,
    body: Uint8Array | ReadableStream<Uint8Array> | ((fh: FileHandle, hash: ReturnType<typeof createHash>) => Promise<number>),
    signal?: AbortSignal,
  ): Promise<{ path: string; size: number; md5: string }> => {
    const path = join(dir, `~${randomBytes(16).toString('hex')}.tmp`);
    const fh = await open(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | O_NOFOLLOW, 0o644);
    const hash = createHash('md5');
    let size = 0;
    try {
      if (body instanceof Uint8Array) {
        signal?.throwIfAborted();
        await fh.write(body, 0, body.length, 0);
        hash.update(body);
        size = body.length;
      } else if (body instanceof ReadableStream) {
        const reader = body.getReader();
        try {
          for (;;) {
            signal?.throwIfAborted();
            const { done, value } = await reader.read();
            if (done) break;
            assertChunk(value, '"body" stream expected Uint8Array chunks');
            await fh.write(value, 0, value.length, size);
            hash.update(value);
            size += value.length;
          }
        } catch (e) {
          await reader.cancel(e).catch(() => undefined);
          throw e;
        } finally {
          reader.releaseLock();
        }
      } else {
        size = await body(fh, hash);
      }
      signal?.throwIfAborted();
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      throw e;
    }
    await fh.close();
    return { path, size, md5: hash.digest('hex') };
  };

  const syncDir = async (dir: string): Promise<void> => {
    try {
      const fh = await open(dir, fsc.O_RDONLY);
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch {
      // Directory fsync is not supported everywhere (Windows); the renames are still atomic.
    }
  };

  /**
   * Commits a temp data file as the object `key`: rename to a fresh version, write the record,
   * unlink the replaced version.
   */
  const commit = (loc: Located, key: string, temp: { path: string; size: number }, etag: string, metadata: ObjectMetadata): Promise<ObjectRecord> =>
    serial(key, async () => {
      const data = `${loc.base}~${randomBytes(16).toString('hex')}.bin`;
      await rename(temp.path, join(loc.dir, data));
      const rec: ObjectRecord = { format: RECORD_FORMAT, key, data, size: temp.size, etag, lastModified: Date.now(), metadata };
      let old: ObjectRecord | undefined;
      try {
        old = await readRecord(loc, key).catch(() => undefined);
        const recTemp = await writeTemp(loc.dir, new TextEncoder().encode(JSON.stringify(rec)));
        await rename(recTemp.path, join(loc.dir, loc.base + RECORD_SUFFIX));
      } catch (e) {
        await unlink(join(loc.dir, data)).catch(() => undefined);
        throw e;
      }
      await syncDir(loc.dir);
      if (old !== undefined && old.data !== data) await unlink(join(loc.dir, old.data)).catch(() => undefined);
      return rec;
    });

  const noSse = (sse: ServerSideEncryption | undefined): void => {
    if (sse !== undefined) throw new EnsealError('ERR_UNSUPPORTED', `${name}: server-side encryption is not available in a folder (wrap the store with atRestEncryption)`);
  };

  /** Opens the data file a record names; re-reads the record when a concurrent put replaced it. */
  const openObject = async (key: string): Promise<{ rec: ObjectRecord; fh: FileHandle }> => {
    const loc = await locate(key, false);
    if (loc === undefined) throw notFoundError(name, key);
    for (let attempt = 0; attempt < 5; attempt++) {
      const rec = await readRecord(loc, key);
      if (rec === undefined) throw notFoundError(name, key);
      try {
        const fh = await open(join(loc.dir, rec.data), fsc.O_RDONLY | O_NOFOLLOW);
        const st = await fh.stat();
        if (!st.isFile() || st.size !== rec.size) {
          await fh.close();
          throw storeError(name, `data of "${quoteKey(key)}"`, { code: 'CorruptObject' });
        }
        return { rec, fh };
      } catch (e) {
        if (errno(e) !== 'ENOENT') throw e;
      }
    }
    throw storeError(name, `get "${quoteKey(key)}" (its data kept being replaced)`, { code: 'Conflict' });
  };

  const fileBody = (fh: FileHandle, start: number, endExclusive: number, signal?: AbortSignal): ReadableStream<Uint8Array> => {
    let pos = start;
    let closed = false;
    const close = async (): Promise<void> => {
      if (!closed) {
        closed = true;
        await fh.close().catch(() => undefined);
      }
    };
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            signal?.throwIfAborted();
            if (pos >= endExclusive) {
              await close();
              controller.close();
              return;
            }
            const want = Math.min(READ_PIECE, endExclusive - pos);
            const buf = new Uint8Array(want);
            const { bytesRead } = await fh.read(buf, 0, want, pos);
            if (bytesRead === 0) throw storeError(name, 'get body (file shrank)', { code: 'ShortBody' });
            pos += bytesRead;
            controller.enqueue(bytesRead === want ? buf : buf.subarray(0, bytesRead));
          } catch (e) {
            await close();
            controller.error(e);
          }
        },
        async cancel() {
          await close();
        },
      },
      { highWaterMark: 0 },
    );
  };

  const stagingDir = async (uploadId: string): Promise<string | undefined> => {
    if (typeof uploadId !== 'string' || !UPLOAD_ID.test(uploadId)) return undefined;
    return join(await root(), STAGING, uploadId);
  };

  const noSuchUpload = (): EnsealError => storeError(name, 'multipart upload', { status: 404, code: 'NoSuchUpload' });

  const readUpload = async (key: string, uploadId: string): Promise<{ dir: string; metadata: ObjectMetadata }> => {
    const dir = await stagingDir(uploadId);
    if (dir === undefined) throw noSuchUpload();
    let text: string;
    try {
      text = await readFile(join(dir, 'upload.json'), { encoding: 'utf8', flag: fsc.O_RDONLY | O_NOFOLLOW });
    } catch (e) {
      if (errno(e) === 'ENOENT') throw noSuchUpload();
      throw e;
    }
    let u: { key?: unknown; metadata?: unknown };
    try {
      u = JSON.parse(text) as typeof u;
    } catch {
      throw storeError(name, 'multipart upload record', { code: 'CorruptRecord' });
    }
    if (u.key !== key) throw noSuchUpload();
    return { dir, metadata: checkMetadata(u.metadata, Number.MAX_SAFE_INTEGER) };
  };

  const partName = (n: number): string => `part-${String(n).padStart(5, '0')}`;

  const checkPartNumber = (n: unknown): number => {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > limits.maxParts) throw new RangeError(`"partNumber" expected an integer in 1..${limits.maxParts}, got ${String(n)}`);
    return n;
  };

  const store: ObjectStore = {
    name,
    multipart: limits,

    async put(key, body, o: PutOptions = {}) {
      const metadata = checkMetadata(o.metadata, maxMetadataBytes);
      checkBody(body);
      noSse(o.sse);
      o.signal?.throwIfAborted();
      try {
        const loc = (await locate(key, true)) as Located;
        const temp = await writeTemp(loc.dir, body, o.signal);
        if (o.contentLength !== undefined && o.contentLength !== temp.size) {
          await unlink(temp.path).catch(() => undefined);
          throw storeError(name, `put "${quoteKey(key)}" (body of ${temp.size} bytes, contentLength ${o.contentLength})`, { status: 400, code: 'IncompleteBody' });
        }
        const rec = await commit(loc, key, temp, temp.md5, metadata);
        return { etag: rec.etag };
      } catch (e) {
        return fail(`put "${quoteKey(key)}"`, e);
      }
    },

    async get(key, o: GetOptions = {}): Promise<GetResult> {
      keySegments(key);
      const range = o.range === undefined ? undefined : checkRange(o.range);
      o.signal?.throwIfAborted();
      let opened;
      try {
        opened = await openObject(key);
      } catch (e) {
        return fail(`get "${quoteKey(key)}"`, e);
      }
      const { rec, fh } = opened;
      let served;
      try {
        served = range === undefined ? undefined : resolveRange(name, range, rec.size);
      } catch (e) {
        await fh.close();
        throw e;
      }
      const start = served?.start ?? 0;
      const end = served === undefined ? rec.size : served.end + 1;
      return { ...info(rec), body: fileBody(fh, start, end, o.signal), ...(served === undefined ? {} : { range: served }) };
    },

    async head(key, o = {}) {
      keySegments(key);
      noSse(o.sse);
      o.signal?.throwIfAborted();
      try {
        const loc = await locate(key, false);
        const rec = loc === undefined ? undefined : await readRecord(loc, key);
        if (rec === undefined) throw notFoundError(name, key);
        return info(rec);
      } catch (e) {
        return fail(`head "${quoteKey(key)}"`, e);
      }
    },

    async delete(key, o = {}) {
      keySegments(key);
      o.signal?.throwIfAborted();
      try {
        const loc = await locate(key, false);
        if (loc === undefined) return;
        await serial(key, async () => {
          const rec = await readRecord(loc, key).catch(() => undefined);
          try {
            await unlink(join(loc.dir, loc.base + RECORD_SUFFIX));
          } catch (e) {
            if (errno(e) !== 'ENOENT') throw e;
          }
          await syncDir(loc.dir);
          if (rec !== undefined) await unlink(join(loc.dir, rec.data)).catch(() => undefined);
        });
      } catch (e) {
        fail(`delete "${quoteKey(key)}"`, e);
      }
    },

    list(prefix, o = {}) {
      if (typeof prefix !== 'string') throw new TypeError(`"prefix" expected string, got ${typeof prefix}`);
      return {
        async *[Symbol.asyncIterator](): AsyncGenerator<ListEntry> {
          o.signal?.throwIfAborted();
          const r = await root();
          // Walk only below the directories the prefix fixes completely.
          const fixed = prefix.split('/').slice(0, -1);
          if (fixed.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\'))) return;
          const startDir = join(r, ...fixed.map(encodeSegment));
          const found: { key: string; dir: string; base: string }[] = [];
          const walk = async (dir: string, keyPrefix: string, depth: number): Promise<void> => {
            if (depth > 512) return;
            let entries;
            try {
              entries = await readdir(dir, { withFileTypes: true });
            } catch (e) {
              if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return;
              throw e;
            }
            for (const ent of entries) {
              o.signal?.throwIfAborted();
              if (ent.isDirectory()) {
                if (dir === r && ent.name === STAGING) continue;
                if (ent.name.includes('~')) continue;
                const seg = decodeSegment(ent.name);
                if (seg === undefined) continue;
                const k = keyPrefix + seg + '/';
                if (k.startsWith(prefix) || prefix.startsWith(k)) await walk(join(dir, ent.name), k, depth + 1);
              } else if (ent.isFile() && ent.name.endsWith(RECORD_SUFFIX)) {
                const b = ent.name.slice(0, -RECORD_SUFFIX.length);
                if (b.includes('~')) continue;
                const seg = decodeSegment(b);
                if (seg === undefined) continue;
                const k = keyPrefix + seg;
                if (k.startsWith(prefix)) found.push({ key: k, dir, base: b });
              }
            }
          };
          try {
            const st = await lstat(startDir).catch(() => undefined);
            if (st === undefined || !st.isDirectory()) return;
            await walk(startDir, fixed.length === 0 ? '' : fixed.join('/') + '/', 0);
          } catch (e) {
            fail('list', e);
          }
          found.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
          for (const f of found) {
            o.signal?.throwIfAborted();
            let rec: ObjectRecord | undefined;
            try {
              rec = await readRecord({ dir: f.dir, base: f.base, segments: [] }, f.key);
            } catch {
              rec = undefined; // a record that does not match its name is not an object of this store
            }
            if (rec !== undefined) yield { key: f.key, size: rec.size, etag: rec.etag, lastModified: new Date(rec.lastModified) };
          }
        },
      };
    },

    async createMultipart(key, o: CreateMultipartOptions = {}) {
      keySegments(key);
      const metadata = checkMetadata(o.metadata, maxMetadataBytes);
      noSse(o.sse);
      o.signal?.throwIfAborted();
      try {
        const r = await root();
        const staging = join(r, STAGING);
        await mkdir(staging, { recursive: true });
        if ((await lstat(staging)).isSymbolicLink()) throw storeError(name, 'staging folder is a symlink', { code: 'SymlinkRefused' });
        const uploadId = randomBytes(16).toString('hex');
        const dir = join(staging, uploadId);
        await mkdir(dir);
        const temp = await writeTemp(dir, new TextEncoder().encode(JSON.stringify({ key, metadata })));
        await rename(temp.path, join(dir, 'upload.json'));
        return { uploadId };
      } catch (e) {
        return fail(`create multipart "${quoteKey(key)}"`, e);
      }
    },

    async uploadPart(key, uploadId, partNumber, body, o = {}) {
      keySegments(key);
      const n = checkPartNumber(partNumber);
      assertChunk(body, '"body" expected Uint8Array');
      noSse(o.sse);
      o.signal?.throwIfAborted();
      if (body.length > limits.maxPartSize) throw new RangeError(`part of ${body.length} bytes exceeds ${limits.maxPartSize}`);
      try {
        const { dir } = await readUpload(key, uploadId);
        const temp = await writeTemp(dir, body, o.signal);
        await rename(temp.path, join(dir, partName(n)));
        return { etag: temp.md5 };
      } catch (e) {
        return fail(`upload part ${n} of "${quoteKey(key)}"`, e);
      }
    },

    async completeMultipart(key, uploadId, parts: readonly CompletedPart[], o = {}) {
      keySegments(key);
      if (!Array.isArray(parts) || parts.length === 0) throw new TypeError('"parts" expected a non-empty array of { partNumber, etag }');
      const list = parts.map((p) => ({ partNumber: checkPartNumber(p?.partNumber), etag: String(p?.etag) }));
      for (let i = 1; i < list.length; i++) {
        if ((list[i] as CompletedPart).partNumber <= (list[i - 1] as CompletedPart).partNumber) {
          throw storeError(name, 'complete multipart (parts not in ascending order)', { status: 400, code: 'InvalidPartOrder' });
        }
      }
      o.signal?.throwIfAborted();
      try {
        const up = await readUpload(key, uploadId);
        const loc = (await locate(key, true)) as Located;
        const partMd5s: Buffer[] = [];
        const temp = await writeTemp(
          loc.dir,
          async (fh, hash) => {
            let off = 0;
            for (const [i, p] of list.entries()) {
              o.signal?.throwIfAborted();
              let bytes: Buffer;
              try {
                bytes = await readFile(join(up.dir, partName(p.partNumber)), { flag: fsc.O_RDONLY | O_NOFOLLOW });
              } catch (e) {
                if (errno(e) === 'ENOENT') throw storeError(name, `complete multipart (part ${p.partNumber} not uploaded)`, { status: 400, code: 'InvalidPart' });
                throw e;
              }
              const md5 = md5hex(bytes);
              if (md5 !== p.etag.replace(/"/g, '')) throw storeError(name, `complete multipart (part ${p.partNumber} ETag differs)`, { status: 400, code: 'InvalidPart' });
              if (i < list.length - 1 && bytes.length < limits.minPartSize) {
                throw storeError(name, `complete multipart (part ${p.partNumber} smaller than ${limits.minPartSize} bytes)`, { status: 400, code: 'EntityTooSmall' });
              }
              await fh.write(bytes, 0, bytes.length, off);
              hash.update(bytes);
              off += bytes.length;
              partMd5s.push(Buffer.from(md5, 'hex'));
            }
            return off;
          },
          o.signal,
        );
        const etag = `${md5hex(Buffer.concat(partMd5s))}-${list.length}`;
        const rec = await commit(loc, key, temp, etag, up.metadata);
        await rm(up.dir, { recursive: true, force: true });
        return { etag: rec.etag };
      } catch (e) {
        return fail(`complete multipart "${quoteKey(key)}"`, e);
      }
    },

    async abortMultipart(key, uploadId, o = {}) {
      keySegments(key);
      o.signal?.throwIfAborted();
      try {
        const dir = await stagingDir(uploadId);
        if (dir === undefined) return;
        const up = await readUpload(key, uploadId).catch((e: unknown) => {
          if (e instanceof EnsealError && e.code === 'ERR_STORE' && (e.cause as { code?: string }).code === 'NoSuchUpload') return undefined;
          throw e;
        });
        if (up !== undefined) await rm(dir, { recursive: true, force: true });
      } catch (e) {
        fail(`abort multipart "${quoteKey(key)}"`, e);
      }
    },

    async copy(sourceKey, destinationKey, o) {
      keySegments(sourceKey);
      keySegments(destinationKey);
      const metadata = checkMetadata(o?.metadata, maxMetadataBytes);
      noSse(o?.sse);
      o?.signal?.throwIfAborted();
      try {
        const { rec, fh } = await openObject(sourceKey);
        await fh.close();
        const src = (await locate(sourceKey, false)) as Located;
        const loc = (await locate(destinationKey, true)) as Located;
        const path = join(loc.dir, `~${randomBytes(16).toString('hex')}.tmp`);
        try {
          await copyFile(join(src.dir, rec.data), path, fsc.COPYFILE_EXCL | fsc.COPYFILE_FICLONE);
          const out = await open(path, fsc.O_RDONLY);
          try {
            await out.sync();
          } finally {
            await out.close();
          }
        } catch (e) {
          await unlink(path).catch(() => undefined);
          if (errno(e) === 'ENOENT') throw notFoundError(name, sourceKey);
          throw e;
        }
        const done = await commit(loc, destinationKey, { path, size: rec.size }, rec.etag, metadata);
        return { etag: done.etag };
      } catch (e) {
        return fail(`copy "${quoteKey(sourceKey)}"`, e);
      }
    },
  };
  return store;
}
