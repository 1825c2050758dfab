/**
 * rotate / rotateStream: a fresh data key and salt (the stanzas and the payload salt differ), the
 * same plaintext, the context carried over, the old keys no longer needed, and a removed
 * recipient locked out — even one who kept the old data key, which is exactly what `rewrap`
 * cannot do (shown side by side).
 */
import { describe, expect, it } from 'vitest';
import {
  aesKey,
  decrypt,
  decryptRange,
  encrypt,
  inspect,
  rewrap,
  rotate,
  rotateStream,
  type KeyProvider,
} from '../src/index.js';
import * as chunked from '../src/chunked.js';
import { concat } from '../src/bytes.js';
import { liveKeyCount } from '../src/backends/live-keys.js';
import { decodeHeader } from '../src/format/header.js';
import { BACKENDS, caught, expectCode, pipeBytes, pseudoRandom } from './helpers.js';

const CHUNK = 16384;
const PRE = 56;
const k = (id: string, seed: number) => aesKey({ id, key: pseudoRandom(32, seed) });
const alice = k('alice', 1);
const bob = k('bob', 2);
const carol = k('carol', 3);
const dave = k('dave', 4);
const plaintext = pseudoRandom(3 * CHUNK + 777, 10);
const context = { bucket: 'photos', object: 'cat.jpg' };

/** A provider that behaves like `inner` and keeps a copy of every data key it unwraps. */
function hoarding(inner: KeyProvider): KeyProvider & { kept: Uint8Array[] } {
  const kept: Uint8Array[] = [];
  return {
    kept,
    description: `hoarding ${inner.description ?? ''}`,
    wrap: (dataKey, ctx) => inner.wrap(dataKey, ctx),
    async unwrap(stanza, ctx) {
      const dk = await inner.unwrap(stanza, ctx);
      if (dk !== null) kept.push(dk.slice());
      return dk;
    },
  };
}

/** Opens an object's payload with a raw data key (what a recipient who kept it can do). */
function openWithDataKey(object: Uint8Array, dataKey: Uint8Array, backend: (typeof BACKENDS)[number]): Promise<Uint8Array> {
  const h = decodeHeader(object);
  return chunked.open(dataKey, object.subarray(h.length), { context: h.bound, backend });
}

const salt = (object: Uint8Array) => object.slice(inspect(object).headerLength, inspect(object).headerLength + 24);
const wrappedKeys = (object: Uint8Array) => inspect(object).recipients.map((r) => r.keyId);

