/**
 * Key rotation of stored objects: through a server-side copy (the new header in metadata, no
 * payload byte through the client) and through a verified streamed rewrite (stores without
 * copy, or a header over the metadata budget). The old key stops working through the bucket,
 * payload bytes are unchanged, and a forged metadata header — MAC invalid, bound part
 * differing, or valid under another data key — is ignored (the body's header is used) or
 * refused, never trusted.
 */
import { describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, inspect, rewrap } from '../src/index.js';
import { toBase64 } from '../src/bytes.js';
import { CHUNK_SIZE } from '../src/format/cobblestone.js';
import { encryptedBucket, METADATA_HEADER, OBJECT_KEY_CONTEXT } from '../src/storage.js';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';
import { collect, expectBytes, MIN_PART, smallMemoryStore } from './storage-bucket-helpers.js';

const K1 = aesKey({ id: 'old-key', key: pseudoRandom(32, 51) });
const K2 = aesKey({ id: 'new-key', key: pseudoRandom(32, 52) });
const PLAIN = pseudoRandom(3 * MIN_PART + 17, 53);

for (const backend of BACKENDS) {
  describe(`rewrapObject (${backend})`, () => {
    const setup = async (storeOpts: Parameters<typeof smallMemoryStore>[0] = {}) => {
      const store = smallMemoryStore(storeOpts);
      const writer = encryptedBucket(store, { recipients: [K1], keys: [K1], backend, partSize: MIN_PART, multipartThreshold: MIN_PART });
      await writer.putObject('doc', PLAIN, { metadata: { owner: 'ana' } });
      return { store, writer, as: (keys: typeof K1[]) => encryptedBucket(store, { keys, backend }) };
    };

    it('with store.copy: no payload byte through the client, old key refused, payload unchanged', async () => {
      const { store, writer, as } = await setup();
      const before = store.peek('doc')!;
      store.resetStats();
      const r = await writer.rewrapObject('doc', { add: [K2], remove: ['old-key'] });
      expect(r).toEqual({ method: 'copy', recipients: [{ type: 'aes256-gcm', keyId: 'new-key' }] });
      expect(store.stats.byOperation.copy).toBe(1);
      expect(store.stats.byOperation.put + store.stats.byOperation.uploadPart).toBe(0);
      expect(store.stats.bytesOut).toBeLessThan(8 * 1024); // the header GET only, of a ~200 KiB object
      expectBytes(store.peek('doc')!, before, 'stored body unchanged by a server-side rewrap');

      const got = await as([K2]).getObject('doc');
      expect(got.headerSource).toBe('metadata');
      expect(got.metadata).toEqual({ owner: 'ana' });
      expectBytes(await collect(got.body), PLAIN);
      const ranged = await as([K2]).getObject('doc', { range: { start: CHUNK_SIZE + 1, end: 3 * CHUNK_SIZE } });
      expectBytes(await collect(ranged.body), PLAIN.slice(CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 1));
      await expectCode(as([K1]).getObject('doc'), 'ERR_NO_KEY');
      await expectCode(as([K1]).getObject('doc', { range: { start: 0, end: 5 } }), 'ERR_NO_KEY');
      const head = await as([K2]).headObject('doc');
      expect(head.recipients.map((x) => x.keyId)).toEqual(['new-key']);
      expect(head.headerSource).toBe('metadata');
      // Rotating again works from the metadata header.
      const K3 = aesKey({ id: 'third', key: pseudoRandom(32, 54) });
      await as([K2]).rewrapObject('doc', { add: [K3], remove: ['new-key'] });
      expectBytes(await collect((await as([K3]).getObject('doc')).body), PLAIN);
      await expectCode(as([K2]).getObject('doc'), 'ERR_NO_KEY');
    });

    it('without store.copy: a verified streamed rewrite; the old stanza is gone from the stored bytes', async () => {
      const { store, writer, as } = await setup({ copy: false });
      const before = store.peek('doc')!;
      const oldHeader = inspect(before).headerLength;
      const r = await writer.rewrapObject('doc', { add: [K2], remove: ['old-key'] });
      expect(r.method).toBe('stream');
      const after = store.peek('doc')!;
      const newHeader = inspect(after).headerLength;
      expectBytes(after.subarray(newHeader), before.subarray(oldHeader), 'payload bytes unchanged');
      expect(inspect(after).recipients.map((x) => x.keyId)).toEqual(['new-key']);
      await expectCode(decrypt(after, { keys: [K1] }), 'ERR_NO_KEY');
      expectBytes(await decrypt(after, { keys: [K2] }), PLAIN);
      const got = await as([K2]).getObject('doc');
      expect(got.headerSource).toBe('body');
      expect(got.metadata).toEqual({ owner: 'ana' });
      expectBytes(await collect(got.body), PLAIN);
      await expectCode(as([K1]).getObject('doc'), 'ERR_NO_KEY');
      expect(store.pendingUploads()).toHaveLength(0);
    });

    it('a header over the metadata budget falls back to the stream, or is refused with method "copy"', async () => {
      const { store } = await setup();
      const tight = encryptedBucket(store, { keys: [K1], backend, maxMetadataBytes: 120 });
      await expectCode(tight.rewrapObject('doc', { add: [K2], method: 'copy' }), 'ERR_UNSUPPORTED');
      const r = await tight.rewrapObject('doc', { add: [K2] });
      expect(r.method).toBe('stream');
      expectBytes(await collect((await encryptedBucket(store, { keys: [K2], backend }).getObject('doc')).body), PLAIN);
    });

    it('a streamed rewrite of a damaged object fails and leaves the object as it was', async () => {
      const { store, writer } = await setup({ copy: false });
      const raw = store.peek('doc')!;
      const bad = raw.slice();
      bad[bad.length - 3]! ^= 1; // the final chunk
      await store.put('doc', bad, { metadata: (await store.head('doc')).metadata });
      await expectCode(writer.rewrapObject('doc', { add: [K2] }), 'ERR_AUTH');
      expectBytes(store.peek('doc')!, bad, 'not replaced');
      expect(store.pendingUploads()).toHaveLength(0);
    });

    describe('forged metadata headers', () => {
      const plantHeader = async (store: ReturnType<typeof smallMemoryStore>, header: Uint8Array) => {
        const md = { ...(await store.head('doc')).metadata, [METADATA_HEADER]: toBase64(header) };
        await store.copy!('doc', 'doc', { metadata: md });
      };

      it('MAC invalid: ignored, the body header is used', async () => {
        const { store, as } = await setup();
        const body = store.peek('doc')!;
        const genuine = await rewrap(body, { keys: [K1], add: [K2], backend });
        const forged = genuine.slice();
        forged[forged.length - 1]! ^= 0x80;
        await plantHeader(store, forged);
        const got = await as([K1]).getObject('doc');
        expect(got.headerSource).toBe('body');
        expectBytes(await collect(got.body), PLAIN);
        await expectCode(as([K2]).getObject('doc'), 'ERR_NO_KEY'); // K2 is only in the forged header
      });

      it('bound part differing: ignored', async () => {
        const { store, as } = await setup();
        // A genuine header of another object (another context) that K2 can open.
        const other = await encrypt(new Uint8Array(1), { recipients: [K2], context: { [OBJECT_KEY_CONTEXT]: 'doc', extra: 'x' }, backend });
        await plantHeader(store, other.subarray(0, inspect(other).headerLength));
        const got = await as([K1]).getObject('doc');
        expect(got.headerSource).toBe('body');
        expectBytes(await collect(got.body), PLAIN);
        await expectCode(as([K2]).getObject('doc'), 'ERR_NO_KEY');
      });

      it('same bound part, MAC valid under another data key (a recipient forging): the commitment check refuses it', async () => {
        const { store, as } = await setup();
        const other = await encrypt(new Uint8Array(1), { recipients: [K1, K2], context: { [OBJECT_KEY_CONTEXT]: 'doc' }, backend });
        await plantHeader(store, other.subarray(0, inspect(other).headerLength));
        const got = await as([K1]).getObject('doc');
        expect(got.headerSource).toBe('body');
        expectBytes(await collect(got.body), PLAIN);
        const ranged = await as([K1]).getObject('doc', { range: { start: 5, end: 9 } });
        expect(ranged.headerSource).toBe('body');
        expectBytes(await collect(ranged.body), PLAIN.slice(5, 10));
        await expectCode(as([K2]).getObject('doc'), 'ERR_NO_KEY');
      });

      it('garbage: ignored', async () => {
        const { store, as } = await setup();
        await plantHeader(store, pseudoRandom(300, 1));
        expectBytes(await collect((await as([K1]).getObject('doc')).body), PLAIN);
      });
    });
  });
}
