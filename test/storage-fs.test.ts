/**
 * fsStore beyond the shared contract: confinement (`../`, absolute paths, NUL, backslashes,
 * drive prefixes, symlinks out of the folder), the on-disk layout (record beside immutable
 * bytes), atomicity as a concurrent reader sees it, and refusal of damaged records.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fsStore } from '../src/storage/fs.js';
import type { ObjectStore } from '../src/storage/store.js';
import { expectCode, pseudoRandom } from './helpers.js';

let dir: string;
let outside: string;
let store: ObjectStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'enseal-fs-'));
  outside = mkdtempSync(join(tmpdir(), 'enseal-fs-outside-'));
  store = fsStore(dir);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const bytesOf = async (s: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(s).arrayBuffer());

/** Every file under `d`, relative. */
function tree(d: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(d, rel), { withFileTypes: true })) {
    const p = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...tree(d, p));
    else out.push(p);
  }
  return out.sort();
}

describe('fsStore confinement', () => {
  const escaping = ['../evil', 'a/../../evil', '..', 'a/..', './a', 'a/./b', '/etc/passwd', '/abs', 'a//b', 'a/', 'nul\0byte', 'a\\..\\..\\evil', '..\\evil', 'C:', 'C:/evil', 'c:/windows/x'];

  it.each(escaping)('refuses the key %j with a TypeError for every operation, touching nothing', async (key) => {
    const ops: (() => Promise<unknown>)[] = [
      () => store.put(key, new Uint8Array(1)),
      () => store.get(key),
      () => store.head(key),
      () => store.delete(key),
      () => store.createMultipart(key),
      () => store.copy!('ok', key, { metadata: {} }),
      () => store.copy!(key, 'ok', { metadata: {} }),
    ];
    for (const op of ops) {
      const e = await op().catch((x: unknown) => x);
      expect(e, key).toBeInstanceOf(TypeError);
      expect((e as Error).message).not.toContain('\0');
    }
    expect(tree(dir)).toEqual([]);
    expect(tree(outside)).toEqual([]);
  });

  it('keeps keys with dots, percent signs, tildes and colons inside the folder', async () => {
    const keys = ['..a', 'a..', '...', 'a/.hidden', '%2e%2e/x', '~staging/x', 'x~meta.json', 'a:b', 'q?*"<>|', 'tab\there', 'é/ü'];
    for (const [i, k] of keys.entries()) await store.put(k, pseudoRandom(10 + i, i));
    for (const [i, k] of keys.entries()) expect(await bytesOf((await store.get(k)).body)).toEqual(pseudoRandom(10 + i, i));
    const listed: string[] = [];
    for await (const e of store.list('')) listed.push(e.key);
    expect(listed.sort()).toEqual([...keys].sort());
    expect(tree(outside)).toEqual([]);
    // No store file name outside the encoded names: nothing is named ".." or contains a raw key's "~".
    for (const f of tree(dir)) for (const seg of f.split('/')) expect(seg === '..' || seg === '.').toBe(false);
  });

  it('holds an object and objects "below" it at once (a and a/b)', async () => {
    await store.put('a', pseudoRandom(3, 1));
    await store.put('a/b', pseudoRandom(4, 2));
    await store.put('a/b/c', pseudoRandom(5, 3));
    expect((await store.head('a')).size).toBe(3);
    expect((await store.head('a/b')).size).toBe(4);
    const listed: string[] = [];
    for await (const e of store.list('a')) listed.push(e.key);
    expect(listed).toEqual(['a', 'a/b', 'a/b/c']);
    await store.delete('a/b');
    expect((await store.head('a/b/c')).size).toBe(5);
    await expectCode(store.head('a/b'), 'ERR_NOT_FOUND');
  });

  it('refuses a symlinked directory that leads outside with ERR_STORE, for reads and writes', async () => {
    writeFileSync(join(outside, 'x~meta.json'), '{}');
    symlinkSync(outside, join(dir, 'evil'));
    for (const op of [() => store.put('evil/x', new Uint8Array(3)), () => store.get('evil/x'), () => store.head('evil/x'), () => store.createMultipart('evil/x').then((u) => store.completeMultipart('evil/x', u.uploadId, [{ partNumber: 1, etag: 'x' }]))]) {
      const e = await expectCode(op(), 'ERR_STORE');
      expect(['SymlinkEscape', 'InvalidPart']).toContain((e.cause as { code?: string }).code);
    }
    const e = await expectCode(store.put('evil/deeper/y', new Uint8Array(3)), 'ERR_STORE');
    expect((e.cause as { code?: string }).code).toBe('SymlinkEscape');
    expect(readdirSync(outside)).toEqual(['x~meta.json']); // nothing written outside
    const listed: string[] = [];
    for await (const x of store.list('')) listed.push(x.key);
    expect(listed).toEqual([]); // a symlinked directory is not followed by list
  });

  it('refuses a symlinked record or data file with ERR_STORE (O_NOFOLLOW)', async () => {
    await store.put('real', pseudoRandom(100));
    const files = tree(dir);
    const data = files.find((f) => f.endsWith('.bin')) as string;
    // Replace the data file by a symlink to a file outside.
    writeFileSync(join(outside, 'secret'), 'x'.repeat(100));
    rmSync(join(dir, data));
    symlinkSync(join(outside, 'secret'), join(dir, data));
    const e = await expectCode(store.get('real'), 'ERR_STORE');
    expect((e.cause as { code?: string }).code).toBe('SymlinkRefused');
    // And a record that is a symlink.
    rmSync(join(dir, 'real~meta.json'));
    symlinkSync(join(outside, 'secret'), join(dir, 'real~meta.json'));
    await expectCode(store.head('real'), 'ERR_STORE');
  });

  it('allows a symlinked directory that stays inside the folder', async () => {
    mkdirSync(join(dir, 'target'));
    symlinkSync(join(dir, 'target'), join(dir, 'alias'));
    await store.put('alias/x', pseudoRandom(5));
    expect(await bytesOf((await store.get('alias/x')).body)).toEqual(pseudoRandom(5));
    expect(readdirSync(join(dir, 'target')).sort()).toEqual([expect.stringMatching(/^x~[0-9a-f]{32}\.bin$/), 'x~meta.json']);
  });

  it('refuses upload ids that are not its own (no path in an upload id)', async () => {
    for (const id of ['../../etc', '/tmp', 'ABC', '']) {
      await expectCode(store.uploadPart('k', id, 1, new Uint8Array(1)), 'ERR_STORE');
      await store.abortMultipart('k', id); // unknown: succeeds
    }
    expect(tree(outside)).toEqual([]);
  });
});

