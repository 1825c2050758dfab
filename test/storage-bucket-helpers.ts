/** Helpers of the storage-bucket, storage-multipart and storage-at-rest suites. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { getBackend } from '../src/backends/select.js';
import type { BackendName, CryptoBackend } from '../src/backends/backend.js';
import { fsStore } from '../src/storage/fs.js';
import { memoryStore, type MemoryStore } from '../src/storage/memory.js';
import type { ObjectStore } from '../src/storage/store.js';
import { pseudoRandom } from './helpers.js';

/** Reads a stream to the end. */
export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Reads a stream, recording what it released before it errored. */
export async function collectUntilError(stream: ReadableStream<Uint8Array>): Promise<{ bytes: Uint8Array; error: unknown }> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  let error: unknown;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
  } catch (e) {
    error = e;
  }
  const n = parts.reduce((a, p) => a + p.length, 0);
  const bytes = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  return { bytes, error };
}

/** A stream of `bytes` in pieces of the given sizes (cycled); its length is not announced. */
export function piecewise(bytes: Uint8Array, sizes: readonly number[] = [7000, 1, 33333]): ReadableStream<Uint8Array> {
  let off = 0;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (off >= bytes.length) {
        c.close();
        return;
      }
      const n = Math.max(1, sizes[i++ % sizes.length] as number);
      c.enqueue(bytes.slice(off, off + n));
      off += n;
    },
  });
}

/** Request and byte counters over any store (requests by method; bytes delivered by get bodies). */
export interface Counted {
  readonly store: ObjectStore;
  readonly requests: { total: number; byMethod: Record<string, number> };
  bytesOut: number;
  reset(): void;
}

/** Wraps a store to count its requests and the body bytes its gets deliver. */
export function counting(inner: ObjectStore): Counted {
  const c: Counted = {
    store: undefined as unknown as ObjectStore,
    requests: { total: 0, byMethod: {} },
    bytesOut: 0,
    reset() {
      c.requests.total = 0;
      c.requests.byMethod = {};
      c.bytesOut = 0;
    },
  };
  const count = (m: string): void => {
    c.requests.total++;
    c.requests.byMethod[m] = (c.requests.byMethod[m] ?? 0) + 1;
  };
  const store: ObjectStore = {
    name: inner.name,
    multipart: inner.multipart,
    put: (...a) => (count('put'), inner.put(...a)),
    async get(...a) {
      count('get');
      const r = await inner.get(...a);
      const body = r.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, ctl) {
            c.bytesOut += chunk.length;
            ctl.enqueue(chunk);
          },
        }),
      );
      return { ...r, body };
    },
    head: (...a) => (count('head'), inner.head(...a)),
    delete: (...a) => (count('delete'), inner.delete(...a)),
    list: (...a) => (count('list'), inner.list(...a)),
    createMultipart: (...a) => (count('createMultipart'), inner.createMultipart(...a)),
    uploadPart: (...a) => (count('uploadPart'), inner.uploadPart(...a)),
    completeMultipart: (...a) => (count('completeMultipart'), inner.completeMultipart(...a)),
    abortMultipart: (...a) => (count('abortMultipart'), inner.abortMultipart(...a)),
    ...(inner.copy === undefined ? {} : { copy: (...a: Parameters<NonNullable<ObjectStore['copy']>>) => (count('copy'), inner.copy!(...a)) }),
  };
  (c as { store: ObjectStore }).store = store;
  return c;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary folder, removed after the suite. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'enseal-storage-'));
  dirs.push(d);
  return d;
}

/** Minimum part size used by the suites' stores (small, to exercise multipart quickly). */
export const MIN_PART = 64 * 1024;

/** The stores every suite runs over. */
export const STORE_KINDS: readonly { name: string; make(): ObjectStore }[] = [
  { name: 'memory', make: () => memoryStore({ multipart: { minPartSize: MIN_PART } }) },
  { name: 'fs', make: () => fsStore(tempDir(), { multipart: { minPartSize: MIN_PART } }) },
];

/** A memory store with the suites' small part minimum. */
export function smallMemoryStore(opts: Parameters<typeof memoryStore>[0] = {}): MemoryStore {
  return memoryStore({ multipart: { minPartSize: MIN_PART }, hangMs: 2000, ...opts });
}

/**
 * A backend whose `randomBytes` is a seeded PRNG (test-only; everything else is the real
 * backend): two runs with the same seed produce the same data key, stanza nonces and salt.
 */
export function deterministicBackend(name: BackendName, seed: number): CryptoBackend {
  const real = getBackend(name);
  let counter = seed;
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'randomBytes') return (n: number) => pseudoRandom(n, ++counter * 7919) as Uint8Array<ArrayBuffer>;
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Fast byte equality for large arrays (vitest's deep equality is slow on MiBs). */
export function expectBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  if (actual.length === expected.length && Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.length))) return;
  let i = 0;
  while (i < Math.min(actual.length, expected.length) && actual[i] === expected[i]) i++;
  throw new Error(`${what}: ${actual.length} bytes vs expected ${expected.length}; first difference at ${i}`);
}
