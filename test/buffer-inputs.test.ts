/**
 * Node `Buffer` inputs are copied, never aliased: `Buffer#slice()` is a view of the same memory
 * (unlike `Uint8Array#slice()`), so a "private copy" made with it changes with the caller's buffer
 * and is wiped with it. Regression: the node backend's GCM key copied its key with `slice()`, so
 * disposing a key made from a Buffer wiped the caller's bytes — the first `encryptStream` with an
 * `aesKey` made from `crypto.randomBytes` produced an object nobody could decrypt.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, encryptStream, getBackend } from '../src/index.js';
import * as chunked from '../src/chunked.js';
import { copyBytes } from '../src/bytes.js';
import { BACKENDS } from './helpers.js';

async function streamed(ts: TransformStream<Uint8Array, Uint8Array>, input: Uint8Array): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reading = (async () => {
    const r = ts.readable.getReader();
    for (;;) {
      const { done, value } = await r.read();
      if (done) return;
      parts.push(value);
    }
  })();
  const w = ts.writable.getWriter();
  if (input.length > 0) await w.write(input);
  await w.close();
  await reading;
  return Buffer.concat(parts);
}

describe('Buffer inputs are copied', () => {
  it('copyBytes copies a Buffer into a plain array over new memory', () => {
    const b = randomBytes(32);
    const c = copyBytes(b);
    expect(Object.getPrototypeOf(c)).toBe(Uint8Array.prototype);
    expect(c).toEqual(new Uint8Array(b));
    b.fill(0);
    expect(c.some((x) => x !== 0)).toBe(true);
  });

  for (const backend of BACKENDS) {
    it(`${backend}: disposing a GCM key made from a Buffer leaves the Buffer alone`, async () => {
      const raw = randomBytes(32);
      const before = Buffer.from(raw);
      const key = await getBackend(backend).aesGcm(raw);
      key.dispose();
      expect(raw.equals(before)).toBe(true);
    });

    it(`${backend}: the first encryptStream of an aesKey made from a Buffer decrypts`, async () => {
      const key = aesKey({ id: 'buffer', key: randomBytes(32) });
      for (const size of [0, 100, 70000]) {
        const pt = randomBytes(size);
        const sealed = await streamed(encryptStream({ recipients: [key], backend }), pt);
        expect(Buffer.from(await decrypt(sealed, { keys: [key], backend })).equals(pt)).toBe(true);
      }
    });
  }

  it('aesKey and enseal/chunked keep their own copies of a Buffer key', async () => {
    const raw = randomBytes(32);
    const key = aesKey({ id: 'buffer', key: raw });
    const sealed = await encrypt(randomBytes(10), { recipients: [key] });
    const inputKey = randomBytes(32);
    const payload = await chunked.seal(inputKey, randomBytes(1000));
    const keep = Buffer.from(inputKey);
    raw.fill(1); // the caller reuses its buffers
    expect((await decrypt(sealed, { keys: [key] })).length).toBe(10);
    expect((await chunked.open(keep, payload)).length).toBe(1000);
    expect(inputKey.equals(keep)).toBe(true); // seal wiped its copy, not the caller's key
  });
});

describe('a decoded header copies what it keeps', () => {
  it('decodeHeader of a Buffer: mac input, mac and wrapped keys do not change with the Buffer', async () => {
    const { decodeHeader } = await import('../src/format/header.js');
    const key = aesKey({ id: 'buffer', key: randomBytes(32) });
    const sealed = Buffer.from(await encrypt(randomBytes(10), { recipients: [key] }));
    const h = decodeHeader(sealed);
    const before = { macInput: Buffer.from(h.macInput), mac: Buffer.from(h.mac), wrapped: Buffer.from(h.recipients[0]!.wrapped) };
    sealed.fill(0);
    expect(Buffer.from(h.macInput).equals(before.macInput)).toBe(true);
    expect(Buffer.from(h.mac).equals(before.mac)).toBe(true);
    expect(Buffer.from(h.recipients[0]!.wrapped).equals(before.wrapped)).toBe(true);
  });
});