describe('fsStore layout and atomicity', () => {
  it('stores a record beside immutable bytes, and replaces both at once', async () => {
    await store.put('photos/cat.jpg', pseudoRandom(1000, 1), { metadata: { owner: 'ana' } });
    let files = tree(dir);
    expect(files).toHaveLength(2);
    expect(files[1]).toBe('photos/cat.jpg~meta.json');
    expect(files[0]).toMatch(/^photos\/cat\.jpg~[0-9a-f]{32}\.bin$/);
    const rec = JSON.parse(readFileSync(join(dir, 'photos/cat.jpg~meta.json'), 'utf8')) as Record<string, unknown>;
    expect(rec).toMatchObject({ format: 'enseal-fs-store/1', key: 'photos/cat.jpg', size: 1000, metadata: { owner: 'ana' }, data: (files[0] as string).slice('photos/'.length) });
    expect(readFileSync(join(dir, files[0] as string))).toEqual(Buffer.from(pseudoRandom(1000, 1)));
    await store.put('photos/cat.jpg', pseudoRandom(10, 2));
    files = tree(dir);
    expect(files).toHaveLength(2); // the old version was unlinked
    await store.delete('photos/cat.jpg');
    expect(tree(dir)).toEqual([]);
  });

  it('a reader concurrent with replacements always sees matching metadata and bytes', async () => {
    const versions = Array.from({ length: 6 }, (_, i) => pseudoRandom(30_000 + 997 * i, 50 + i));
    await store.put('hot', versions[0] as Uint8Array, { metadata: { v: '0' } });
    let stop = false;
    const reader = (async () => {
      let reads = 0;
      while (!stop && reads < 2000) {
        const got = await store.get('hot');
        const v = Number(got.metadata.v);
        const bytes = await bytesOf(got.body);
        expect(got.size).toBe((versions[v] as Uint8Array).length);
        expect(Buffer.compare(bytes, versions[v] as Uint8Array)).toBe(0);
        reads++;
      }
      return reads;
    })();
    for (let round = 0; round < 5; round++) {
      await Promise.all(versions.map((b, i) => store.put('hot', b, { metadata: { v: String(i) } })));
    }
    stop = true;
    expect(await reader).toBeGreaterThan(0);
    expect(tree(dir).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
  });

  it('a failed or aborted put leaves the previous object and no visible partial file', async () => {
    await store.put('k', pseudoRandom(100, 1), { metadata: { v: 'old' } });
    let n = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(c) {
        if (n++ < 3) c.enqueue(pseudoRandom(10_000, n));
        else c.error(new Error('source broke'));
      },
    });
    await expect(store.put('k', failing, { metadata: { v: 'new' } })).rejects.toThrow('source broke');
    const ac = new AbortController();
    const slow = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(pseudoRandom(1000));
        ac.abort(new Error('cancelled'));
      },
    });
    await expect(store.put('k', slow, { signal: ac.signal })).rejects.toThrow('cancelled');
    await expectCode(store.put('k', pseudoRandom(10), { contentLength: 11 }), 'ERR_STORE');
    const got = await store.get('k');
    expect(got.metadata).toEqual({ v: 'old' });
    expect(await bytesOf(got.body)).toEqual(pseudoRandom(100, 1));
    expect(tree(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(tree(dir)).toHaveLength(2);
  });

  it('never lists or serves leftovers of a crash (temp files, unreferenced versions)', async () => {
    await store.put('a/b', pseudoRandom(10));
    writeFileSync(join(dir, 'a', '~0123.tmp'), 'partial');
    writeFileSync(join(dir, 'a', 'c~00000000000000000000000000000000.bin'), 'orphan');
    const listed: string[] = [];
    for await (const e of store.list('')) listed.push(e.key);
    expect(listed).toEqual(['a/b']);
    await expectCode(store.get('a/c'), 'ERR_NOT_FOUND');
  });

  it('refuses a damaged record with ERR_STORE (CorruptRecord), including one pointing elsewhere', async () => {
    await store.put('k', pseudoRandom(10));
    const recPath = join(dir, 'k~meta.json');
    const rec = JSON.parse(readFileSync(recPath, 'utf8')) as Record<string, unknown>;
    const variants: unknown[] = ['not json', { ...rec, data: '../../outside.bin' }, { ...rec, data: 'other~00000000000000000000000000000000.bin' }, { ...rec, key: 'other' }, { ...rec, size: -1 }, { ...rec, metadata: { Bad: 'x' } }, { ...rec, format: 'v0' }];
    for (const v of variants) {
      writeFileSync(recPath, typeof v === 'string' ? v : JSON.stringify(v));
      const e = await expectCode(store.get('k'), 'ERR_STORE');
      expect((e.cause as { code?: string }).code).toBe('CorruptRecord');
    }
    writeFileSync(recPath, JSON.stringify({ ...rec, size: 11 })); // size disagrees with the file
    const e = await expectCode(store.get('k'), 'ERR_STORE');
    expect((e.cause as { code?: string }).code).toBe('CorruptObject');
  });

  it('multipart parts live in ~staging and disappear on completion', async () => {
    const { uploadId } = await store.createMultipart('big');
    const p = await store.uploadPart('big', uploadId, 1, pseudoRandom(5000));
    expect(existsSync(join(dir, '~staging', uploadId, 'part-00001'))).toBe(true);
    const done = await store.completeMultipart('big', uploadId, [{ partNumber: 1, etag: p.etag }]);
    expect(done.etag).toMatch(/^[0-9a-f]{32}-1$/);
    expect(existsSync(join(dir, '~staging', uploadId))).toBe(false);
    expect(await bytesOf((await store.get('big')).body)).toEqual(pseudoRandom(5000));
  });

  it('refuses server-side encryption requests (ERR_UNSUPPORTED)', async () => {
    await expectCode(store.put('k', new Uint8Array(1), { sse: { provider: 's3', algorithm: 'AES256' } }), 'ERR_UNSUPPORTED');
    expect(tree(dir)).toEqual([]);
  });

  it('cancelling a body closes the file; an aborted signal errors the body', async () => {
    await store.put('k', pseudoRandom(300_000));
    const got = await store.get('k');
    const reader = got.body.getReader();
    await reader.read();
    await reader.cancel();
    const ac = new AbortController();
    const got2 = await store.get('k', { signal: ac.signal });
    const r2 = got2.body.getReader();
    await r2.read();
    ac.abort(new Error('stop'));
    await expect(r2.read()).rejects.toThrow('stop');
    await store.delete('k'); // the files are not held open in a way that blocks deletion
    expect(tree(dir)).toEqual([]);
  });
});
