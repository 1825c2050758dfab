/**
 * The envelope header codec (docs/FORMAT.md §2): canonical round trips (fast-check), exact error
 * codes for malformed, truncated and out-of-limit headers (hand-built bytes), encode-side misuse,
 * and the header MAC on every backend (every single-bit flip).
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../src/backends/backend.js';
import { getBackend } from '../src/backends/select.js';
import { EnsealError, type ErrorCode } from '../src/errors.js';
import {
  decodeHeader,
  decodeHeaderPrefix,
  encodeBound,
  encodeHeaderBody,
  encodeHeaderBodyViewOfBound,
  MAGIC,
  MIN_HEADER_LENGTH,
  type EncryptionContext,
  type Header,
  type Stanza,
} from '../src/format/header.js';
import { appendHeaderMac, verifyHeaderMac } from '../src/format/header-mac.js';
import {
  HEADER_MAC_LENGTH,
  HEADER_PREFIX_LENGTH,
  MAX_CONTEXT_ENTRIES,
  MAX_CONTEXT_KEY_LENGTH,
  MAX_CONTEXT_VALUE_LENGTH,
  MAX_HEADER_LENGTH,
  MAX_KEY_ID_LENGTH,
  MAX_PARAMS,
  MAX_PARAM_NAME_LENGTH,
  MAX_PARAM_VALUE_LENGTH,
  MAX_RECIPIENTS,
  MAX_TYPE_LENGTH,
  MAX_WRAPPED_LENGTH,
} from '../src/format/limits.js';
import { atOddOffset, BACKENDS, expectCode, hex, pseudoRandom, toHex } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// Local helpers

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const u8 = (n: number): Uint8Array => Uint8Array.of(n);
const u16 = (n: number): Uint8Array => Uint8Array.of(n >>> 8, n & 0xff);
const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
const f8 = (b: Uint8Array | string): Uint8Array => { const x = typeof b === 'string' ? utf8(b) : b; return cat(u8(x.length), x); };
const f16 = (b: Uint8Array | string): Uint8Array => { const x = typeof b === 'string' ? utf8(b) : b; return cat(u16(x.length), x); };
const FAKE_MAC = new Uint8Array(HEADER_MAC_LENGTH).fill(0xaa);

/** Runs `f` synchronously and returns the EnsealError code it threw (fails on anything else). */
function codeOf(f: () => unknown): ErrorCode {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an EnsealError').toBeInstanceOf(EnsealError);
  return (err as EnsealError).code;
}
const expectSyncCode = (f: () => unknown, code: ErrorCode): void => expect(codeOf(f)).toBe(code);

/** Raw stanza bytes, fields given as-is (lengths may be forged with the `*Len` overrides). */
function rawStanza(s: { type?: Uint8Array | string; keyId?: Uint8Array | string; params?: [Uint8Array | string, Uint8Array | string][]; paramCount?: number; wrapped?: Uint8Array }): Uint8Array {
  const params = s.params ?? [];
  return cat(
    f8(s.type ?? 'x'),
    f16(s.keyId ?? ''),
    u8(s.paramCount ?? params.length),
    ...params.map(([k, v]) => cat(f8(k), f16(v))),
    f16(s.wrapped ?? u8(7)),
  );
}

/** A hand-built header: prefix (with a correct or forced length), body bytes as given, fake mac. */
function rawHeader(opts: {
  context?: [Uint8Array | string, Uint8Array | string][];
  contextCount?: number;
  recipientCount?: number;
  stanzas?: Uint8Array[];
  extra?: Uint8Array;
  version?: number;
  suite?: number;
  length?: number;
}): Uint8Array {
  const ctx = opts.context ?? [];
  const stanzas = opts.stanzas ?? [rawStanza({})];
  const body = cat(
    u16(opts.contextCount ?? ctx.length),
    ...ctx.map(([k, v]) => cat(f16(k), f16(v))),
    u8(opts.recipientCount ?? stanzas.length),
    ...stanzas,
    opts.extra ?? new Uint8Array(0),
  );
  const length = opts.length ?? HEADER_PREFIX_LENGTH + body.length + HEADER_MAC_LENGTH;
  return cat(MAGIC, u8(opts.version ?? 1), u8(opts.suite ?? 1), u32(length), body, FAKE_MAC);
}

/** Replaces the header_length field. */
function withLength(h: Uint8Array, n: number): Uint8Array {
  const c = h.slice();
  c.set(u32(n >>> 0), 8);
  return c;
}

const stanza = (type: string, keyId: string, params: Record<string, string>, wrapped: Uint8Array): Stanza => ({ type, keyId, params, wrapped });

/** A realistic header body used by the deterministic tests. */
const CONTEXT: EncryptionContext = { bucket: 'photos', 'tenant/id': 'Ünïcødé 🔐', a: '' };
const STANZAS: Stanza[] = [
  stanza('aes256-gcm', 'backup-2026', {}, pseudoRandom(60, 1)),
  stanza('kms.aws', 'arn:aws:kms:eu-west-1:111122223333:key/abcd', { alg: 'SYMMETRIC_DEFAULT', 'Region.v2': 'eu-west-1' }, pseudoRandom(184, 2)),
];
const BODY = encodeHeaderBody(CONTEXT, STANZAS);
const HEADER = cat(BODY, FAKE_MAC);

const sortedEntries = (m: Readonly<Record<string, string>>): [string, string][] => Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** Structural view of a decoded header for equality checks. */
function plain(h: Header) {
  return {
    context: sortedEntries(h.context),
    recipients: h.recipients.map((s) => ({ type: s.type, keyId: s.keyId, params: sortedEntries(s.params), wrapped: toHex(s.wrapped) })),
  };
}

// ---------------------------------------------------------------------------------------------