for (const backend of BACKENDS) {
  describe(`rotate / ${backend}`, () => {
    it('a new data key and salt, the same plaintext and context; only the new recipients can decrypt', async () => {
      const object = await encrypt(plaintext, { recipients: [alice, bob], context, backend });
      const rotated = await rotate(object, { keys: [alice], recipients: [carol, dave], context: { bucket: 'photos' }, backend });
      expect(await decrypt(rotated, { keys: [carol], context, backend })).toEqual(plaintext);
      expect(await decrypt(rotated, { keys: [dave], backend })).toEqual(plaintext);
      expect(inspect(rotated).context).toEqual(context); // carried over whole, not just the expected subset
      expect(wrappedKeys(rotated)).toEqual(['carol', 'dave']);
      expect(salt(rotated)).not.toEqual(salt(object));
      // the old keys are not needed any more, and open nothing
      const old = await expectCode(decrypt(rotated, { keys: [alice, bob], backend }), 'ERR_NO_KEY');
      expect(old.errors).toHaveLength(0); // no stanza of theirs is left
      const source = { size: rotated.length, read: async (o: number, n: number) => rotated.slice(o, o + n) };
      expect(await decryptRange(source, { start: CHUNK - 2, end: CHUNK + 2 }, { keys: [dave], backend })).toEqual(plaintext.slice(CHUNK - 2, CHUNK + 3));
    });

    it('the data key changes: the old one opens the old payload but not the rotated one; rewrap cannot do that', async () => {
      const bobKeeps = hoarding(bob);
      const object = await encrypt(plaintext, { recipients: [alice, bob], context, backend });
      expect(await decrypt(object, { keys: [bobKeeps], backend })).toEqual(plaintext);
      const bobsDataKey = bobKeeps.kept[0]!;
      expect(await openWithDataKey(object, bobsDataKey, backend)).toEqual(plaintext);

      // rewrap "removes" bob, but the payload and its data key are unchanged: bob still reads it,
      // and could forge a new payload for this header (the data key is all that is needed).
      const header = await rewrap(object, { keys: [alice], remove: ['bob'], backend });
      const rewrapped = concat(header, object.subarray(inspect(object).headerLength));
      await expectCode(decrypt(rewrapped, { keys: [bob], backend }), 'ERR_NO_KEY');
      expect(await openWithDataKey(rewrapped, bobsDataKey, backend)).toEqual(plaintext);
      const h = decodeHeader(rewrapped);
      const forgedPayload = await chunked.seal(bobsDataKey, new TextEncoder().encode('forged by bob'), { context: h.bound, backend });
      const forged = concat(rewrapped.subarray(0, h.length), forgedPayload);
      expect(new TextDecoder().decode(await decrypt(forged, { keys: [alice], backend }))).toBe('forged by bob');

      // rotate: a fresh data key; bob's copy opens nothing
      const rotated = await rotate(object, { keys: [alice], recipients: [alice], backend });
      expect(await decrypt(rotated, { keys: [alice], context, backend })).toEqual(plaintext);
      await expectCode(decrypt(rotated, { keys: [bob], backend }), 'ERR_NO_KEY');
      await expectCode(openWithDataKey(rotated, bobsDataKey, backend), 'ERR_AUTH'); // the commitment does not match
      const aliceKeeps = hoarding(alice);
      await decrypt(rotated, { keys: [aliceKeeps], backend });
      expect(aliceKeeps.kept[0]).not.toEqual(bobsDataKey);
      // and bob cannot forge for the rotated header either: the header mac fails
      const hr = decodeHeader(rotated);
      const forgedPayload2 = await chunked.seal(bobsDataKey, new TextEncoder().encode('forged again'), { context: hr.bound, backend });
      await expectCode(decrypt(concat(rotated.subarray(0, hr.length), forgedPayload2), { keys: [alice], backend }), 'ERR_AUTH');
    });

    it('the stanzas differ even for the same recipient (a new wrap of a new key)', async () => {
      const object = await encrypt(plaintext, { recipients: [alice], backend });
      const rotated = await rotate(object, { keys: [alice], recipients: [alice], backend });
      expect(wrappedKeys(rotated)).toEqual(['alice']);
      expect(decodeHeader(rotated).recipients[0]!.wrapped).not.toEqual(decodeHeader(object).recipients[0]!.wrapped);
      expect(decodeHeader(rotated).mac).not.toEqual(decodeHeader(object).mac);
      expect(rotated.subarray(inspect(rotated).headerLength + PRE)).not.toEqual(object.subarray(inspect(object).headerLength + PRE));
      expect(await decrypt(rotated, { keys: [alice], backend })).toEqual(plaintext);
    });

    it('checks like decrypt: expected context, keys, a tampered or truncated object; nothing is returned then', async () => {
      const object = await encrypt(plaintext, { recipients: [alice], context, backend });
      await expectCode(rotate(object, { keys: [alice], recipients: [bob], context: { bucket: 'other' }, backend }), 'ERR_CONTEXT');
      await expectCode(rotate(object, { keys: [bob], recipients: [carol], backend }), 'ERR_NO_KEY');
      const bad = object.slice();
      bad[inspect(object).headerLength + PRE + CHUNK + 16 + 40]! ^= 1;
      expect((await expectCode(rotate(bad, { keys: [alice], recipients: [bob], backend }), 'ERR_AUTH')).chunk).toBe(1);
      await expectCode(rotate(object.subarray(0, object.length - 1), { keys: [alice], recipients: [bob], backend }), 'ERR_AUTH');
      await expectCode(rotate(object.subarray(0, inspect(object).headerLength + PRE), { keys: [alice], recipients: [bob], backend }), 'ERR_TRUNCATED');
      await expect(rotate(object, { keys: [alice], recipients: [], backend })).rejects.toThrow(TypeError);
      await expect(rotate(object, { keys: [], recipients: [bob], backend })).rejects.toThrow(TypeError);
      await expect(rotate('x' as never, { keys: [alice], recipients: [bob], backend })).rejects.toThrow(TypeError);
    });

    it('rotate disposes every key it created (success and failure)', async () => {
      const object = await encrypt(plaintext, { recipients: [alice], backend });
      const before = liveKeyCount();
      await rotate(object, { keys: [alice], recipients: [bob], backend });
      await caught(rotate(object.subarray(0, object.length - 3), { keys: [alice], recipients: [bob], backend }));
      expect(liveKeyCount()).toBe(before);
    });

    it('rotateStream: the same rotation as a stream, in small and large writes', async () => {
      const object = await encrypt(plaintext, { recipients: [alice, bob], context, backend });
      for (const sizes of [[1000], [7, 16400, 3], [object.length]]) {
        const { output, error } = await pipeBytes(rotateStream({ keys: [bob], recipients: [carol], context, backend }), object, sizes);
        expect(error).toBeUndefined();
        expect(inspect(output).context).toEqual(context);
        expect(wrappedKeys(output)).toEqual(['carol']);
        expect(salt(output)).not.toEqual(salt(object));
        expect(await decrypt(output, { keys: [carol], context, backend })).toEqual(plaintext);
        await expectCode(decrypt(output, { keys: [alice, bob], backend }), 'ERR_NO_KEY');
      }
    });

    it('rotateStream: a tampered or truncated input errors the stream; its partial output never decrypts', async () => {
      const object = await encrypt(plaintext, { recipients: [alice], backend });
      const bad = object.slice();
      bad[inspect(object).headerLength + PRE + 2 * (CHUNK + 16) + 5]! ^= 1;
      for (const [input, code] of [[bad, 'ERR_AUTH'], [object.subarray(0, object.length - 1), 'ERR_AUTH'], [object.subarray(0, inspect(object).headerLength + PRE + 2 * (CHUNK + 16)), 'ERR_TRUNCATED']] as const) {
        const before = liveKeyCount();
        const { output, error } = await pipeBytes(rotateStream({ keys: [alice], recipients: [bob], backend }), input, [5000]);
        expect(error).toMatchObject({ code });
        expect(await caught(decrypt(output, { keys: [bob], backend }))).toMatchObject({ code: 'ERR_TRUNCATED' });
        for (let i = 0; i < 100 && liveKeyCount() !== before; i++) await new Promise((r) => setTimeout(r, 5));
        expect(liveKeyCount()).toBe(before);
      }
    });

    it('rotateStream: cancelling disposes both sides\' keys', async () => {
      const object = await encrypt(plaintext, { recipients: [alice], backend });
      const before = liveKeyCount();
      const ts = rotateStream({ keys: [alice], recipients: [bob], backend });
      const reader = ts.readable.getReader();
      const writer = ts.writable.getWriter();
      const reading = (async () => {
        for (;;) if ((await reader.read()).done) return;
      })();
      await writer.write(object.subarray(0, inspect(object).headerLength + PRE + 2 * (CHUNK + 16)));
      expect(liveKeyCount()).toBeGreaterThanOrEqual(before + 2); // the old payload's key and the new one
      await reader.cancel(new Error('stop'));
      await reading;
      for (let i = 0; i < 100 && liveKeyCount() !== before; i++) await new Promise((r) => setTimeout(r, 5));
      expect(liveKeyCount()).toBe(before);
    });
  });
}
