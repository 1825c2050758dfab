/**
 * Tamper matrix on a 3-chunk enseal object (2 × 16384 + 1000 plaintext bytes, one `aesKey`
 * recipient, context {app: 't'}), on every backend: every header bit, every payload bit (node;
 * webcrypto: every preamble and tag bit plus one bit per body byte), truncations, chunk
 * reordering, trailing data, transplanted headers and a re-encoded context. The expected error
 * of every case is derived from the byte layout, through one-shot `decrypt`, and (for a subset, or
 * all of the header) `decryptStream` and `decryptRange`.
 *
 * The fixture is sealed with the backend under test wrapped so that its CSPRNG is replaced by a
 * seeded generator: the object's bytes (data key, wrapping nonce, salt) are then fixed, so the
 * outcome of a flip that re-frames the header (and may read random wrapped-key bytes as lengths)
 * is the same on every run.
 */
import { describe, expect, it } from 'vitest';
import { aesKey, decrypt, decryptRange, decryptStream, encrypt, getBackend, inspect, type KeyProvider } from '../src/index.js';
import { EnsealError, isEnsealError, type ErrorCode } from '../src/errors.js';
import type { BackendName, CryptoBackend } from '../src/backends/backend.js';
import type { Bytes } from '../src/bytes.js';
import { appendHeaderMac } from '../src/format/header-mac.js';
import { encodeBound, encodeHeaderBody, type EncryptionContext, type Stanza } from '../src/format/header.js';
import { BACKENDS, expectCode, pipeBytes, pseudoRandom, caught } from './helpers.js';

const CHUNK = 16384;
const TAG = 16;
const SEALED = CHUNK + TAG;
const PRE = 56; // salt (24) || commitment (32)
const PT_LEN = 2 * CHUNK + 1000;
const FINAL_SEALED = 1000 + TAG;
const CONTEXT: EncryptionContext = { app: 't' };
const KEY_ID = 'k1';
const KEY = aesKey({ id: KEY_ID, key: pseudoRandom(32, 4242) });
const PT = pseudoRandom(PT_LEN, 7);
/** Header length limits of the format (docs/FORMAT.md §2: 55 ≤ header_length ≤ 65536). */
const MIN_HEADER = 55;
const MAX_HEADER = 65536;

// ------------------------------------------------------------------------------------------
// Fixture

/** The backend with its CSPRNG replaced by a seeded generator (all crypto stays the backend's). */
function seeded(name: BackendName, seed: number): CryptoBackend {
  const b = getBackend(name);
  let n = 0;
  return { ...b, randomBytes: (len: number) => pseudoRandom(len, seed * 1000 + ++n) as Bytes };
}

async function seal(backend: BackendName, seed: number, opts: { pt?: Uint8Array; context?: EncryptionContext; recipients?: KeyProvider[] } = {}): Promise<Bytes> {
  return encrypt(opts.pt ?? PT, { recipients: opts.recipients ?? [KEY], context: opts.context ?? CONTEXT, backend: seeded(backend, seed) });
}

type Kind = 'magic' | 'version' | 'suite' | 'header_length' | 'structure' | 'context' | 'stanza type' | 'key id' | 'wrapped' | 'mac';
interface Field { name: string; start: number; end: number; kind: Kind }

/**
 * The header of the fixture, field by field (FORMAT.md §2): the layout the expectations are
 * derived from. `structure` = a count or a length prefix.
 */
