/**
 * The 70 Wycheproof C2SP chunked-encryption vectors (Cobblestone-128 and -256) on every backend,
 * one-shot and streamed (whole, byte by byte, odd write sizes), honouring each vector's flags.
 */
import { describe, expect, it } from 'vitest';
import { open, openStream, seal, COBBLESTONE_128, COBBLESTONE_256, type ChunkedSuite } from '../src/chunked.js';
import { EnsealError } from '../src/errors.js';
import { BACKENDS, expectCode, hex, inflateHex, pipeBytes, sha512hex, vector } from './helpers.js';

interface C2spTest {
  tcId: number; comment: string; key: string; ctx: string; ct: string;
  msgLength?: number; msgSha512?: string; result: 'valid' | 'invalid'; flags: string[];
}
const files: [string, ChunkedSuite][] = [
  ['c2sp_chunked_encryption_aes_256_gcm_test.json', COBBLESTONE_256],
  ['c2sp_chunked_encryption_aes_128_gcm_test.json', COBBLESTONE_128],
];
const WRITE_PATTERNS: [string, number[] | 'whole'][] = [
  ['whole', 'whole'],
  ['odd sizes', [1, 7, 55, 56, 57, 16399, 16401, 3, 40000]],
];

for (const [file, suite] of files) {
  const tests: C2spTest[] = vector(`wycheproof/${file}`).testGroups[0].tests;
  it(`${file} has 35 vectors`, () => expect(tests).toHaveLength(35));

  for (const backend of BACKENDS) {
    describe(`${suite.name} / ${backend}`, () => {
      for (const t of tests) {
        const key = hex(t.key);
        const ctx = hex(t.ctx);
        const ct = () => inflateHex(t.ct);
        const label = `tc${t.tcId} ${t.result} ${t.comment} [${t.flags.join(',')}]`;
        const opts = { context: ctx, suite, backend };

        it(`${label}: one-shot`, async () => {
          if (t.flags.includes('InvalidKeySize')) {
            await expect(open(key, ct(), opts)).rejects.toThrow(RangeError);
            return;
          }
          if (t.result === 'valid') {
            const pt = await open(key, ct(), opts);
            expect(pt.length).toBe(t.msgLength);
            expect(sha512hex(pt)).toBe(t.msgSha512);
            // Encryption approach 2 of the Wycheproof guide: re-seal with the vector's salt.
            const again = await seal(key, pt, { ...opts, salt: ct().subarray(0, 24) });
            expect(sha512hex(again)).toBe(sha512hex(ct()));
          } else {
            const err = await open(key, ct(), opts).then(() => undefined, (e: unknown) => e);
            expect(err).toBeInstanceOf(EnsealError);
            if (t.flags.includes('HeaderFailure')) {
              // Rejected while processing the header: no chunk index is attached.
              expect((err as EnsealError).chunk).toBeUndefined();
              expect(['ERR_AUTH', 'ERR_TRUNCATED']).toContain((err as EnsealError).code);
            }
          }
        });

        // Byte-by-byte writes for every vector but the two multi-MiB CounterRollover ones (covered by
        // the odd write sizes).
        for (const [name, sizes] of WRITE_PATTERNS.concat(t.flags.includes('CounterRollover') ? [] : [['byte by byte', [1]]])) {
          it(`${label}: stream ${name}`, async () => {
            if (t.flags.includes('InvalidKeySize')) {
              expect(() => openStream(key, opts)).toThrow(RangeError);
              return;
            }
            const input = ct();
            const { output, error } = await pipeBytes(openStream(key, opts), input, sizes === 'whole' ? undefined : sizes);
            if (t.result === 'valid') {
              expect(error).toBeUndefined();
              expect(output.length).toBe(t.msgLength);
              expect(sha512hex(output)).toBe(t.msgSha512);
              return;
            }
            expect(error).toBeInstanceOf(EnsealError);
            if (t.flags.includes('HeaderFailure')) {
              expect(output.length).toBe(0); // nothing before the commitment check
            } else if (t.flags.includes('PartialPlaintext')) {
              // May release the valid prefix, never more, and never as a success.
              expect(output.length).toBeLessThanOrEqual(t.msgLength!);
              expect(output.length % 16384).toBe(0); // whole authenticated chunks only
              if (output.length === t.msgLength) expect(sha512hex(output)).toBe(t.msgSha512);
            } else {
              expect(output.length).toBe(0);
            }
          });
        }
      }
    });
  }
}

describe('stream keeps failing after an error', () => {
  it('writes after a failure reject again', async () => {
    const t = vector('wycheproof/c2sp_chunked_encryption_aes_256_gcm_test.json').testGroups[0].tests.find((x: C2spTest) => x.tcId === 11);
    const ts = openStream(hex(t.key));
    const w = ts.writable.getWriter();
    const r = ts.readable.getReader();
    const reading = r.read().catch((e: unknown) => e);
    await w.write(inflateHex(t.ct)).catch(() => undefined);
    await w.close().catch(() => undefined);
    expect(await reading).toBeInstanceOf(EnsealError);
    await expectCode(r.read(), 'ERR_AUTH');
    await expect(w.write(new Uint8Array(1))).rejects.toBeInstanceOf(EnsealError);
  });
});
