/**
 * Several recipients: for every pair of provider kinds, an object encrypted for both decrypts
 * with either key alone; rewrap removes one (payload bytes identical, the removed key stops
 * working) and adds it back.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, inspect, kms, passphrase, rewrap, rsaKey, type KeyProvider, type Stanza } from '../src/index.js';
import { LocalKms } from '../src/kms-local.js';
import { pkcs11Key, type Pkcs11KeyProvider } from '../src/pkcs11.js';
import { concat } from '../src/bytes.js';
import { createSoftHsmToken, createTokenAesKey, SOFTHSM_MODULE } from './softhsm.mjs';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';

interface Kind {
  /** The provider, and which stanzas are its own (for removal). */
  provider: KeyProvider;
  owns: (s: Stanza) => boolean;
}

const dir = mkdtempSync(join(tmpdir(), 'enseal-matrix-'));
const kinds = new Map<string, Kind>();
let hsm: Pkcs11KeyProvider;

beforeAll(async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const store = await LocalKms.open(join(dir, 'kms.json'), { create: true });
  const { id } = await store.createKey({ alias: 'matrix' });
  createSoftHsmToken(dir, 'matrix', '1234');
  createTokenAesKey(SOFTHSM_MODULE, 'matrix', '1234', 'kek');
  hsm = await pkcs11Key({ module: SOFTHSM_MODULE, tokenLabel: 'matrix', pin: '1234', keyLabel: 'kek', mechanism: 'aes-gcm' });
  const byType = (type: string) => (s: Stanza) => s.type === type;
  kinds.set('aes256-gcm', { provider: aesKey({ id: 'gcm', key: pseudoRandom(32, 1) }), owns: byType('aes256-gcm') });
  kinds.set('aes256-kw', { provider: aesKey({ id: 'kw', key: pseudoRandom(32, 2), wrap: 'aes256-kw' }), owns: byType('aes256-kw') });
  kinds.set('aes256-kwp', { provider: aesKey({ id: 'kwp', key: pseudoRandom(32, 3), wrap: 'aes256-kwp' }), owns: byType('aes256-kwp') });
  kinds.set('rsa-oaep-sha256', { provider: rsaKey({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }), owns: byType('rsa-oaep-sha256') });
  kinds.set('passphrase', {
    provider: passphrase({ passphrase: 'pair me', kdf: 'argon2id', params: { memoryKiB: 64, iterations: 1, parallelism: 1 } }),
    owns: byType('passphrase'),
  });
  kinds.set('kms-local', { provider: kms({ client: store, keyId: id }), owns: byType('kms-local') });
  kinds.set('pkcs11-aes-gcm', { provider: hsm, owns: byType('pkcs11-aes-gcm') });
});

afterAll(async () => {
  await hsm?.close();
  rmSync(dir, { recursive: true, force: true });
});

const NAMES = ['aes256-gcm', 'aes256-kw', 'aes256-kwp', 'rsa-oaep-sha256', 'passphrase', 'kms-local', 'pkcs11-aes-gcm'];
const pairs: [string, string][] = [];
for (let i = 0; i < NAMES.length; i++) for (let j = i + 1; j < NAMES.length; j++) pairs.push([NAMES[i]!, NAMES[j]!]);
const plaintext = pseudoRandom(20000, 5);

it('covers every pair of the 7 provider kinds', () => expect(pairs).toHaveLength(21));

for (const backend of BACKENDS) {
  describe(`recipient pairs / ${backend}`, () => {
    for (const [a, b] of pairs) {
      it(`${a} + ${b}`, async () => {
        const A = kinds.get(a)!;
        const B = kinds.get(b)!;
        const object = await encrypt(plaintext, { recipients: [A.provider, B.provider], context: { pair: `${a}+${b}` }, backend });
        expect(inspect(object).recipients.map((r) => r.type)).toEqual([a, b]);
        expect(await decrypt(object, { keys: [A.provider], backend })).toEqual(plaintext);
        expect(await decrypt(object, { keys: [B.provider], backend })).toEqual(plaintext);

        // Rewrap: drop B; the payload is reused byte for byte and B no longer unwraps anything.
        const payload = object.subarray(inspect(object).headerLength);
        const withoutB = concat(await rewrap(object, { keys: [A.provider], remove: B.owns, backend }), payload);
        expect(withoutB.subarray(withoutB.length - payload.length)).toEqual(payload);
        await expectCode(decrypt(withoutB, { keys: [B.provider], backend }), 'ERR_NO_KEY');
        expect(await decrypt(withoutB, { keys: [A.provider], backend })).toEqual(plaintext);

        // ... and B can be added back by A's holder.
        const again = concat(await rewrap(withoutB, { keys: [A.provider], add: [B.provider], backend }), payload);
        expect(await decrypt(again, { keys: [B.provider], backend })).toEqual(plaintext);
      });
    }
  });
}
