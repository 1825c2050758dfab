/**
 * Several recipients: for every pair of provider kinds, an object encrypted for both decrypts
 * with either key alone; rewrap removes one (payload bytes identical, the removed key stops
 * working) and adds it back.
 *
 * Only the pairs with `pkcs11-aes-gcm` need SoftHSM2: its token and provider are made on first
 * use, so without SoftHSM2 those pairs fail at once with the install command and every other
 * pair still runs.
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
import { createSoftHsmToken, createTokenAesKey, findSoftHsmModule } from './softhsm.mjs';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';

interface Kind {
  /** The provider, and which stanzas are its own (for removal). */
  provider: KeyProvider;
  owns: (s: Stanza) => boolean;
}

const dir = mkdtempSync(join(tmpdir(), 'enseal-matrix-'));
const kinds = new Map<string, Kind>();
const HSM_KIND = 'pkcs11-aes-gcm';
let hsm: Promise<Pkcs11KeyProvider> | undefined;

/** The SoftHSM2-backed provider, created on first use (a failure is kept: later pairs fail at once too). */
function hsmProvider(): Promise<Pkcs11KeyProvider> {
  hsm ??= (async () => {
    createSoftHsmToken(dir, 'matrix', '1234'); // throws the install command when SoftHSM2 is missing
    const module = findSoftHsmModule();
    createTokenAesKey(module, 'matrix', '1234', 'kek');
    return pkcs11Key({ module, tokenLabel: 'matrix', pin: '1234', keyLabel: 'kek', mechanism: 'aes-gcm' });
  })();
  return hsm;
}

async function kind(name: string): Promise<Kind> {
  if (name === HSM_KIND) return { provider: await hsmProvider(), owns: (s) => s.type === HSM_KIND };
  const k = kinds.get(name);
  if (k === undefined) throw new Error(`unknown provider kind ${name}`);
  return k;
}

beforeAll(async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const store = await LocalKms.open(join(dir, 'kms.json'), { create: true });
  const { id } = await store.createKey({ alias: 'matrix' });
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
});

afterAll(async () => {
  await hsm?.then((p) => p.close(), () => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const NAMES = ['aes256-gcm', 'aes256-kw', 'aes256-kwp', 'rsa-oaep-sha256', 'passphrase', 'kms-local', HSM_KIND];
const pairs: [string, string][] = [];
for (let i = 0; i < NAMES.length; i++) for (let j = i + 1; j < NAMES.length; j++) pairs.push([NAMES[i]!, NAMES[j]!]);
const plaintext = pseudoRandom(20000, 5);

it('covers every pair of the 7 provider kinds', () => expect(pairs).toHaveLength(21));

for (const backend of BACKENDS) {
  describe(`recipient pairs / ${backend}`, () => {
    for (const [a, b] of pairs) {
      it(`${a} + ${b}`, async () => {
        const A = await kind(a);
        const B = await kind(b);
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
