/**
 * Integrity in the same pass (src/integrity/): CRC-64/XZ (OSS x-oss-hash-crc64ecma) on the WASM
 * core and in TypeScript against an independent bit-by-bit implementation written here; MD5 and
 * SHA-256 against node:crypto; the pass-through tap; digests of plaintext and ciphertext through
 * encryptStream/decryptStream and the Node adapters (createEncryptStream/createDecryptStream:
 * the same digests as the Web streams) on every backend; CRC combination for multipart objects.
 */
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aesKey, decrypt, decryptStream, encrypt, encryptStream } from '../src/index.js';
import { createDecryptStream, createEncryptStream } from '../src/node.js';
import { liveKeyCount } from '../src/backends/live-keys.js';
import { loadWasmCore, type WasmCore } from '../src/backends/wasm-core.js';
import { checksumStream } from '../src/integrity/checksum-stream.js';
import { createChecksummer } from '../src/integrity/checksums.js';
import { Crc64, crc64, createCrc64 } from '../src/integrity/crc64.js';
import { crc64Combine } from '../src/integrity/crc64-combine.js';
import { integrityCheck } from '../src/integrity/stream-integrity.js';
import { atOddOffset, BACKENDS, caught, expectCode, pipeBytes, pseudoRandom } from './helpers.js';

/** CRC-64/XZ one bit at a time from the textbook definition (MSB-first polynomial, reflected I/O). */
function crc64Bitwise(data: Uint8Array): bigint {
  const poly = 0x42f0e1eba9ea3693n;
  const top = 1n << 63n;
  const mask = (1n << 64n) - 1n;
  const reflect = (v: bigint, bits: number): bigint => {
    let r = 0n;
    for (let i = 0; i < bits; i++) if ((v >> BigInt(i)) & 1n) r |= 1n << BigInt(bits - 1 - i);
    return r;
  };
  let reg = mask; // init all ones
  for (const byte of data) {
    reg ^= reflect(BigInt(byte), 8) << 56n; // reflected input
    for (let i = 0; i < 8; i++) reg = (reg & top) !== 0n ? ((reg << 1n) ^ poly) & mask : (reg << 1n) & mask;
  }
  return reflect(reg, 64) ^ mask; // reflected output, xorout all ones
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const md5b64 = (b: Uint8Array): string => createHash('md5').update(b).digest('base64');
const sha256hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** The TypeScript engine (checked against crc64Bitwise above) as the reference for long inputs; streams use the WASM one. */
const crcRef = (b: Uint8Array): string => new Crc64('js').update(b).digest().toString();
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

describe('CRC-64/XZ', () => {
  it('the check value of "123456789" is 0x995DC9BBDF1939FA (11051210869376104954) on both engines and bit by bit', async () => {
    await loadWasmCore();
    const data = ascii('123456789');
    expect(crc64Bitwise(data)).toBe(0x995dc9bbdf1939fan);
    expect(new Crc64('wasm').update(data).digest()).toBe(0x995dc9bbdf1939fan);
    expect(new Crc64('js').update(data).digest()).toBe(0x995dc9bbdf1939fan);
    expect(crc64(data).toString()).toBe('11051210869376104954');
    expect(crc64(new Uint8Array(0))).toBe(0n);
  });

  it('wasm and TypeScript equal the bit-by-bit CRC for random data, split at random points, at odd offsets', async () => {
    await loadWasmCore();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 4 }), (data, cuts) => {
        const expected = crc64Bitwise(data);
        const points = [...new Set(cuts.map((c) => Math.min(c, data.length)))].sort((a, b) => a - b);
        for (const engine of ['wasm', 'js'] as const) {
          const c = new Crc64(engine);
          let from = 0;
          for (const p of [...points, data.length]) {
            c.update(atOddOffset(data.subarray(from, p)));
            from = p;
          }
          expect(c.digest(), engine).toBe(expected);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('large inputs (beyond the 64 KiB CRC window) agree between the engines and with a known split', async () => {
    await loadWasmCore();
    const big = pseudoRandom(200_000, 7);
    const w = new Crc64('wasm').update(big).digest();
    expect(new Crc64('js').update(big).digest()).toBe(w);
    const half = new Crc64('wasm').update(big.subarray(0, 99_999));
    expect(half.update(big.subarray(99_999)).digest()).toBe(w);
    expect(crc64Bitwise(big.subarray(0, 2000))).toBe(new Crc64('wasm').update(big.subarray(0, 2000)).digest());
  });

  it('the module wipes the CRC window and register: memory is clean outside the public tables', async () => {
    const core: WasmCore = await loadWasmCore();
    const secret = new Uint8Array(70_000).fill(0xa5);
    core.crc64(0xffffffffffffffffn, secret);
    const m = core.memory;
    const publicRegions: [number, number][] = [
      [256, 768], // S-box tables
      [768, 768 + 128], // the 4-lane GHASH's bit masks (wasm/layout.ts MASKS)
      [8192, 8192 + 16384], // CRC tables
    ];
    let dirty = -1;
    for (let i = 0; i < m.length && dirty < 0; i++) {
      if (publicRegions.some(([a, b]) => i >= a && i < b)) continue;
      if (m[i] !== 0) dirty = i;
    }
    expect(dirty).toBe(-1);
  });

  it('crc64Combine(crc(A), crc(B), |B|) is crc(A ‖ B)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (a, b) => {
        expect(crc64Combine(crc64(a), crc64(b), b.length)).toBe(crc64(concat(a, b)));
      }),
      { numRuns: 100 },
    );
    const a = pseudoRandom(1 << 20, 3);
    const b = pseudoRandom(300_001, 4);
    expect(crc64Combine(crc64(a), crc64(b), b.length)).toBe(crc64(concat(a, b)));
    expect(() => crc64Combine(1n, 2n, -1)).toThrow(RangeError);
  });

  it('createCrc64() picks the WASM core once it is compiled', async () => {
    expect((await createCrc64()).engine).toBe('wasm');
    expect(() => new Crc64('x' as 'js')).toThrow(TypeError);
  });
});