describe('round trip (fast-check)', () => {
  // 'binary' = any code point (no lone surrogates), so ≤ 4 UTF-8 bytes each: 64 code points ≤ 256 bytes.
  const ctxKey = fc.string({ unit: 'binary', minLength: 1, maxLength: MAX_CONTEXT_KEY_LENGTH / 4 });
  const ctxValue = fc.oneof(fc.string({ unit: 'binary', maxLength: 100 }), fc.string({ unit: 'grapheme', maxLength: 40 }));
  const contextArb = fc.uniqueArray(fc.tuple(ctxKey, ctxValue), { selector: (e) => e[0], maxLength: 10 });
  const paramsArb = fc.uniqueArray(
    fc.tuple(fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/), fc.string({ unit: 'binary', maxLength: 60 })),
    { selector: (e) => e[0], maxLength: 6 },
  );
  const stanzaArb = fc.record({
    type: fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,30}$/),
    keyId: fc.oneof(fc.string({ unit: 'binary', maxLength: 100 }), fc.string({ maxLength: 40 })),
    params: paramsArb,
    wrapped: fc.uint8Array({ minLength: 1, maxLength: 600 }),
  });
  const arb = fc.record({
    context: contextArb,
    stanzas: fc.array(stanzaArb, { minLength: 1, maxLength: 5 }),
    mac: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    payload: fc.uint8Array({ maxLength: 40 }),
    shuffle: fc.array(fc.nat(), { maxLength: 10 }),
  });

  it('decode(encode(x)) = x; re-encoding is byte-identical; bound = encodeBound(context); insertion order is irrelevant', () => {
    fc.assert(
      fc.property(arb, ({ context, stanzas, mac, payload, shuffle }) => {
        const ctx = Object.fromEntries(context);
        const recipients = stanzas.map((s) => stanza(s.type, s.keyId, Object.fromEntries(s.params), s.wrapped));
        const body = encodeHeaderBody(ctx, recipients);
        const bytes = cat(body, mac);
        const h = decodeHeader(bytes);

        expect(h.version).toBe(1);
        expect(h.suite).toBe(1);
        expect(h.length).toBe(bytes.length);
        expect(decodeHeaderPrefix(bytes.subarray(0, 12))).toBe(bytes.length);
        expect(plain(h)).toEqual({
          context: sortedEntries(ctx),
          recipients: stanzas.map((s) => ({ type: s.type, keyId: s.keyId, params: sortedEntries(Object.fromEntries(s.params)), wrapped: toHex(s.wrapped) })),
        });
        expect(toHex(h.macInput)).toBe(toHex(body));
        expect(toHex(h.mac)).toBe(toHex(mac));
        expect(toHex(h.bound)).toBe(toHex(encodeBound(ctx)));

        // Canonical: the decoded header re-encodes to the same bytes.
        expect(toHex(cat(encodeHeaderBody(h.context, h.recipients), h.mac))).toBe(toHex(bytes));

        // Insertion order of context and params does not change the encoding.
        const permute = <T>(xs: T[]): T[] => {
          const c = [...xs];
          shuffle.forEach((r, i) => { const j = r % c.length, k = i % c.length; if (c.length > 0) [c[j], c[k]] = [c[k]!, c[j]!]; });
          return c;
        };
        const ctx2 = Object.fromEntries(permute([...context].reverse()));
        const rec2 = stanzas.map((s) => stanza(s.type, s.keyId, Object.fromEntries(permute([...s.params].reverse())), s.wrapped));
        expect(toHex(encodeHeaderBody(ctx2, rec2))).toBe(toHex(body));
        expect(toHex(encodeBound(ctx2))).toBe(toHex(encodeBound(ctx)));

        // The body written from the bound part (the one-shot path) is the same bytes.
        expect(toHex(encodeHeaderBodyViewOfBound(encodeBound(ctx), recipients))).toBe(toHex(body));
        // A borrowed decode is the same header, its mac input and mac views of the input.
        const hb = decodeHeader(bytes, true);
        expect(plain(hb)).toEqual(plain(h));
        expect(toHex(hb.macInput)).toBe(toHex(body));
        expect(toHex(hb.mac)).toBe(toHex(mac));
        expect(hb.macInput.buffer).toBe(bytes.buffer);

        // Decoding from an odd offset, followed by payload bytes, gives the same header.
        const h2 = decodeHeader(atOddOffset(cat(bytes, payload)));
        expect(h2.length).toBe(bytes.length);
        expect(plain(h2)).toEqual(plain(h));
        expect(toHex(h2.macInput)).toBe(toHex(body));
        expect(toHex(h2.bound)).toBe(toHex(h.bound));
      }),
      { numRuns: 200 },
    );
  });

  it('random mutations of a valid header decode canonically or fail with ERR_HEADER/ERR_TRUNCATED/ERR_UNSUPPORTED only', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('xor' as const), at: fc.nat(), value: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) }),
    );
    let decoded = 0;
    let rejected = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (muts, fixLength) => {
        let b: number[] = [...HEADER];
        for (const m of muts) {
          const at = m.at % (b.length + (m.kind === 'insert' ? 1 : 0));
          if (m.kind === 'set') b[at] = m.value;
          else if (m.kind === 'xor') b[at]! ^= m.value;
          else if (m.kind === 'insert') b.splice(at, 0, m.value);
          else b.splice(at, 1);
        }
        let bytes: Uint8Array = Uint8Array.from(b);
        if (fixLength && bytes.length >= 12) bytes = withLength(bytes, bytes.length);
        let h: Header;
        try {
          h = decodeHeader(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(EnsealError);
          expect(['ERR_HEADER', 'ERR_TRUNCATED', 'ERR_UNSUPPORTED']).toContain((e as EnsealError).code);
          rejected++;
          return;
        }
        decoded++;
        expect(toHex(cat(encodeHeaderBody(h.context, h.recipients), h.mac))).toBe(toHex(bytes.subarray(0, h.length)));
      }),
      { numRuns: 1500 },
    );
    expect(decoded).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });

  it('context keys are ordered by UTF-8 bytes, not UTF-16 code units', () => {
    // U+FFFF (EF BF BF) sorts before U+10000 (F0 90 80 80) in bytes, after it in UTF-16 (D800 DC00).
    const ctx = { '\u{10000}': 'astral', '\uFFFF': 'bmp', '\uFEFFbom': 'kept', 'é': '', '\0': 'nul' };
    const body = encodeHeaderBody(ctx, [STANZAS[0]!]);
    const h = decodeHeader(cat(body, FAKE_MAC));
    expect(sortedEntries(h.context)).toEqual(sortedEntries(ctx));
    const k = [utf8('\0'), utf8('é'), utf8('\uFEFFbom'), utf8('\uFFFF'), utf8('\u{10000}')];
    const section = cat(u16(5), f16(k[0]!), f16('nul'), f16(k[1]!), f16(''), f16(k[2]!), f16('kept'), f16(k[3]!), f16('bmp'), f16(k[4]!), f16('astral'));
    expect(toHex(body.subarray(12, 12 + section.length))).toBe(toHex(section));
    expect(toHex(encodeBound(ctx))).toBe(toHex(cat(MAGIC, u8(1), u8(1), section)));
    expect(body[12 + section.length]).toBe(1); // recipient count follows the context section
  });

  it('limits are inclusive: maximal field lengths round-trip', () => {
    const ctx = { ['k'.repeat(MAX_CONTEXT_KEY_LENGTH)]: 'v'.repeat(MAX_CONTEXT_VALUE_LENGTH) };
    const params = Object.fromEntries(Array.from({ length: MAX_PARAMS }, (_, i) => [`p${String(i).padStart(2, '0')}`.padEnd(MAX_PARAM_NAME_LENGTH, '_'), i === 0 ? 'x'.repeat(MAX_PARAM_VALUE_LENGTH) : '']));
    const s = stanza('t'.repeat(MAX_TYPE_LENGTH), 'i'.repeat(MAX_KEY_ID_LENGTH), params, new Uint8Array(MAX_WRAPPED_LENGTH));
    const bytes = cat(encodeHeaderBody(ctx, [s]), FAKE_MAC);
    const h = decodeHeader(bytes);
    expect(h.recipients[0]!.keyId).toHaveLength(MAX_KEY_ID_LENGTH);
    expect(Object.keys(h.recipients[0]!.params)).toHaveLength(MAX_PARAMS);
    expect(toHex(cat(encodeHeaderBody(h.context, h.recipients), h.mac))).toBe(toHex(bytes));
    // MAX_RECIPIENTS minimal stanzas, MAX_CONTEXT_ENTRIES entries.
    const many = Object.fromEntries(Array.from({ length: MAX_CONTEXT_ENTRIES }, (_, i) => [`k${i}`, `${i}`]));
    const h2 = decodeHeader(cat(encodeHeaderBody(many, Array.from({ length: MAX_RECIPIENTS }, () => STANZAS[0]!)), FAKE_MAC));
    expect(h2.recipients).toHaveLength(MAX_RECIPIENTS);
    expect(Object.keys(h2.context)).toHaveLength(MAX_CONTEXT_ENTRIES);
    // The smallest possible header is exactly MIN_HEADER_LENGTH bytes.
    const min = cat(encodeHeaderBody({}, [stanza('x', '', {}, u8(0))]), FAKE_MAC);
    expect(min).toHaveLength(MIN_HEADER_LENGTH);
    expect(decodeHeader(min).length).toBe(MIN_HEADER_LENGTH);
  });

  it('a header of exactly MAX_HEADER_LENGTH bytes is accepted, one more byte is refused (encode and decode)', () => {
    // Fill with wrapped keys: 7 × 8192-byte stanzas plus one sized to land on the limit.
    const fixed = HEADER_PREFIX_LENGTH + 2 + 1 + HEADER_MAC_LENGTH;
    const per = (w: number) => 1 + 1 + 2 + 1 + 2 + w;
    const big = Array.from({ length: 7 }, () => stanza('x', '', {}, new Uint8Array(MAX_WRAPPED_LENGTH)));
    const rest = MAX_HEADER_LENGTH - fixed - 7 * per(MAX_WRAPPED_LENGTH) - per(0);
    const exact = [...big, stanza('x', '', {}, new Uint8Array(rest))];
    const bytes = cat(encodeHeaderBody({}, exact), FAKE_MAC);
    expect(bytes).toHaveLength(MAX_HEADER_LENGTH);
    expect(decodeHeader(bytes).recipients).toHaveLength(8);
    expect(() => encodeHeaderBody({}, [...big, stanza('x', '', {}, new Uint8Array(rest + 1))])).toThrow(RangeError);
    // Decoding side: the same bytes claiming 65537 are refused from the prefix.
    expectSyncCode(() => decodeHeader(withLength(cat(bytes, u8(0)), MAX_HEADER_LENGTH + 1)), 'ERR_HEADER');
  });
});