function headerLayout(): Field[] {
  const fields: Field[] = [];
  let at = 0;
  const add = (name: string, len: number, kind: Kind): void => {
    fields.push({ name, start: at, end: at + len, kind });
    at += len;
  };
  add('magic', 6, 'magic');
  add('version', 1, 'version');
  add('suite', 1, 'suite');
  add('header_length', 4, 'header_length');
  add('context count', 2, 'structure');
  add('context key length', 2, 'structure');
  add('context key', 3, 'context'); // "app"
  add('context value length', 2, 'structure');
  add('context value', 1, 'context'); // "t"
  add('recipient count', 1, 'structure');
  add('stanza type length', 1, 'structure');
  add('stanza type', 10, 'stanza type'); // "aes256-gcm"
  add('key id length', 2, 'structure');
  add('key id', 2, 'key id'); // "k1"
  add('param count', 1, 'structure');
  add('wrapped key length', 2, 'structure');
  add('wrapped key', 60, 'wrapped'); // nonce (12) || GCM(data key) (32 + 16)
  add('mac', 32, 'mac');
  return fields;
}
const LAYOUT = headerLayout();
const H = LAYOUT[LAYOUT.length - 1]!.end; // 133
const TOTAL = H + PRE + 2 * SEALED + FINAL_SEALED;
const chunkAt = (k: number): number => H + PRE + k * SEALED;
const fieldAt = (pos: number): Field => LAYOUT.find((f) => pos >= f.start && pos < f.end)!;

// ------------------------------------------------------------------------------------------
// Expectations

type Path = 'decrypt' | 'stream' | 'range';
interface Expected {
  code: ErrorCode;
  /** Expected `err.chunk` (undefined = must be undefined). Checked for ERR_AUTH only. */
  chunk?: number;
  /** For ERR_NO_KEY: no provider recognised the stanza ('none'), or the provider failed with ERR_AUTH ('auth'). */
  causes?: 'none' | 'auth';
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
function decodesAsUtf8(b: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(b);
  } catch {
    return undefined;
  }
}

/** True when a payload of `n` bytes has a possible C2SP length (a short final chunk of ≥ 16 bytes). */
function possiblePayload(n: number): boolean {
  return n >= PRE + TAG && (n - PRE) % SEALED >= TAG;
}

/** The error a header_length field of `len` (≠ the real length) must cause, on `path`. */
function expectedHeaderLength(len: number, path: Path): Expected {
  if (len < MIN_HEADER || len > MAX_HEADER) return { code: 'ERR_HEADER' };
  // decryptRange checks the payload length implied by the object size before reading the rest
  // of the header, then reads header + preamble in one exact read.
  if (path === 'range' && (!possiblePayload(Math.max(0, TOTAL - len)) || len + PRE > TOTAL)) return { code: 'ERR_TRUNCATED' };
  if (len > TOTAL) return { code: 'ERR_TRUNCATED' }; // the object ends inside the (claimed) header
  // Otherwise the canonical parse no longer ends exactly at the (moved) mac.
  return { code: 'ERR_HEADER' };
}

/**
 * The error a flip of `bit` at header byte `pos` must cause, from the layout.
 * @param expectContext - whether the decryptor passes the expected context {app: 't'}
 */
function expectedHeaderFlip(header: Uint8Array, pos: number, bit: number, path: Path, expectContext: boolean): Expected {
  const f = fieldAt(pos);
  const flipped = header.slice(f.start, f.end);
  flipped[pos - f.start]! ^= 1 << bit;
  switch (f.kind) {
    case 'magic':
      return { code: 'ERR_HEADER' };
    case 'version':
    case 'suite':
      return { code: 'ERR_UNSUPPORTED' };
    case 'header_length':
      return expectedHeaderLength(new DataView(flipped.buffer).getUint32(0), path);
    case 'structure':
      // A changed count or length prefix re-frames everything after it: the parse runs past the
      // mac, leaves bytes before it, or reads a length beyond its limit.
      return { code: 'ERR_HEADER' };
    case 'context': {
      if (decodesAsUtf8(flipped) === undefined) return { code: 'ERR_HEADER' };
      if (expectContext) return { code: 'ERR_CONTEXT' }; // checked before any key is unwrapped
      // The bound part (context included) is the AAD of the aes256-gcm key wrap: unwrapping fails.
      return { code: 'ERR_NO_KEY', causes: 'auth' };
    }
    case 'stanza type': {
      const t = decodesAsUtf8(flipped);
      if (t === undefined || !/^[a-z0-9][a-z0-9.-]*$/.test(t)) return { code: 'ERR_HEADER' };
      return { code: 'ERR_NO_KEY', causes: 'none' }; // a type no provider knows
    }
    case 'key id':
      if (decodesAsUtf8(flipped) === undefined) return { code: 'ERR_HEADER' };
      return { code: 'ERR_NO_KEY', causes: 'none' }; // a key id no provider has
    case 'wrapped':
      return { code: 'ERR_NO_KEY', causes: 'auth' };
    case 'mac':
      return { code: 'ERR_AUTH', chunk: undefined };
  }
}