describe('checksummer and tap', () => {
  it('MD5 (base64) and SHA-256 (hex) equal node:crypto; CRC is decimal; length counts bytes', async () => {
    fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 5000 }), { maxLength: 5 }), async (parts) => {
        const c = await createChecksummer({ crc64: true, md5: true, sha256: true });
        for (const p of parts) c.update(atOddOffset(p));
        const all = concat(...parts);
        expect(c.digest()).toEqual({ length: all.length, crc64: crc64Bitwise(all).toString(), md5: md5b64(all), sha256: sha256hex(all) });
      }),
      { numRuns: 30 },
    );
  });

  it('a checksummer reads once (ERR_STATE afterwards) and refuses bad specs', async () => {
    const c = await createChecksummer({ md5: true });
    c.update(ascii('abc'));
    expect(c.digest().md5).toBe(md5b64(ascii('abc')));
    expect(c.digest).toThrow();
    expect(() => c.update(ascii('x'))).toThrow(expect.objectContaining({ code: 'ERR_STATE' }));
    await expect(createChecksummer({})).rejects.toThrow(TypeError);
    await expect(createChecksummer({ crc32: true } as never)).rejects.toThrow(TypeError);
    await expect(createChecksummer({ md5: 'yes' } as never)).rejects.toThrow(TypeError);
  });

  it('checksumStream passes the very same chunks through unchanged and resolves the digests at the end', async () => {
    const data = pseudoRandom(100_000, 9);
    const copy = data.slice();
    const tap = checksumStream({ crc64: true, md5: true, sha256: true });
    const seen: Uint8Array[] = [];
    const sizes = [1, 7, 16384, 3, 40_000];
    const reader = tap.readable.getReader();
    const reading = (async () => {
      for (;;) {
        const r = await reader.read();
        if (r.done) return;
        seen.push(r.value);
      }
    })();
    const writer = tap.writable.getWriter();
    const written: Uint8Array[] = [];
    for (let off = 0, i = 0; off < data.length; i++) {
      const piece = data.subarray(off, Math.min(data.length, off + sizes[i % sizes.length]!));
      written.push(piece);
      await writer.write(piece);
      off += piece.length;
    }
    await writer.close();
    await reading;
    expect(seen.length).toBe(written.length);
    seen.forEach((s, i) => expect(s).toBe(written[i])); // same objects: no copy
    expect(data).toEqual(copy);
    expect(await tap.digests).toEqual({ length: data.length, crc64: crcRef(data), md5: md5b64(data), sha256: sha256hex(data) });
  });

  it('a cancelled tap rejects its digests with ERR_STATE; a non-byte chunk errors the stream', async () => {
    const tap = checksumStream({ crc64: true });
    await tap.readable.cancel('stop');
    await expectCode(tap.digests, 'ERR_STATE');
    const tap2 = checksumStream({ md5: true });
    const w = tap2.writable.getWriter();
    const r = tap2.readable.getReader();
    const read = r.read();
    const e = await caught(w.write('text' as unknown as Uint8Array));
    expect(e).toBeInstanceOf(TypeError);
    expect(await caught(tap2.digests)).toBeInstanceOf(TypeError);
    expect(await caught(read)).toBeInstanceOf(TypeError);
    expect(() => checksumStream({})).toThrow(TypeError);
  });
});