// ---------------------------------------------------------------------------------------------

describe('decode copies', () => {
  it('every field is a copy unless borrowed; a borrowed decode of shared memory copies too', () => {
    const copied = decodeHeader(HEADER);
    expect(copied.macInput.buffer).not.toBe(HEADER.buffer);
    expect(copied.mac.buffer).not.toBe(HEADER.buffer);
    const borrowed = decodeHeader(HEADER, true);
    expect(borrowed.macInput.buffer).toBe(HEADER.buffer);
    expect(borrowed.mac.buffer).toBe(HEADER.buffer);
    expect(borrowed.recipients[0]!.wrapped.buffer).not.toBe(HEADER.buffer); // stanzas are always copies
    const shared = new Uint8Array(new SharedArrayBuffer(HEADER.length));
    shared.set(HEADER);
    const fromShared = decodeHeader(shared, true);
    expect(fromShared.macInput.buffer).not.toBe(shared.buffer);
    expect(fromShared.mac.buffer).not.toBe(shared.buffer);
    expect(toHex(fromShared.macInput)).toBe(toHex(BODY));
    expect(toHex(fromShared.mac)).toBe(toHex(FAKE_MAC));
  });
  it('an empty context encodes the same bound part through the fast path and the general one', () => {
    const inherited = Object.create({ ignored: 'x' }) as EncryptionContext; // Object.entries sees no own key
    for (const ctx of [{}, inherited, Object.create(null) as EncryptionContext]) expect(toHex(encodeBound(ctx))).toBe(toHex(cat(MAGIC, Uint8Array.of(1, 1, 0, 0))));
    expect(() => encodeBound([] as never)).toThrow(TypeError);
    expect(() => encodeBound(null as never)).toThrow(TypeError);
  });
});

