/**
 * rewrap: recipients change, the payload bytes do not; removed recipients stop working; the new
 * header is authenticated like any other.
 */
import { describe, expect, it } from 'vitest';
import { aesKey, decrypt, decryptRange, encrypt, inspect, rewrap, type KeyProvider } from '../src/index.js';
import { concat } from '../src/bytes.js';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';

const k = (id: string, seed: number) => aesKey({ id, key: pseudoRandom(32, seed) });
const alice = k('alice', 1);
const bob = k('bob', 2);
const carol = k('carol', 3);
const plaintext = pseudoRandom(40000, 9);

/** Splices a new header in front of the old payload. */
function replaceHeader(object: Uint8Array, header: Uint8Array): Uint8Array {
  return concat(header, object.subarray(inspect(object).headerLength));
}

for (const backend of BACKENDS) {
  describe(`rewrap / ${backend}`, () => {
    it('adds and removes recipients without touching the payload', async () => {
      const object = await encrypt(plaintext, { recipients: [alice, bob], context: { app: 'r' }, backend });
      const oldLength = inspect(object).headerLength;
      const header = await rewrap(object, { keys: [alice], add: [carol], remove: ['bob'], backend });
      const rotated = replaceHeader(object, header);
      expect(rotated.subarray(header.length)).toEqual(object.subarray(oldLength)); // payload bytes identical
      expect(inspect(rotated).recipients.map((r) => r.keyId)).toEqual(['alice', 'carol']);
      expect(inspect(rotated).context).toEqual({ app: 'r' });
      expect(await decrypt(rotated, { keys: [carol], backend })).toEqual(plaintext);
      expect(await decrypt(rotated, { keys: [alice], context: { app: 'r' }, backend })).toEqual(plaintext);
      const gone = await expectCode(decrypt(rotated, { keys: [bob], backend }), 'ERR_NO_KEY');
      expect(gone.errors).toHaveLength(0); // bob's stanza is no longer there at all
      const source = { size: rotated.length, read: async (o: number, n: number) => rotated.slice(o, o + n) };
      expect(await decryptRange(source, { start: 20000, end: 20010 }, { keys: [carol], backend })).toEqual(plaintext.slice(20000, 20011));
    });

    it('accepts a header alone, and a predicate for removal', async () => {
      const object = await encrypt(plaintext, { recipients: [alice, bob], backend });
      const onlyHeader = object.subarray(0, inspect(object).headerLength);
      const header = await rewrap(onlyHeader, { keys: [bob], remove: (s) => s.keyId === 'alice', backend });
      const rotated = replaceHeader(object, header);
      expect(inspect(rotated).recipients.map((r) => r.keyId)).toEqual(['bob']);
      await expectCode(decrypt(rotated, { keys: [alice], backend }), 'ERR_NO_KEY');
      expect(await decrypt(rotated, { keys: [bob], backend })).toEqual(plaintext);
    });

    it('needs a key that unwraps, the expected context, and at least one remaining recipient', async () => {
      const object = await encrypt(plaintext, { recipients: [alice], context: { t: '1' }, backend });
      await expectCode(rewrap(object, { keys: [bob], add: [carol], backend }), 'ERR_NO_KEY');
      await expectCode(rewrap(object, { keys: [alice], add: [carol], context: { t: '2' }, backend }), 'ERR_CONTEXT');
      await expect(rewrap(object, { keys: [alice], remove: ['alice'], backend })).rejects.toThrow(RangeError);
      await expect(rewrap(object, { keys: [alice], remove: 'alice' as never, backend })).rejects.toThrow(TypeError);
    });

    it('the rewritten header is authenticated: editing it after rewrap fails', async () => {
      const object = await encrypt(plaintext, { recipients: [alice], backend });
      const header = await rewrap(object, { keys: [alice], add: [bob], backend });
      const rotated = replaceHeader(object, header);
      const bobAt = inspect(rotated).headerLength - 32 - 60 - 2 - 1 - 3; // inside bob's key id
      const tampered = rotated.slice();
      tampered[bobAt] = (tampered[bobAt] as number) ^ 1;
      await expectCode(decrypt(tampered, { keys: [alice], backend }), 'ERR_AUTH'); // header MAC
    });

    it('a header with another data key cannot be spliced onto the payload', async () => {
      const object = await encrypt(plaintext, { recipients: [alice], backend });
      const other = await encrypt(plaintext, { recipients: [alice], backend });
      const spliced = replaceHeader(object, other.subarray(0, inspect(other).headerLength));
      const err = await expectCode(decrypt(spliced, { keys: [alice], backend }), 'ERR_AUTH');
      expect(err.chunk).toBeUndefined(); // the commitment, before any chunk
    });
  });
}

it('rewrap calls only wrap on added providers (never generateDataKey)', async () => {
  const calls: string[] = [];
  const spy: KeyProvider = {
    description: 'spy',
    async generateDataKey() {
      calls.push('generate');
      throw new Error('must not be called');
    },
    async wrap(dataKey, ctx) {
      calls.push('wrap');
      return alice.wrap(dataKey, ctx);
    },
    unwrap: async () => null,
  };
  const object = await encrypt(plaintext, { recipients: [bob] });
  await rewrap(object, { keys: [bob], add: [spy] });
  expect(calls).toEqual(['wrap']);
});