describe.each(BACKENDS)('integrity option of encryptStream/decryptStream (%s)', (backend) => {
  const key = aesKey({ id: 'i', key: new Uint8Array(32).fill(3) });

  it('digests of plaintext and ciphertext equal those of the bytes in and out, both ways', async () => {
    for (const n of [0, 1, 16384, 16385, 70_001]) {
      const plain = pseudoRandom(n, n + 1);
      const enc = integrityCheck({ plaintext: { sha256: true, crc64: true }, ciphertext: { crc64: true, md5: true } });
      const { output: sealed, error } = await pipeBytes(encryptStream({ recipients: [key], backend, integrity: enc }), plain, [1000, 16384, 5]);
      expect(error).toBeUndefined();
      expect(await enc.digests).toEqual({
        plaintext: { length: n, sha256: sha256hex(plain), crc64: crcRef(plain) },
        ciphertext: { length: sealed.length, crc64: crcRef(sealed), md5: md5b64(sealed) },
      });
      const dec = integrityCheck({ ciphertext: { crc64: true }, plaintext: { md5: true } });
      const { output: back } = await pipeBytes(decryptStream({ keys: [key], backend, integrity: dec }), sealed, [777]);
      expect(back).toEqual(plain);
      expect(await dec.digests).toEqual({ ciphertext: { length: sealed.length, crc64: crcRef(sealed) }, plaintext: { length: n, md5: md5b64(plain) } });
    }
  });

  it('a tampered object rejects the digests (ERR_STATE), and the plaintext digest never covers unverified bytes', async () => {
    const plain = pseudoRandom(40_000, 5);
    const sealed = await encrypt(plain, { recipients: [key], backend });
    sealed[sealed.length - 30]! ^= 1;
    const dec = integrityCheck({ plaintext: { sha256: true } });
    const { output, error } = await pipeBytes(decryptStream({ keys: [key], backend, integrity: dec }), sealed, [4096]);
    expect((error as { code?: string }).code).toBe('ERR_AUTH');
    expect(output.length).toBeLessThan(plain.length);
    await expectCode(dec.digests, 'ERR_STATE');
    expect(await decrypt(await encrypt(plain, { recipients: [key], backend }), { keys: [key], backend })).toEqual(plain);
  });

  it('a stream with integrity cancelled mid-way disposes its keys and rejects its digests', async () => {
    const before = liveKeyCount();
    const check = integrityCheck({ plaintext: { crc64: true }, ciphertext: { md5: true } });
    const ts = encryptStream({ recipients: [key], backend, integrity: check });
    const writer = ts.writable.getWriter();
    const reader = ts.readable.getReader();
    void writer.write(pseudoRandom(40_000, 1)).catch(() => undefined);
    await reader.read(); // the header: the machine and its keys exist
    expect(liveKeyCount()).toBeGreaterThan(before);
    await reader.cancel('stop');
    await expectCode(check.digests, 'ERR_STATE');
    expect(liveKeyCount()).toBe(before);
  });

  it('a check is single-use and must come from integrityCheck()', () => {
    const c = integrityCheck({ ciphertext: { md5: true } });
    encryptStream({ recipients: [key], backend, integrity: c });
    expect(() => encryptStream({ recipients: [key], backend, integrity: c })).toThrow(TypeError);
    expect(() => decryptStream({ keys: [key], backend, integrity: { spec: {}, digests: Promise.resolve({}) } })).toThrow(TypeError);
    expect(() => integrityCheck({})).toThrow(TypeError);
    expect(() => integrityCheck({ plaintext: { md5: false } })).toThrow(TypeError);
    expect(() => integrityCheck({ other: {} } as never)).toThrow(TypeError);
  });
});