/** `err.chunk` expected for a flip at payload byte `p` (offset from the start of the payload). */
function payloadChunk(p: number): number | undefined {
  return p < PRE ? undefined : Math.floor((p - PRE) / SEALED);
}

/** Returns a description of how `e` differs from `exp`, or undefined when it matches. */
function mismatch(e: unknown, exp: Expected): string | undefined {
  if (!(e instanceof EnsealError)) return `expected ${exp.code}, got ${e === undefined ? 'success' : String(e)}`;
  if (e.code !== exp.code) return `expected ${exp.code}, got ${e.code} (${e.message})`;
  if (exp.code === 'ERR_AUTH' && e.chunk !== exp.chunk) return `expected chunk ${exp.chunk}, got ${e.chunk} (${e.message})`;
  if (exp.code === 'ERR_NO_KEY') {
    if (exp.causes === 'none' && e.errors.length !== 0) return `expected no provider causes, got ${e.errors.map(String)}`;
    if (exp.causes === 'auth' && !(e.errors.length === 1 && isEnsealError(e.errors[0], 'ERR_AUTH'))) {
      return `expected one ERR_AUTH cause, got ${e.errors.map(String)}`;
    }
  }
  return undefined;
}


const memSource = (b: Uint8Array) => ({ size: b.length, read: async (o: number, l: number) => b.slice(o, o + l) });

/** Whole authenticated chunks only, never more than `maxChunks`, each equal to the plaintext. */
function prefixProblem(output: Uint8Array, maxChunks: number): string | undefined {
  if (output.length % CHUNK !== 0) return `output of ${output.length} bytes is not whole chunks`;
  if (output.length > maxChunks * CHUNK) return `output of ${output.length} bytes reaches into chunk ${maxChunks}`;
  if (Buffer.compare(output, PT.subarray(0, output.length)) !== 0) return 'output is not a plaintext prefix';
  return undefined;
}

/** Runs one input through the given path; returns a mismatch description or undefined. */
async function check(
  path: Path,
  backend: BackendName,
  input: Uint8Array,
  exp: Expected,
  opts: { expectContext?: boolean; maxChunks?: number; sizes?: number[]; range?: { start: number; end?: number } } = {},
): Promise<string | undefined> {
  const o = { keys: [KEY], backend, ...(opts.expectContext ? { context: CONTEXT } : {}) };
  if (path === 'decrypt') return mismatch(await caught(decrypt(input, o)), exp);
  if (path === 'range') return mismatch(await caught(decryptRange(memSource(input), opts.range ?? { start: 0 }, o)), exp);
  const { output, error } = await pipeBytes(decryptStream(o), input, opts.sizes);
  return mismatch(error, exp) ?? prefixProblem(output, opts.maxChunks ?? (exp.chunk ?? 0));
}

/** Runs every case on `lanes` private copies of `base` concurrently, flipping in place. */
async function flipMatrix(
  base: Uint8Array,
  cases: readonly [pos: number, bit: number][],
  lanes: number,
  run: (buf: Uint8Array, pos: number, bit: number) => Promise<string | undefined>,
): Promise<{ ran: number; problems: string[] }> {
  const problems: string[] = [];
  let next = 0;
  let ran = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      const buf = base.slice();
      for (let i = next++; i < cases.length; i = next++) {
        const [pos, bit] = cases[i]!;
        buf[pos]! ^= 1 << bit;
        const p = await run(buf, pos, bit);
        buf[pos]! ^= 1 << bit;
        ran++;
        if (p !== undefined && problems.length < 50) problems.push(`byte ${pos} bit ${bit}: ${p}`);
      }
      expect(Buffer.compare(buf, base)).toBe(0); // every flip was undone
    }),
  );
  return { ran, problems };
}