describe('decode rejections', () => {
  it('the reference header decodes', () => {
    const h = decodeHeader(HEADER);
    expect(plain(h).context).toEqual(sortedEntries(CONTEXT));
    expect(h.recipients).toHaveLength(2);
    expect(h.recipients[1]!.params).toEqual({ alg: 'SYMMETRIC_DEFAULT', 'Region.v2': 'eu-west-1' });
    expect(decodeHeader(rawHeader({})).recipients[0]!.type).toBe('x');
  });

  it('bad magic is ERR_HEADER (any byte, full or partial prefix)', () => {
    for (let i = 0; i < 6; i++) {
      const bad = HEADER.slice();
      bad[i]! ^= 0x20;
      expectSyncCode(() => decodeHeader(bad), 'ERR_HEADER');
      expectSyncCode(() => decodeHeaderPrefix(bad.subarray(0, 12)), 'ERR_HEADER');
      // Fewer than 12 bytes: a wrong magic byte already seen is ERR_HEADER, not ERR_TRUNCATED.
      expectSyncCode(() => decodeHeaderPrefix(bad.subarray(0, i + 1)), 'ERR_HEADER');
      expectSyncCode(() => decodeHeader(bad.subarray(0, 11)), 'ERR_HEADER');
    }
    expectSyncCode(() => decodeHeader(utf8('PK\x03\x04 not an enseal object at all')), 'ERR_HEADER');
  });

  it('an unknown version or suite is ERR_UNSUPPORTED', () => {
    for (const [at, v] of [[6, 2], [6, 0], [6, 255], [7, 2], [7, 0], [7, 255]] as const) {
      const bad = HEADER.slice();
      bad[at] = v;
      expectSyncCode(() => decodeHeader(bad), 'ERR_UNSUPPORTED');
      expectSyncCode(() => decodeHeaderPrefix(bad.subarray(0, 12)), 'ERR_UNSUPPORTED');
    }
    expectSyncCode(() => decodeHeader(rawHeader({ version: 2 })), 'ERR_UNSUPPORTED');
    expectSyncCode(() => decodeHeader(rawHeader({ suite: 2 })), 'ERR_UNSUPPORTED');
  });

  it('a declared header_length outside MIN_HEADER_LENGTH..65536 is ERR_HEADER from the 12-byte prefix alone', () => {
    const prefix = HEADER.subarray(0, 12);
    for (const n of [0, 1, 12, 44, MIN_HEADER_LENGTH - 1, MAX_HEADER_LENGTH + 1, 0x10000 * 2, 0x7fffffff, 0x80000000, 0xffffffff]) {
      expectSyncCode(() => decodeHeaderPrefix(withLength(prefix, n)), 'ERR_HEADER');
      expectSyncCode(() => decodeHeader(withLength(prefix, n)), 'ERR_HEADER');
    }
    for (const n of [MIN_HEADER_LENGTH, 1000, MAX_HEADER_LENGTH]) {
      expect(decodeHeaderPrefix(withLength(prefix, n))).toBe(n);
      // The prefix is valid; the rest of the header is missing.
      expectSyncCode(() => decodeHeader(withLength(prefix, n)), 'ERR_TRUNCATED');
    }
  });

  it('every truncation of a valid header is ERR_TRUNCATED', () => {
    for (const h of [HEADER, rawHeader({})]) {
      for (let n = 0; n < h.length; n++) {
        expectSyncCode(() => decodeHeader(h.subarray(0, n)), 'ERR_TRUNCATED');
        if (n < 12) expectSyncCode(() => decodeHeaderPrefix(h.subarray(0, n)), 'ERR_TRUNCATED');
      }
      expect(decodeHeader(h).length).toBe(h.length);
    }
  });

  it('cutting the body short (with header_length rewritten to match) is ERR_HEADER at every cut point', () => {
    const macAt = HEADER.length - HEADER_MAC_LENGTH;
    for (let cut = HEADER_PREFIX_LENGTH; cut < macAt; cut++) {
      const h = cat(HEADER.subarray(0, cut), FAKE_MAC);
      expectSyncCode(() => decodeHeader(withLength(h, h.length)), 'ERR_HEADER');
    }
  });

  it('context keys out of order or duplicated are ERR_HEADER; ascending (incl. prefix-first) is accepted', () => {
    expectSyncCode(() => decodeHeader(rawHeader({ context: [['b', '1'], ['a', '2']] })), 'ERR_HEADER');
    expectSyncCode(() => decodeHeader(rawHeader({ context: [['a', '1'], ['a', '1']] })), 'ERR_HEADER');
    expectSyncCode(() => decodeHeader(rawHeader({ context: [['a', '1'], ['a', '2']] })), 'ERR_HEADER');
    expectSyncCode(() => decodeHeader(rawHeader({ context: [['ab', '1'], ['a', '2']] })), 'ERR_HEADER');
    expectSyncCode(() => decodeHeader(rawHeader({ context: [['a', '1'], ['c', '2'], ['b', '3']] })), 'ERR_HEADER');
    // UTF-16 order would put U+10000 first; bytes put U+FFFF first.
    expectSyncCode(() => decodeHeader(rawHeader({ context: [['\u{10000}', '1'], ['\uFFFF', '2']] })), 'ERR_HEADER');
    expect(decodeHeader(rawHeader({ context: [['\uFFFF', '1'], ['\u{10000}', '2']] })).context).toEqual({ '\uFFFF': '1', '\u{10000}': '2' });
    expect(decodeHeader(rawHeader({ context: [['a', '1'], ['ab', '2'], ['b', '']] })).context).toEqual({ a: '1', ab: '2', b: '' });
  });

  it('stanza param names out of order, duplicated or outside [A-Za-z0-9._-] are ERR_HEADER', () => {
    const p = (params: [string, string][]) => rawHeader({ stanzas: [rawStanza({ params })] });
    expectSyncCode(() => decodeHeader(p([['b', '1'], ['a', '2']])), 'ERR_HEADER');
    expectSyncCode(() => decodeHeader(p([['a', '1'], ['a', '1']])), 'ERR_HEADER');
    expectSyncCode(() => decodeHeader(p([['a/b', '1']])), 'ERR_HEADER');
    expectSyncCode(() => decodeHeader(p([['a b', '1']])), 'ERR_HEADER');
    expectSyncCode(() => decodeHeader(p([['é', '1']])), 'ERR_HEADER');
    expect(decodeHeader(p([['A', '1'], ['a', '2'], ['a.b-c_D9', '']])).recipients[0]!.params).toEqual({ A: '1', a: '2', 'a.b-c_D9': '' });
  });

  it('a stanza type outside [a-z0-9][a-z0-9.-]* is ERR_HEADER', () => {
    for (const t of ['AES', 'a_b', '-ab', '.x', 'a b', 'é']) {
      expectSyncCode(() => decodeHeader(rawHeader({ stanzas: [rawStanza({ type: t })] })), 'ERR_HEADER');
    }
    expect(decodeHeader(rawHeader({ stanzas: [rawStanza({ type: '0a.b-c' })] })).recipients[0]!.type).toBe('0a.b-c');
  });

  it('invalid UTF-8 (key id, context key/value, param value) is ERR_HEADER', () => {
    const invalid = ['ff', 'c080', 'c1bf', 'e282', 'eda080', 'edbfbf', 'f4908080', 'f8888080', '80', 'e0808f', 'f0808080'].map(hex);
    for (const bad of invalid) {
      const label = `bytes ${toHex(bad)}`;
      expect(codeOf(() => decodeHeader(rawHeader({ stanzas: [rawStanza({ keyId: bad })] }))), `key id ${label}`).toBe('ERR_HEADER');
      expect(codeOf(() => decodeHeader(rawHeader({ stanzas: [rawStanza({ keyId: cat(utf8('arn:'), bad) })] }))), `key id ${label}`).toBe('ERR_HEADER');
      expect(codeOf(() => decodeHeader(rawHeader({ context: [[bad, 'v']] }))), `context key ${label}`).toBe('ERR_HEADER');
      expect(codeOf(() => decodeHeader(rawHeader({ context: [['k', bad]] }))), `context value ${label}`).toBe('ERR_HEADER');
      expect(codeOf(() => decodeHeader(rawHeader({ stanzas: [rawStanza({ params: [['n', bad]] })] }))), `param value ${label}`).toBe('ERR_HEADER');
    }
    // A leading BOM is data, not stripped: it decodes and re-encodes to the same bytes.
    const bom = rawHeader({ stanzas: [rawStanza({ keyId: hex('efbbbf6b') })] });
    const h = decodeHeader(bom);
    expect(h.recipients[0]!.keyId).toBe('\uFEFFk');
    expect(toHex(cat(encodeHeaderBody(h.context, h.recipients), h.mac))).toBe(toHex(bom));
  });

  it('a field length beyond its limit is ERR_HEADER (with the bytes present)', () => {
    const cases: [string, Uint8Array][] = [
      ['key id 2049', rawHeader({ stanzas: [rawStanza({ keyId: new Uint8Array(MAX_KEY_ID_LENGTH + 1).fill(0x61) })] })],
      ['context key 257', rawHeader({ context: [['k'.repeat(MAX_CONTEXT_KEY_LENGTH + 1), 'v']] })],
      ['context key 0', rawHeader({ context: [['', 'v']] })],
      ['context value 4097', rawHeader({ context: [['k', 'v'.repeat(MAX_CONTEXT_VALUE_LENGTH + 1)]] })],
      ['type 65', rawHeader({ stanzas: [rawStanza({ type: 't'.repeat(MAX_TYPE_LENGTH + 1) })] })],
      ['type 0', rawHeader({ stanzas: [rawStanza({ type: '' })] })],
      ['param name 65', rawHeader({ stanzas: [rawStanza({ params: [['p'.repeat(MAX_PARAM_NAME_LENGTH + 1), 'v']] })] })],
      ['param name 0', rawHeader({ stanzas: [rawStanza({ params: [['', 'v']] })] })],
      ['param value 4097', rawHeader({ stanzas: [rawStanza({ params: [['p', 'v'.repeat(MAX_PARAM_VALUE_LENGTH + 1)]] })] })],
      ['param count 33', rawHeader({ stanzas: [rawStanza({ params: Array.from({ length: MAX_PARAMS + 1 }, (_, i): [string, string] => [`p${String(i).padStart(2, '0')}`, '']) })] })],
      ['wrapped 8193', rawHeader({ stanzas: [rawStanza({ wrapped: new Uint8Array(MAX_WRAPPED_LENGTH + 1) })] })],
      ['wrapped 0', rawHeader({ stanzas: [rawStanza({ wrapped: new Uint8Array(0) })] })],
      ['context count 129', rawHeader({ context: Array.from({ length: MAX_CONTEXT_ENTRIES + 1 }, (_, i): [string, string] => [`k${String(i).padStart(3, '0')}`, '']) })],
      ['recipient count 65', rawHeader({ stanzas: Array.from({ length: MAX_RECIPIENTS + 1 }, () => rawStanza({})) })],
    ];
    for (const [label, bytes] of cases) {
      expect(bytes.length, label).toBeLessThanOrEqual(MAX_HEADER_LENGTH);
      expect(codeOf(() => decodeHeader(bytes)), label).toBe('ERR_HEADER');
    }
    // The same shapes one below the limit decode.
    expect(decodeHeader(rawHeader({ stanzas: [rawStanza({ keyId: new Uint8Array(MAX_KEY_ID_LENGTH).fill(0x61) })] })).recipients[0]!.keyId).toHaveLength(MAX_KEY_ID_LENGTH);
    expect(decodeHeader(rawHeader({ stanzas: Array.from({ length: MAX_RECIPIENTS }, () => rawStanza({})) })).recipients).toHaveLength(MAX_RECIPIENTS);
  });

  it('recipient count 0 is ERR_HEADER', () => {
    expectSyncCode(() => decodeHeader(rawHeader({ stanzas: [], extra: new Uint8Array(8) })), 'ERR_HEADER');
    expectSyncCode(() => decodeHeader(rawHeader({ recipientCount: 0 })), 'ERR_HEADER');
    // Otherwise well-formed and long enough (the context fills the minimal length): only the count is wrong.
    const zero = rawHeader({ context: [['tenant', 'acme']], stanzas: [] });
    expect(zero.length).toBeGreaterThanOrEqual(MIN_HEADER_LENGTH);
    expectSyncCode(() => decodeHeader(zero), 'ERR_HEADER');
  });

  it('a count larger than the stanzas present is ERR_HEADER', () => {
    expectSyncCode(() => decodeHeader(rawHeader({ recipientCount: 2 })), 'ERR_HEADER');
    expectSyncCode(() => decodeHeader(rawHeader({ context: [['a', 'b']], contextCount: 2 })), 'ERR_HEADER');
    expectSyncCode(() => decodeHeader(rawHeader({ stanzas: [rawStanza({ params: [['a', 'b']], paramCount: 2 })] })), 'ERR_HEADER');
  });

  it('extra bytes between the last stanza and the mac (header_length bumped) are ERR_HEADER', () => {
    for (const n of [1, 2, 31, 32, 100]) {
      expectSyncCode(() => decodeHeader(rawHeader({ extra: new Uint8Array(n) })), 'ERR_HEADER');
      const macAt = HEADER.length - HEADER_MAC_LENGTH;
      const padded = cat(HEADER.subarray(0, macAt), new Uint8Array(n).fill(0x55), FAKE_MAC);
      expectSyncCode(() => decodeHeader(withLength(padded, padded.length)), 'ERR_HEADER');
      // Bumping header_length over a buffer that continues with payload: the payload bytes become "before the mac".
      expectSyncCode(() => decodeHeader(withLength(cat(HEADER, new Uint8Array(n)), HEADER.length + n)), 'ERR_HEADER');
    }
  });

  it('a buffer that continues with payload bytes decodes the header and ignores the rest', () => {
    const payload = pseudoRandom(5000, 9);
    const h = decodeHeader(cat(HEADER, payload));
    const ref = decodeHeader(HEADER);
    expect(h.length).toBe(HEADER.length);
    expect(plain(h)).toEqual(plain(ref));
    expect(toHex(h.macInput)).toBe(toHex(ref.macInput));
    expect(toHex(h.mac)).toBe(toHex(FAKE_MAC));
    expect(toHex(h.bound)).toBe(toHex(encodeBound(CONTEXT)));
    // Payload bytes that look like garbage headers change nothing either.
    expect(plain(decodeHeader(cat(HEADER, HEADER)))).toEqual(plain(ref));
  });

  it('decoded values are independent of the input buffer', () => {
    const buf = HEADER.slice();
    const h = decodeHeader(buf);
    const wrapped = toHex(h.recipients[0]!.wrapped);
    const macInput = toHex(h.macInput);
    buf.fill(0);
    expect(toHex(h.recipients[0]!.wrapped)).toBe(wrapped);
    expect(toHex(h.macInput)).toBe(macInput);
    expect(toHex(h.mac)).toBe(toHex(FAKE_MAC));
  });
});