/** Runs `input` (cut into pieces of `sizes`, cycled) through a Node Transform; keeps what came out, even before an error. */
async function pipeNode(t: NodeJS.ReadWriteStream, input: Uint8Array, sizes: readonly number[]): Promise<{ output: Uint8Array; error: unknown }> {
  const pieces: Uint8Array[] = [];
  for (let off = 0, i = 0; off < input.length; i++) pieces.push(input.subarray(off, (off += sizes[i % sizes.length]!)));
  const parts: Buffer[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => (parts.push(Buffer.from(c)), cb()) });
  const error = await caught(pipeline(Readable.from(pieces), t, sink));
  return { output: new Uint8Array(Buffer.concat(parts)), error };
}

describe.each(BACKENDS)('integrity option of createEncryptStream/createDecryptStream (%s)', (backend) => {
  const key = aesKey({ id: 'i', key: new Uint8Array(32).fill(4) });

  it('digests equal those of the bytes in and out and those of the Web streams, both ways', async () => {
    for (const n of [0, 1, 16384, 16385, 70_001]) {
      const plain = pseudoRandom(n, n + 2);
      const spec = { plaintext: { sha256: true, crc64: true }, ciphertext: { crc64: true, md5: true } } as const;
      const enc = integrityCheck(spec);
      const { output: sealed, error } = await pipeNode(createEncryptStream({ recipients: [key], backend, integrity: enc }), plain, [1000, 16384, 5]);
      expect(error).toBeUndefined();
      const encDigests = await enc.digests;
      expect(encDigests).toEqual({
        plaintext: { length: n, sha256: sha256hex(plain), crc64: crcRef(plain) },
        ciphertext: { length: sealed.length, crc64: crcRef(sealed), md5: md5b64(sealed) },
      });
      const webEnc = integrityCheck(spec);
      await pipeBytes(encryptStream({ recipients: [key], backend, integrity: webEnc }), plain, [777]);
      expect((await webEnc.digests).plaintext).toEqual(encDigests.plaintext); // the ciphertexts differ (fresh data key and salt)
      // Decrypt the same object both ways: identical digests of both sides.
      const nodeDec = integrityCheck({ ciphertext: { crc64: true, sha256: true }, plaintext: { md5: true, crc64: true } });
      const webDec = integrityCheck({ ciphertext: { crc64: true, sha256: true }, plaintext: { md5: true, crc64: true } });
      const { output: back, error: decError } = await pipeNode(createDecryptStream({ keys: [key], backend, integrity: nodeDec }), sealed, [777, 20_000]);
      expect(decError).toBeUndefined();
      expect(back).toEqual(plain);
      const { output: webBack } = await pipeBytes(decryptStream({ keys: [key], backend, integrity: webDec }), sealed, [4096]);
      expect(webBack).toEqual(plain);
      const want = { ciphertext: { length: sealed.length, crc64: crcRef(sealed), sha256: sha256hex(sealed) }, plaintext: { length: n, md5: md5b64(plain), crc64: crcRef(plain) } };
      expect(await nodeDec.digests).toEqual(want);
      expect(await webDec.digests).toEqual(want);
    }
  });

  it('a tampered object: ERR_AUTH, only authenticated whole chunks came out, the digests reject (ERR_STATE)', async () => {
    const plain = pseudoRandom(5 * 16384 + 100, 6);
    const sealed = await encrypt(plain, { recipients: [key], backend });
    sealed[sealed.length - 100 - 16 - 16400 + 5]! ^= 1; // a byte of chunk 4 (the last full chunk)
    const dec = integrityCheck({ plaintext: { sha256: true }, ciphertext: { md5: true } });
    const { output, error } = await pipeNode(createDecryptStream({ keys: [key], backend, integrity: dec }), sealed, [5000]);
    expect(error).toMatchObject({ code: 'ERR_AUTH', chunk: 4 });
    expect(output.length % 16384).toBe(0);
    expect(output.length).toBeLessThanOrEqual(4 * 16384);
    expect(output).toEqual(plain.subarray(0, output.length));
    await expectCode(dec.digests, 'ERR_STATE');
    // A truncated object (cut at a chunk boundary) rejects them too.
    const intact = await encrypt(plain, { recipients: [key], backend });
    const cut = integrityCheck({ plaintext: { crc64: true } });
    const r = await pipeNode(createDecryptStream({ keys: [key], backend, integrity: cut }), intact.subarray(0, intact.length - 100 - 16), [16400]);
    expect(r.error).toMatchObject({ code: 'ERR_TRUNCATED' });
    await expectCode(cut.digests, 'ERR_STATE');
  });

  it('a stream destroyed mid-way disposes its keys and rejects its digests', async () => {
    const before = liveKeyCount();
    const check = integrityCheck({ plaintext: { crc64: true }, ciphertext: { md5: true } });
    const t = createEncryptStream({ recipients: [key], backend, integrity: check });
    const first = new Promise((resolve) => t.once('data', resolve));
    t.write(pseudoRandom(40_000, 1));
    await first; // the header: the machine and its keys exist
    expect(liveKeyCount()).toBeGreaterThan(before);
    t.destroy();
    await expectCode(check.digests, 'ERR_STATE');
    for (let i = 0; i < 100 && liveKeyCount() !== before; i++) await new Promise((r) => setTimeout(r, 5));
    expect(liveKeyCount()).toBe(before);
  });

  it('a check is single-use (also across Web and Node streams) and must come from integrityCheck()', () => {
    const c = integrityCheck({ ciphertext: { md5: true } });
    createEncryptStream({ recipients: [key], backend, integrity: c }).destroy();
    expect(() => createEncryptStream({ recipients: [key], backend, integrity: c })).toThrow(TypeError);
    expect(() => encryptStream({ recipients: [key], backend, integrity: c })).toThrow(TypeError);
    expect(() => createDecryptStream({ keys: [key], backend, integrity: { spec: {}, digests: Promise.resolve({}) } })).toThrow(TypeError);
  });
});