const allBits = (from: number, to: number): [number, number][] => {
  const out: [number, number][] = [];
  for (let p = from; p < to; p++) for (let b = 0; b < 8; b++) out.push([p, b]);
  return out;
};

// ------------------------------------------------------------------------------------------

it('the fixture has the layout the expectations are derived from, byte-identical on every backend', async () => {
  const objects = await Promise.all(BACKENDS.map((b) => seal(b, 1)));
  const ct = objects[0]!;
  for (const other of objects) expect(Buffer.compare(other, ct)).toBe(0);
  expect(ct.length).toBe(TOTAL);
  const info = inspect(ct);
  expect(info.headerLength).toBe(H);
  expect(info.context).toEqual(CONTEXT);
  expect(info.recipients).toEqual([{ type: 'aes256-gcm', keyId: KEY_ID, params: {}, wrappedKeyLength: 60 }]);
  expect(info.payload).toEqual({ ciphertextLength: TOTAL - H, plaintextLength: PT_LEN, chunks: 3 });
  const text = (name: string) => {
    const f = LAYOUT.find((x) => x.name === name)!;
    return Buffer.from(ct.subarray(f.start, f.end)).toString('latin1');
  };
  expect(text('magic')).toBe('enseal');
  expect(text('context key')).toBe('app');
  expect(text('context value')).toBe('t');
  expect(text('stanza type')).toBe('aes256-gcm');
  expect(text('key id')).toBe(KEY_ID);
  expect(new DataView(ct.buffer, ct.byteOffset).getUint32(8)).toBe(H);
});