describe('no allocation before validation', () => {
  it('a 12-byte prefix declaring 0xFFFFFFFF header bytes is ERR_HEADER', () => {
    const p = cat(MAGIC, u8(1), u8(1), u32(0xffffffff));
    expectSyncCode(() => decodeHeaderPrefix(p), 'ERR_HEADER');
    expectSyncCode(() => decodeHeader(p), 'ERR_HEADER');
  });

  it('context count 65535 (or 128) with only a few bytes present is ERR_HEADER, quickly', () => {
    for (const count of [0xffff, MAX_CONTEXT_ENTRIES + 1, MAX_CONTEXT_ENTRIES]) {
      const body = cat(u16(count), f16('a'), f16('b'));
      const h = cat(MAGIC, u8(1), u8(1), u32(HEADER_PREFIX_LENGTH + body.length + HEADER_MAC_LENGTH), body, FAKE_MAC);
      const t0 = performance.now();
      expectSyncCode(() => decodeHeader(h), 'ERR_HEADER');
      expect(performance.now() - t0, `count ${count}`).toBeLessThan(250);
    }
  });

  it('huge declared field lengths inside a small header are ERR_HEADER, quickly', () => {
    const cases = [
      cat(u16(1), u16(0xffff)), // context key length
      cat(u16(1), f16('k'), u16(0xffff)), // context value length
      cat(u16(0), u8(1), u8(0xff)), // type length
      cat(u16(0), u8(1), f8('x'), u16(0xffff)), // key id length
      cat(u16(0), u8(1), f8('x'), f16(''), u8(0xff)), // param count
      cat(u16(0), u8(1), f8('x'), f16(''), u8(0), u16(0xffff)), // wrapped length
      cat(u16(0), u8(1), f8('x'), f16(''), u8(0), u16(MAX_WRAPPED_LENGTH)), // within limit, bytes absent
    ];
    for (const body of cases) {
      const padded = cat(body, new Uint8Array(Math.max(0, MIN_HEADER_LENGTH - HEADER_PREFIX_LENGTH - HEADER_MAC_LENGTH - body.length)));
      const h = cat(MAGIC, u8(1), u8(1), u32(HEADER_PREFIX_LENGTH + padded.length + HEADER_MAC_LENGTH), padded, FAKE_MAC);
      const t0 = performance.now();
      expect(codeOf(() => decodeHeader(h)), toHex(body)).toBe('ERR_HEADER');
      expect(performance.now() - t0).toBeLessThan(250);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('encode-side misuse', () => {
  const s0 = STANZAS[0]!;
  const throwsNotEnseal = (f: () => unknown, cls: typeof TypeError | typeof RangeError): void => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(cls);
    expect(err).not.toBeInstanceOf(EnsealError);
  };

  it('context: empty key, non-string value, non-object, too many entries, too long key/value', () => {
    throwsNotEnseal(() => encodeHeaderBody({ '': 'v' }, [s0]), TypeError);
    throwsNotEnseal(() => encodeBound({ '': 'v' }), TypeError);
    throwsNotEnseal(() => encodeHeaderBody({ k: 1 } as unknown as EncryptionContext, [s0]), TypeError);
    throwsNotEnseal(() => encodeHeaderBody({ k: undefined } as unknown as EncryptionContext, [s0]), TypeError);
    throwsNotEnseal(() => encodeBound({ k: null } as unknown as EncryptionContext), TypeError);
    throwsNotEnseal(() => encodeHeaderBody(null as unknown as EncryptionContext, [s0]), TypeError);
    throwsNotEnseal(() => encodeHeaderBody(['a'] as unknown as EncryptionContext, [s0]), TypeError);
    throwsNotEnseal(() => encodeBound('k=v' as unknown as EncryptionContext), TypeError);
    throwsNotEnseal(() => encodeBound(Object.fromEntries(Array.from({ length: MAX_CONTEXT_ENTRIES + 1 }, (_, i) => [`k${i}`, '']))), RangeError);
    throwsNotEnseal(() => encodeBound({ ['é'.repeat(MAX_CONTEXT_KEY_LENGTH / 2) + 'x']: '' }), RangeError); // 257 UTF-8 bytes
    throwsNotEnseal(() => encodeBound({ k: '€'.repeat(1366) }), RangeError); // 4098 UTF-8 bytes
    expect(() => encodeBound({ k: 'v'.repeat(MAX_CONTEXT_VALUE_LENGTH) })).not.toThrow();
  });

  it('recipients: none, more than MAX_RECIPIENTS', () => {
    throwsNotEnseal(() => encodeHeaderBody({}, []), RangeError);
    throwsNotEnseal(() => encodeHeaderBody({}, Array.from({ length: MAX_RECIPIENTS + 1 }, () => s0)), RangeError);
    expect(() => encodeHeaderBody({}, Array.from({ length: MAX_RECIPIENTS }, () => s0))).not.toThrow();
  });

  it('stanzas: bad type, bad key id, bad params, bad wrapped key', () => {
    for (const t of ['AES', 'Aes256-gcm', '', '-x', 'a_b', 'a b', 't'.repeat(MAX_TYPE_LENGTH + 1)]) {
      throwsNotEnseal(() => encodeHeaderBody({}, [stanza(t, '', {}, u8(1))]), TypeError);
    }
    throwsNotEnseal(() => encodeHeaderBody({}, [{ ...s0, type: 5 } as unknown as Stanza]), TypeError);
    throwsNotEnseal(() => encodeHeaderBody({}, [{ ...s0, keyId: undefined } as unknown as Stanza]), TypeError);
    throwsNotEnseal(() => encodeHeaderBody({}, [stanza('x', 'é'.repeat(MAX_KEY_ID_LENGTH / 2) + 'x', {}, u8(1))]), RangeError);
    throwsNotEnseal(() => encodeHeaderBody({}, [stanza('x', '', { 'a/b': 'v' }, u8(1))]), TypeError);
    throwsNotEnseal(() => encodeHeaderBody({}, [stanza('x', '', { '': 'v' }, u8(1))]), TypeError);
    throwsNotEnseal(() => encodeHeaderBody({}, [stanza('x', '', { p: 1 } as unknown as Record<string, string>, u8(1))]), TypeError);
    throwsNotEnseal(() => encodeHeaderBody({}, [stanza('x', '', { ['p'.repeat(MAX_PARAM_NAME_LENGTH + 1)]: '' }, u8(1))]), RangeError);
    throwsNotEnseal(() => encodeHeaderBody({}, [stanza('x', '', { p: 'v'.repeat(MAX_PARAM_VALUE_LENGTH + 1) }, u8(1))]), RangeError);
    throwsNotEnseal(() => encodeHeaderBody({}, [stanza('x', '', Object.fromEntries(Array.from({ length: MAX_PARAMS + 1 }, (_, i) => [`p${i}`, ''])), u8(1))]), RangeError);
    throwsNotEnseal(() => encodeHeaderBody({}, [stanza('x', '', {}, new Uint8Array(0))]), RangeError);
    throwsNotEnseal(() => encodeHeaderBody({}, [stanza('x', '', {}, new Uint8Array(MAX_WRAPPED_LENGTH + 1))]), RangeError);
    throwsNotEnseal(() => encodeHeaderBody({}, [{ ...s0, wrapped: [1, 2] } as unknown as Stanza]), TypeError);
    throwsNotEnseal(() => encodeHeaderBody({}, [null as unknown as Stanza]), TypeError);
  });
});

// ---------------------------------------------------------------------------------------------

/** mac = HMAC-SHA-256(HKDF-Expand-SHA-512(dataKey, "enseal/v1 header-mac", 32), body), computed with node:crypto. */
function oracleMac(dataKey: Uint8Array, body: Uint8Array): string {
  const macKey = createHmac('sha512', dataKey).update(cat(utf8('enseal/v1 header-mac'), u8(1))).digest().subarray(0, 32);
  return createHmac('sha256', macKey).update(body).digest('hex');
}

function headerMac(name: BackendName): void {
  describe(`header MAC / ${name}`, () => {
    const b = () => getBackend(name);
    const dataKey = pseudoRandom(32, 77);
    const body = encodeHeaderBody({ tenant: 'acme', app: 'x' }, [stanza('aes256-gcm', 'k1', { n: '1' }, pseudoRandom(60, 78))]);

    it('appendHeaderMac = body || HMAC-SHA-256(HKDF-Expand-SHA-512(data key, info, 32), body); verify accepts it', async () => {
      const h = await appendHeaderMac(b(), dataKey, body);
      expect(toHex(h.subarray(0, body.length))).toBe(toHex(body));
      expect(toHex(h.subarray(body.length))).toBe(oracleMac(dataKey, body));
      const d = decodeHeader(h);
      await expect(verifyHeaderMac(b(), dataKey, d)).resolves.toBeUndefined();
      await expect(verifyHeaderMac(b(), atOddOffset(dataKey), decodeHeader(atOddOffset(h)))).resolves.toBeUndefined();
      // Verified by the other backends too.
      for (const other of BACKENDS) await expect(verifyHeaderMac(getBackend(other), dataKey, d)).resolves.toBeUndefined();
    });

    it('a wrong data key is ERR_AUTH', async () => {
      const d = decodeHeader(await appendHeaderMac(b(), dataKey, body));
      for (const bit of [0, 7, 128, 255]) {
        const k = dataKey.slice();
        k[bit >> 3]! ^= 1 << (bit & 7);
        await expectCode(verifyHeaderMac(b(), k, d), 'ERR_AUTH');
      }
      await expectCode(verifyHeaderMac(b(), new Uint8Array(32), d), 'ERR_AUTH');
      await expectCode(verifyHeaderMac(b(), dataKey.subarray(0, 31), d), 'ERR_AUTH');
    });

    it('every single-bit flip: ERR_AUTH if it still decodes, else ERR_HEADER/ERR_UNSUPPORTED/ERR_TRUNCATED', async () => {
      const h = await appendHeaderMac(b(), dataKey, body);
      const tally = { auth: 0, header: 0, unsupported: 0, truncated: 0 };
      for (let bit = 0; bit < h.length * 8; bit++) {
        const bad = h.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        let d: Header;
        try {
          d = decodeHeader(bad);
        } catch (e) {
          expect(e, `bit ${bit}`).toBeInstanceOf(EnsealError);
          const code = (e as EnsealError).code;
          expect(['ERR_HEADER', 'ERR_UNSUPPORTED', 'ERR_TRUNCATED'], `bit ${bit}`).toContain(code);
          if (code === 'ERR_HEADER') tally.header++;
          else if (code === 'ERR_UNSUPPORTED') tally.unsupported++;
          else tally.truncated++;
          continue;
        }
        await expectCode(verifyHeaderMac(b(), dataKey, d), 'ERR_AUTH');
        tally.auth++;
      }
      expect(tally.auth + tally.header + tally.unsupported + tally.truncated).toBe(h.length * 8);
      // Every mac bit and every wrapped-key bit still decodes, so reaches the MAC check.
      expect(tally.auth).toBeGreaterThanOrEqual(HEADER_MAC_LENGTH * 8 + 60 * 8);
      expect(tally.unsupported).toBe(16); // version and suite bytes
      expect(tally.header).toBeGreaterThan(0);
      expect(tally.truncated).toBeGreaterThan(0); // header_length made larger than the buffer
    });

    it('flips inside a header followed by payload still reach the MAC check', async () => {
      // With payload after the header, a flipped header_length may re-frame the header instead of truncating it.
      const h = cat(await appendHeaderMac(b(), dataKey, body), pseudoRandom(300, 5));
      for (let bit = 8 * 8; bit < 12 * 8; bit++) {
        const bad = h.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        let d: Header | undefined;
        try {
          d = decodeHeader(bad);
        } catch (e) {
          expect(['ERR_HEADER', 'ERR_TRUNCATED']).toContain((e as EnsealError).code);
        }
        if (d !== undefined) await expectCode(verifyHeaderMac(b(), dataKey, d), 'ERR_AUTH');
      }
    });
  });
}

for (const name of BACKENDS) headerMac(name);