describe('the OSS adapter checks the CRC-64 OSS returns', () => {
  it('refuses a CRC mismatch injected by the fake OSS (ERR_STORE), and accepts the true one', async () => {
    const { default: OSS } = await import('ali-oss');
    const { FakeOss } = await import('./storage-servers.js');
    const { ossStore } = await import('../src/storage/oss.js');
    const fake = await new FakeOss().start();
    try {
      const client = new OSS({ endpoint: fake.endpoint, bucket: fake.bucket, region: 'oss-cn-hangzhou', accessKeyId: fake.accessKeyId, accessKeySecret: fake.accessKeySecret });
      const store = ossStore({ client, allowInsecureHttp: true });
      const key = aesKey({ id: 'oss', key: new Uint8Array(32).fill(9) });
      const sealed = await encrypt(pseudoRandom(33_000, 2), { recipients: [key] });
      await store.put('ok', sealed);
      expect(fake.objects.get('ok')?.crc64).toBe(crcRef(sealed));
      fake.crcFaults.add('put');
      const e = await expectCode(store.put('bad', sealed), 'ERR_STORE');
      expect(e.message).toMatch(/CRC-64 mismatch/);
      expect(e.message).toContain(crcRef(sealed));
    } finally {
      await fake.close();
    }
  });
});
