/** Shared test helpers: vector loading, backend list, stream plumbing. */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { expect } from 'vitest';
import { EnsealError, type ErrorCode } from '../src/errors.js';
import type { BackendName } from '../src/backends/backend.js';

/** Every backend; each suite is a function of one of these. */
export const BACKENDS: readonly BackendName[] = ['node', 'webcrypto', 'wasm'];

/** Loads a JSON file from test/vectors. */
export function vector<T = any>(path: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${path}`, import.meta.url), 'utf8')) as T;
}

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
export const sha512hex = (b: Uint8Array): string => createHash('sha512').update(b).digest('hex');
/** Wycheproof C2SP `ct` fields are zlib-compressed hex. */
export const inflateHex = (s: string): Uint8Array => new Uint8Array(inflateSync(Buffer.from(s, 'hex')));

/** Deterministic pseudo-random bytes (not crypto; for test inputs). */
export function pseudoRandom(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Copies `b` into a larger buffer at an odd offset and returns the subarray (alignment tests). */
export function atOddOffset(b: Uint8Array): Uint8Array {
  const big = new Uint8Array(b.length + 7);
  big.set(b, 3);
  return big.subarray(3, 3 + b.length);
}

/** What `p` rejected with, or `undefined` if it resolved. */
export async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return e;
  }
}

/** Asserts that `p` rejects with an EnsealError carrying `code`. */
export async function expectCode(p: Promise<unknown> | (() => Promise<unknown>), code: ErrorCode): Promise<EnsealError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e, `expected EnsealError ${code}, got ${String(e)}`).toBeInstanceOf(EnsealError);
    expect((e as EnsealError).code, String(e)).toBe(code);
    return e as EnsealError;
  }
  throw new Error(`expected rejection with ${code}, but it resolved`);
}

/** Feeds `input` through a TransformStream in pieces of the given sizes (cycled). */
export async function pipeBytes(
  ts: TransformStream<Uint8Array, Uint8Array>,
  input: Uint8Array,
  sizes: readonly number[] = [input.length || 1],
): Promise<{ output: Uint8Array; error: unknown }> {
  const parts: Uint8Array[] = [];
  const reader = ts.readable.getReader();
  const reading = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parts.push(value);
    }
  })();
  const writer = ts.writable.getWriter();
  let error: unknown;
  try {
    let off = 0;
    for (let i = 0; off < input.length; i++) {
      const n = Math.max(1, sizes[i % sizes.length] as number);
      await writer.write(input.slice(off, off + n));
      off += n;
    }
    await writer.close();
  } catch (e) {
    error = e;
  }
  try {
    await reading;
  } catch (e) {
    error ??= e;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return { output: out, error };
}