for (const backend of BACKENDS) {
  describe(`tamper / ${backend}`, () => {
    const fixture = seal(backend, 1);
    // Many-lane runs pipeline WebCrypto's asynchronous calls; node:crypto is synchronous.
    const lanes = backend === 'webcrypto' ? 16 : 1;

    it('the intact fixture decrypts on every path', async () => {
      const ct = await fixture;
      expect(Buffer.compare(await decrypt(ct, { keys: [KEY], backend, context: CONTEXT }), PT)).toBe(0);
      const { output, error } = await pipeBytes(decryptStream({ keys: [KEY], backend }), ct, [1000]);
      expect(error).toBeUndefined();
      expect(Buffer.compare(output, PT)).toBe(0);
      expect(Buffer.compare(await decryptRange(memSource(ct), { start: 0 }, { keys: [KEY], backend }), PT)).toBe(0);
    });

    describe('every single-bit flip of the header', () => {
      const cases = allBits(0, H);
      for (const path of ['decrypt', 'stream', 'range'] as const) {
        it(`${path}: code derived from the layout (${cases.length} flips)`, async () => {
          const ct = await fixture;
          const header = ct.slice(0, H);
          const seen = new Set<string>();
          const { ran, problems } = await flipMatrix(ct, cases, lanes, (buf, pos, bit) => {
            const exp = expectedHeaderFlip(header, pos, bit, path, false);
            seen.add(`${fieldAt(pos).kind}:${exp.code}${exp.causes ? `/${exp.causes}` : ''}`);
            return check(path, backend, buf, exp, { maxChunks: 0, sizes: [1000] });
          });
          expect(problems).toEqual([]);
          expect(ran).toBe(H * 8);
          // The matrix exercised every kind of outcome the layout predicts.
          for (const k of [
            'magic:ERR_HEADER', 'version:ERR_UNSUPPORTED', 'suite:ERR_UNSUPPORTED', 'header_length:ERR_HEADER',
            'structure:ERR_HEADER', 'context:ERR_HEADER', 'context:ERR_NO_KEY/auth', 'stanza type:ERR_HEADER',
            'stanza type:ERR_NO_KEY/none', 'key id:ERR_HEADER', 'key id:ERR_NO_KEY/none', 'wrapped:ERR_NO_KEY/auth', 'mac:ERR_AUTH',
          ]) {
            expect(seen, k).toContain(k);
          }
        });
      }

      // No single-bit flip of this fixture's header_length (133) lands in the ranges that give
      // ERR_TRUNCATED, so rewrite the field with chosen values to cover every branch.
      it('header_length rewritten to chosen values: ERR_HEADER / ERR_TRUNCATED per path', async () => {
        const ct = await fixture;
        // [value, decrypt & stream, range]
        const table: [number, ErrorCode, ErrorCode][] = [
          [54, 'ERR_HEADER', 'ERR_HEADER'], // below the minimum
          [65537, 'ERR_HEADER', 'ERR_HEADER'], // above the maximum
          [H + 1, 'ERR_HEADER', 'ERR_HEADER'], // plausible: the parse leaves a byte before the mac
          [H - 1, 'ERR_HEADER', 'ERR_HEADER'], // plausible: the wrapped key runs into the mac
          [H + FINAL_SEALED - 10, 'ERR_HEADER', 'ERR_TRUNCATED'], // leaves a 6-byte "final chunk"
          [TOTAL - PRE, 'ERR_HEADER', 'ERR_TRUNCATED'], // leaves a payload of only a preamble
          [TOTAL + 1, 'ERR_TRUNCATED', 'ERR_TRUNCATED'], // longer than the object
          [MAX_HEADER, 'ERR_TRUNCATED', 'ERR_TRUNCATED'],
        ];
        for (const [len, oneShot, ranged] of table) {
          const bad = ct.slice();
          new DataView(bad.buffer).setUint32(8, len);
          for (const path of ['decrypt', 'stream', 'range'] as const) {
            const exp = expectedHeaderLength(len, path);
            expect(exp.code, `${len} ${path}`).toBe(path === 'range' ? ranged : oneShot);
            expect(await check(path, backend, bad, exp, { sizes: [1000] }), `${len} ${path}`).toBeUndefined();
          }
        }
      });

      it('decrypt with the expected context: a readable change to the context bytes is ERR_CONTEXT', async () => {
        const ct = await fixture;
        const header = ct.slice(0, H);
        const ctxCases = allBits(0, H).filter(([p]) => fieldAt(p).kind === 'context');
        expect(ctxCases).toHaveLength(4 * 8);
        const codes = new Set<ErrorCode>();
        const { problems } = await flipMatrix(ct, ctxCases, lanes, (buf, pos, bit) => {
          const exp = expectedHeaderFlip(header, pos, bit, 'decrypt', true);
          codes.add(exp.code);
          return check('decrypt', backend, buf, exp, { expectContext: true });
        });
        expect(problems).toEqual([]);
        expect([...codes].sort()).toEqual(['ERR_CONTEXT', 'ERR_HEADER']);
      });
    });

    describe('single-bit flips of the payload (ERR_AUTH; err.chunk = the modified chunk, undefined in the preamble)', () => {
      const regions: [string, number, number][] = [
        ['preamble', H, H + PRE],
        ['chunk 0', chunkAt(0), chunkAt(1)],
        ['chunk 1', chunkAt(1), chunkAt(2)],
        ['chunk 2 (final)', chunkAt(2), TOTAL],
      ];
      for (const [name, from, to] of regions) {
        // node: every bit of the payload (~271 k one-shot decryptions, ~35 s). webcrypto (~5× the
        // cost per call): every bit of the preamble and of every tag, and one pseudo-randomly
        // chosen bit of every body byte.
        let cases: [number, number][];
        if (backend === 'node' || name === 'preamble') {
          cases = allBits(from, to);
        } else {
          const tagAt = to - TAG;
          const rnd = pseudoRandom(tagAt - from, from);
          cases = [];
          for (let p = from; p < tagAt; p++) cases.push([p, rnd[p - from]! & 7]);
          cases.push(...allBits(tagAt, to));
        }
        it(`decrypt: ${name} (${cases.length} flips)`, async () => {
          const ct = await fixture;
          const { ran, problems } = await flipMatrix(ct, cases, lanes, (buf, pos) =>
            check('decrypt', backend, buf, { code: 'ERR_AUTH', chunk: payloadChunk(pos - H) }),
          );
          expect(problems).toEqual([]);
          expect(ran).toBe(cases.length);
        });
      }

      // Representative positions for the streaming and ranged paths.
      const sample: number[] = [H, H + 11, H + 23, H + 24, H + 40, H + 55];
      for (let k = 0; k < 3; k++) {
        const end = k < 2 ? chunkAt(k + 1) : TOTAL;
        sample.push(chunkAt(k), chunkAt(k) + 1, chunkAt(k) + 777, end - TAG - 1, end - TAG, end - 1);
      }
      for (const [label, sizes] of [['whole write', undefined], ['1000-byte writes', [1000]], ['odd writes', [1, 7, 16399, 16401, 55]]] as const) {
        it(`decryptStream (${label}): never a byte of the failing chunk`, async () => {
          const ct = await fixture;
          const cases = sample.flatMap((p) => [[p, 0], [p, 7]] as [number, number][]);
          const { problems } = await flipMatrix(ct, cases, lanes, (buf, pos) => {
            const chunk = payloadChunk(pos - H);
            return check('stream', backend, buf, { code: 'ERR_AUTH', chunk }, { maxChunks: chunk ?? 0, sizes: sizes?.slice() });
          });
          expect(problems).toEqual([]);
        });
      }
      it('decryptRange (whole object)', async () => {
        const ct = await fixture;
        const cases = sample.flatMap((p) => [[p, 0], [p, 7]] as [number, number][]);
        const { problems } = await flipMatrix(ct, cases, lanes, (buf, pos) =>
          check('range', backend, buf, { code: 'ERR_AUTH', chunk: payloadChunk(pos - H) }),
        );
        expect(problems).toEqual([]);
      });
      it('decryptRange verifies only what it reads: a flip in chunk 1 fails ranges covering chunk 1 only', async () => {
        const ct = (await fixture).slice();
        ct[chunkAt(1) + 5]! ^= 1;
        const o = { keys: [KEY], backend };
        expect(Buffer.compare(await decryptRange(memSource(ct), { start: 0, end: CHUNK - 1 }, o), PT.subarray(0, CHUNK))).toBe(0);
        expect(Buffer.compare(await decryptRange(memSource(ct), { start: 2 * CHUNK }, o), PT.subarray(2 * CHUNK))).toBe(0);
        expect((await expectCode(decryptRange(memSource(ct), { start: CHUNK - 1, end: CHUNK }, o), 'ERR_AUTH')).chunk).toBe(1);
      });
    });

    describe('truncation', () => {
      // [label, kept length, expected]. A cut leaving 1..15 bytes of a chunk, or none, cannot be
      // a message (no short final chunk of at least a tag): ERR_TRUNCATED from the length alone.
      // A cut leaving ≥ 16 bytes of chunk k makes that partial chunk "final": it fails as chunk k.
      const cuts: [string, number, Expected][] = [
        ['empty object', 0, { code: 'ERR_TRUNCATED' }],
        ['inside the magic', 3, { code: 'ERR_TRUNCATED' }],
        ['after the 12-byte prefix', 12, { code: 'ERR_TRUNCATED' }],
        ['inside the stanza', 60, { code: 'ERR_TRUNCATED' }],
        ['inside the mac', H - 1, { code: 'ERR_TRUNCATED' }],
        ['header only', H, { code: 'ERR_TRUNCATED' }],
        ['inside the salt', H + 1, { code: 'ERR_TRUNCATED' }],
        ['inside the commitment', H + 40, { code: 'ERR_TRUNCATED' }],
        ['inside the preamble, 1 byte short', H + PRE - 1, { code: 'ERR_TRUNCATED' }],
      ];
      for (let k = 0; k <= 2; k++) {
        const at = chunkAt(k);
        const len = k < 2 ? SEALED : FINAL_SEALED;
        cuts.push([`at 56 + ${k}×16400 (chunk boundary)`, at, { code: 'ERR_TRUNCATED' }]);
        cuts.push([`1 byte into chunk ${k}`, at + 1, { code: 'ERR_TRUNCATED' }]);
        cuts.push([`15 bytes into chunk ${k}`, at + 15, { code: 'ERR_TRUNCATED' }]);
        cuts.push([`16 bytes into chunk ${k}`, at + 16, { code: 'ERR_AUTH', chunk: k }]);
        cuts.push([`middle of chunk ${k}`, at + (len >> 1), { code: 'ERR_AUTH', chunk: k }]);
        if (k < 2) cuts.push([`1 byte short of chunk ${k}'s end`, at + len - 1, { code: 'ERR_AUTH', chunk: k }]);
      }
      for (let j = 1; j <= 15; j++) cuts.push([`${j} byte(s) before the end`, TOTAL - j, { code: 'ERR_AUTH', chunk: 2 }]);

      for (const path of ['decrypt', 'stream', 'range'] as const) {
        it(`${path}: every cut fails with its expected code`, async () => {
          const ct = await fixture;
          const problems: string[] = [];
          for (const [label, kept, exp] of cuts) {
            // Ranged reads of intact chunk 0 fail too: the final chunk is authenticated first.
            const intact = Math.max(0, Math.floor((kept - H - PRE) / SEALED)); // whole chunks before the cut
            const p = await check(path, backend, ct.subarray(0, kept), exp, { sizes: [1000], maxChunks: intact, range: { start: 0, end: 100 } });
            if (p !== undefined) problems.push(`${label} (${kept} bytes): ${p}`);
          }
          expect(problems).toEqual([]);
        });
      }
    });

    describe('reordering, trailing data, transplants, context', () => {
      interface Case {
        name: string;
        make: () => Promise<Uint8Array>;
        expected: Expected;
        /** decryptRange: the range read and its (possibly different) expectation. */
        range: { start: number; end?: number };
        rangeExpected?: Expected;
      }
      const chunkOf = (ct: Uint8Array, k: number) => ct.slice(chunkAt(k), k < 2 ? chunkAt(k + 1) : TOTAL);
      const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
      const other = seal(backend, 2); // same key, same context, same length, another object

      const cases: Case[] = [
        {
          name: 'chunks 0 and 1 swapped',
          make: async () => { const ct = await fixture; return concat(ct.subarray(0, chunkAt(0)), chunkOf(ct, 1), chunkOf(ct, 0), chunkOf(ct, 2)); },
          expected: { code: 'ERR_AUTH', chunk: 0 },
          range: { start: 0 },
        },
        {
          name: 'chunk 0 duplicated in place of chunk 1',
          make: async () => { const ct = await fixture; return concat(ct.subarray(0, chunkAt(0)), chunkOf(ct, 0), chunkOf(ct, 0), chunkOf(ct, 2)); },
          expected: { code: 'ERR_AUTH', chunk: 1 },
          range: { start: CHUNK, end: CHUNK + 10 },
        },
        // Trailing bytes lengthen the final chunk (it no longer authenticates at index 2) or,
        // with a whole chunk's worth, turn the old final chunk into a failing full chunk 2;
        // a ranged read then authenticates a "final" chunk 3 made of the appended bytes.
        ...[1, 15, 16, 17].map((n): Case => ({
          name: `${n} trailing garbage byte(s)`,
          make: async () => concat(await fixture, pseudoRandom(n, 99)),
          expected: { code: 'ERR_AUTH', chunk: 2 },
          range: { start: 0, end: 100 },
        })),
        {
          name: '16400 trailing garbage bytes',
          make: async () => concat(await fixture, pseudoRandom(SEALED, 98)),
          expected: { code: 'ERR_AUTH', chunk: 2 },
          range: { start: 0, end: 100 },
          rangeExpected: { code: 'ERR_AUTH', chunk: 3 },
        },
        {
          name: 'an extra validly sealed full chunk from another object appended',
          make: async () => concat(await fixture, chunkOf(await other, 0)),
          expected: { code: 'ERR_AUTH', chunk: 2 },
          range: { start: 0, end: 100 },
          rangeExpected: { code: 'ERR_AUTH', chunk: 3 },
        },
        {
          name: "another object's valid final chunk appended",
          make: async () => concat(await fixture, chunkOf(await other, 2)),
          expected: { code: 'ERR_AUTH', chunk: 2 },
          range: { start: 0, end: 100 },
        },
        {
          name: 'final chunk replaced by the final chunk of another object',
          make: async () => concat((await fixture).subarray(0, chunkAt(2)), chunkOf(await other, 2)),
          expected: { code: 'ERR_AUTH', chunk: 2 },
          range: { start: 0, end: 100 },
        },
        {
          name: 'header transplanted from another object (same key, other context and length)',
          make: async () => {
            const b = await seal(backend, 3, { pt: pseudoRandom(5000, 3), context: { app: 'other', x: 'y' } });
            return concat(b.subarray(0, b.length - (5000 + PRE + TAG)), (await fixture).subarray(H));
          },
          expected: { code: 'ERR_AUTH', chunk: undefined }, // header MAC ok, commitment fails
          range: { start: 0, end: 100 },
        },
        {
          name: 'payload of A after the header of B (same key, same context)',
          make: async () => concat((await other).subarray(0, H), (await fixture).subarray(H)),
          expected: { code: 'ERR_AUTH', chunk: undefined },
          range: { start: 0, end: 100 },
        },
      ];

      for (const c of cases) {
        for (const path of ['decrypt', 'stream', 'range'] as const) {
          it(`${c.name}: ${path}`, async () => {
            const input = await c.make();
            const exp = path === 'range' ? (c.rangeExpected ?? c.expected) : c.expected;
            expect(await check(path, backend, input, exp, { sizes: [1000], range: c.range })).toBeUndefined();
          });
        }
      }

      it('headers of A and B are different objects under the same key (the transplant is meaningful)', async () => {
        const [a, b] = [await fixture, await other];
        expect(Buffer.compare(a.subarray(0, H), b.subarray(0, H))).not.toBe(0);
        expect(Buffer.compare(await decrypt(b, { keys: [KEY], backend }), PT)).toBe(0);
      });

      describe('a header re-encoded with another context, correctly MACed and wrapped, fails at the commitment', () => {
        /** Seals with a second recipient that records the data key. */
        async function withDataKey(): Promise<{ ct: Uint8Array; dataKey: Uint8Array }> {
          let dataKey: Uint8Array | undefined;
          const spy: KeyProvider = {
            description: 'spy',
            async wrap(dk): Promise<Stanza> {
              dataKey = dk.slice();
              return { type: 'test-spy', keyId: '', params: {}, wrapped: Uint8Array.of(0) };
            },
            async unwrap() {
              return null;
            },
          };
          const ct = await seal(backend, 4, { recipients: [KEY, spy] });
          return { ct, dataKey: dataKey! };
        }
        /** The object with its header rebuilt for `context`: a fresh aes256-gcm stanza bound to it, and a valid MAC. */
        async function reencode(ct: Uint8Array, dataKey: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
          const b = getBackend(backend);
          const headerLength = inspect(ct).headerLength;
          const stanza = await KEY.wrap(dataKey, { aad: encodeBound(context), encryptionContext: context, backend: b });
          const header = await appendHeaderMac(b, dataKey, encodeHeaderBody(context, [stanza]));
          return concat(header, ct.subarray(headerLength));
        }

        it('control: the same procedure with the original context decrypts', async () => {
          const { ct, dataKey } = await withDataKey();
          const same = await reencode(ct, dataKey, CONTEXT);
          expect(Buffer.compare(await decrypt(same, { keys: [KEY], backend, context: CONTEXT }), PT)).toBe(0);
        });

        for (const path of ['decrypt', 'stream', 'range'] as const) {
          it(path, async () => {
            const { ct, dataKey } = await withDataKey();
            const changed = await reencode(ct, dataKey, { app: 'u' });
            expect(inspect(changed).context).toEqual({ app: 'u' });
            expect(await check(path, backend, changed, { code: 'ERR_AUTH', chunk: undefined }, { sizes: [1000], range: { start: 0, end: 100 } })).toBeUndefined();
            if (path === 'decrypt') {
              const e = await expectCode(decrypt(changed, { keys: [KEY], backend }), 'ERR_AUTH');
              expect(e.message).toMatch(/commitment/);
            }
          });
        }
      });
    });
  });
}
