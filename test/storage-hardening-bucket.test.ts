/**
 * Two bucket hardenings: a forged `enseal-header-length` hint (below the 12-byte header prefix,
 * or past the object) never makes `headObject` fail on a valid object — it costs at most an
 * extra request; and a closed `ObjectReader` rejects `verifiedSize()` with `ERR_STATE` even
 * after its size verified, while `getObject` results still report verified sizes.
 */
import { describe, expect, it } from 'vitest';
import { encryptedBucket } from '../src/storage.js';
import { METADATA_HEADER_LENGTH } from '../src/storage/bucket-marker.js';
import { memoryStore } from '../src/storage/memory.js';
import { CHUNK_SIZE } from '../src/format/cobblestone.js';
import { expectCode, pseudoRandom } from './helpers.js';
import { collect, counting } from './storage-bucket-helpers.js';
import { KEY } from './storage-bucket-suite.js';

describe('headObject with a forged header-length hint', () => {
  const PLAIN = pseudoRandom(1000, 3);

  it.each(['0', '5', '11', '12', '40', '65536'])('hint %s: headObject answers the right size', async (hint) => {
    const mem = memoryStore();
    await encryptedBucket(mem, { recipients: [KEY], keys: [KEY] }).putObject('a', PLAIN);
    const raw = mem.peek('a')!;
    const md = (await mem.head('a')).metadata;
    const real = Number(md[METADATA_HEADER_LENGTH]);
    await mem.put('a', raw, { metadata: { ...md, [METADATA_HEADER_LENGTH]: hint } });
    const c = counting(mem);
    const cold = encryptedBucket(c.store, { keys: [KEY] });
    const h = await cold.headObject('a');
    expect(h.size).toBe(PLAIN.length);
    expect(h.storedSize).toBe(raw.length);
    expect(h.recipients.length).toBe(1);
    expect(c.requests.byMethod['get'] ?? 0).toBeLessThanOrEqual(2); // a wrong hint costs one extra request at most
    // A hint that cannot be a header length is ignored, so recipients: false reads the header too.
    if (Number(hint) < 12 || Number(hint) > raw.length) {
      const fresh = encryptedBucket(mem, { keys: [KEY] });
      expect((await fresh.headObject('a', { recipients: false })).size).toBe(PLAIN.length);
    }
    expect(real).toBeGreaterThan(12);
    expect(await collect((await cold.getObject('a')).body)).toEqual(PLAIN);
  });
});

describe('ObjectReader.verifiedSize after close', () => {
  const PLAIN = pseudoRandom(3 * CHUNK_SIZE + 17, 4);

  it('rejects with ERR_STATE even once the size was verified', async () => {
    const bucket = encryptedBucket(memoryStore(), { recipients: [KEY], keys: [KEY] });
    await bucket.putObject('a', PLAIN);
    const r = await bucket.openObject('a');
    expect(await r.readBytes()).toEqual(PLAIN); // reads to the end: the final chunk authenticates
    expect(r.sizeVerified).toBe(true);
    expect(await r.verifiedSize()).toBe(PLAIN.length);
    r.close();
    await expectCode(r.verifiedSize(), 'ERR_STATE');

    const v = await bucket.openObject('a');
    expect(await v.verifiedSize()).toBe(PLAIN.length);
    v.close();
    await expectCode(v.verifiedSize(), 'ERR_STATE');
  });

  it('getObject results still report the verified size after their body settled (whole and ranged)', async () => {
    const bucket = encryptedBucket(memoryStore(), { recipients: [KEY], keys: [KEY] });
    await bucket.putObject('a', PLAIN);
    const whole = await bucket.getObject('a');
    expect(await collect(whole.body)).toEqual(PLAIN);
    expect(await whole.verifiedSize()).toBe(PLAIN.length);
    const tail = await bucket.getObject('a', { range: { start: CHUNK_SIZE } });
    expect(await collect(tail.body)).toEqual(PLAIN.subarray(CHUNK_SIZE));
    expect(await tail.verifiedSize()).toBe(PLAIN.length);
    const mid = await bucket.getObject('a', { range: { start: 10, end: 20 } });
    expect(await collect(mid.body)).toEqual(PLAIN.subarray(10, 21));
    expect(await mid.verifiedSize()).toBe(PLAIN.length); // not verified by the read: reopens
  });
});
