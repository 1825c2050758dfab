/**
 * PKCS#11 provider against SoftHSM2 with a private token directory: round trips for each
 * mechanism, non-extractable master keys, wrong PIN, missing keys and tokens, corrupted stanzas,
 * serialized concurrent use, and mixing with `aesKey`.
 *
 * SoftHSM2 is required: when it is missing these tests fail at once (they never skip) with the
 * install command; `npm test` installs it first when run as root (test/provision.mjs).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, EnsealError, getBackend, inspect, type Stanza, type WrapContext } from '../src/index.js';
import { pkcs11Key, PKCS11_AES_GCM_STANZA, PKCS11_AES_KWP_STANZA, PKCS11_RSA_OAEP_SHA1_STANZA, type Pkcs11KeyOptions, type Pkcs11KeyProvider, type Pkcs11Mechanism } from '../src/pkcs11.js';
import { decodeHeader } from '../src/format/header.js';
import { loadPkcs11js } from '../src/pkcs11/load.js';
import { BACKENDS, expectCode, pseudoRandom } from './helpers.js';
import { SOFTHSM_MODULE, softHsmMissing } from './softhsm.mjs';

const MODULE = SOFTHSM_MODULE;
const TOKEN = 'enseal-test';
const PIN = '1234';
const text = new TextEncoder().encode('keys that never leave the token');

const { CKA_CLASS, CKA_KEY_TYPE, CKA_LABEL, CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_VALUE, CKA_VALUE_LEN } = pkcs11js;
const { CKA_WRAP, CKA_UNWRAP, CKA_ENCRYPT, CKA_DECRYPT, CKA_MODULUS_BITS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT } = pkcs11js;

let dir = '';
let lib: InstanceType<typeof pkcs11js.PKCS11>;
let session: Buffer;
const open: Pkcs11KeyProvider[] = [];

/** A provider for the test token, closed after the suite. */
async function hsm(mechanism: Pkcs11Mechanism, keyLabel: string, extra: Partial<Pkcs11KeyOptions> = {}): Promise<Pkcs11KeyProvider> {
  const p = await pkcs11Key({ module: MODULE, tokenLabel: TOKEN, pin: PIN, keyLabel, mechanism, ...extra });
  open.push(p);
  return p;
}

function aesMaster(label: string): Buffer {
  return lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
    { type: CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: CKA_VALUE_LEN, value: 32 },
    { type: CKA_LABEL, value: label },
    { type: CKA_TOKEN, value: true },
    { type: CKA_PRIVATE, value: true },
    { type: CKA_SENSITIVE, value: true },
    { type: CKA_EXTRACTABLE, value: false },
    { type: CKA_WRAP, value: true },
    { type: CKA_UNWRAP, value: true },
    { type: CKA_ENCRYPT, value: true },
    { type: CKA_DECRYPT, value: true },
  ]);
}

function find(cls: number, label: string): Buffer[] {
  lib.C_FindObjectsInit(session, [{ type: CKA_CLASS, value: cls }, { type: CKA_LABEL, value: label }]);
  try {
    return lib.C_FindObjects(session, 10);
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}

it('SoftHSM2 is installed (npm test installs it as root; these tests never skip)', () => {
  expect(softHsmMissing()).toBeUndefined();
});

describe('pkcs11 against SoftHSM2', () => {
  beforeAll(() => {
    const missing = softHsmMissing();
    if (missing !== undefined) throw new Error(missing);
    dir = mkdtempSync(join(tmpdir(), 'enseal-softhsm-'));
    mkdirSync(join(dir, 'tokens'));
    const conf = join(dir, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    // SoftHSM reads its configuration in C_Initialize: set it before any module is initialised.
    process.env.SOFTHSM2_CONF = conf;
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', TOKEN, '--pin', PIN, '--so-pin', '5678'], { stdio: 'pipe', env: process.env });

    // The test's own handle on the module: it initialises Cryptoki first, so providers share it.
    lib = new pkcs11js.PKCS11();
    lib.load(MODULE);
    lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === TOKEN);
    if (slot === undefined) throw new Error('the SoftHSM token was not created');
    session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    lib.C_Login(session, pkcs11js.CKU_USER, PIN);
    aesMaster('aes-master');
    aesMaster('second-master');
    aesMaster('doomed');
    aesMaster('twin');
    aesMaster('twin');
    lib.C_GenerateKeyPair(
      session,
      { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
      [
        { type: CKA_LABEL, value: 'rsa-master' },
        { type: CKA_TOKEN, value: true },
        { type: CKA_MODULUS_BITS, value: 2048 },
        { type: CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
        { type: CKA_ENCRYPT, value: true },
        { type: CKA_WRAP, value: true },
      ],
      [
        { type: CKA_LABEL, value: 'rsa-master' },
        { type: CKA_TOKEN, value: true },
        { type: CKA_PRIVATE, value: true },
        { type: CKA_SENSITIVE, value: true },
        { type: CKA_EXTRACTABLE, value: false },
        { type: CKA_DECRYPT, value: true },
        { type: CKA_UNWRAP, value: true },
      ],
    );
    // Log out so that the providers' own logins (and a wrong PIN) are really checked.
    lib.C_Logout(session);
  }, 60_000);

  afterAll(async () => {
    for (const p of open) await p.close();
    if (lib !== undefined) {
      try {
        lib.C_CloseSession(session);
        lib.C_Finalize();
        lib.close();
      } catch {
        // best effort
      }
    }
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  describe('pkcs11: configuration errors', () => {
    // First: before any provider has logged the application in (PKCS#11 login is per application).
    it('a wrong PIN is ERR_KMS_DENIED naming CKR_PIN_INCORRECT, without the PIN', async () => {
      const err = await expectCode(pkcs11Key({ module: MODULE, tokenLabel: TOKEN, pin: '98765', keyLabel: 'aes-master', mechanism: 'aes-gcm' }), 'ERR_KMS_DENIED');
      expect(err.message).toMatch(/login to token "enseal-test" failed: CKR_PIN_INCORRECT/);
      expect(err.message).not.toContain('98765');
      expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain('98765');
    });

    it('a missing key label is ERR_KMS_NOT_FOUND (label escaped); an ambiguous one ERR_KMS_DENIED; a missing token ERR_KMS_UNAVAILABLE', async () => {
      const missing = await expectCode(hsm('aes-key-wrap-pad', 'no-such-key'), 'ERR_KMS_NOT_FOUND');
      expect(missing.message).toBe('no AES key labelled "no-such-key" on token "enseal-test"');
      const escaped = await expectCode(hsm('aes-gcm', 'no\u001b[31m\u202ekey'), 'ERR_KMS_NOT_FOUND');
      expect(escaped.message).toBe('no AES key labelled "no\\x1b[31m\\u202ekey" on token "enseal-test"');
      const rsa = await expectCode(hsm('rsa-oaep', 'aes-master'), 'ERR_KMS_NOT_FOUND'); // an AES key is not an RSA key
      expect(rsa.message).toMatch(/no RSA key labelled "aes-master"/);
      const twin = await expectCode(hsm('aes-gcm', 'twin'), 'ERR_KMS_DENIED');
      expect(twin.message).toMatch(/more than one key labelled "twin"/);
      const token = await expectCode(pkcs11Key({ module: MODULE, tokenLabel: 'nope', pin: PIN, keyLabel: 'aes-master', mechanism: 'aes-gcm' }), 'ERR_KMS_UNAVAILABLE');
      expect(token.message).toMatch(/no token labelled "nope"/);
    });

    it('an unloadable module or a missing pkcs11js is ERR_UNSUPPORTED; bad options are TypeErrors', async () => {
      const mod = await expectCode(pkcs11Key({ module: join(dir, 'missing.so'), tokenLabel: TOKEN, pin: PIN, keyLabel: 'k', mechanism: 'aes-gcm' }), 'ERR_UNSUPPORTED');
      expect(mod.message).toMatch(/cannot load the PKCS#11 module/);
      const peer = await expectCode(loadPkcs11js('pkcs11js-is-not-installed'), 'ERR_UNSUPPORTED');
      expect(peer.message).toMatch(/npm install pkcs11js/);
      expect(typeof (await loadPkcs11js()).PKCS11).toBe('function');
      await expect(pkcs11Key({ module: MODULE, tokenLabel: TOKEN, pin: '', keyLabel: 'k', mechanism: 'aes-gcm' })).rejects.toThrow(TypeError);
      await expect(pkcs11Key({ module: MODULE, tokenLabel: TOKEN, pin: PIN, keyLabel: 'k', mechanism: 'des' as never })).rejects.toThrow(TypeError);
      await expect(pkcs11Key(undefined as never)).rejects.toThrow(TypeError);
    });

    it('the root entry never imports pkcs11js; only src/pkcs11/load.ts loads it at run time', () => {
      const src = new URL('../src/', import.meta.url);
      const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => f.replaceAll('\\', '/'));
      expect(files).toContain('pkcs11/load.ts');
      for (const f of files) {
        const code = readFileSync(new URL(f, src), 'utf8');
        const inSubpath = f === 'pkcs11.ts' || f.startsWith('pkcs11/');
        if (!inSubpath) expect(code, f).not.toMatch(/pkcs11js|from '\.\.?\/pkcs11/);
        // Elsewhere in the subpath, pkcs11js is only a type import (erased at compile time).
        else if (f !== 'pkcs11/load.ts') expect(code.match(/^import .*'pkcs11js'/gm) ?? [], f).toEqual((code.match(/^import type .*'pkcs11js'/gm) ?? []));
      }
    });
  });

  describe('pkcs11: master keys', () => {
    it('are not extractable: reading CKA_VALUE / the private exponent fails', () => {
      // Login is per application: the providers above may have left it logged in.
      try {
        lib.C_Login(session, pkcs11js.CKU_USER, PIN);
      } catch (e) {
        expect(String(e)).toMatch(/CKR_USER_ALREADY_LOGGED_IN/);
      }
      const [aes] = find(pkcs11js.CKO_SECRET_KEY, 'aes-master');
      expect(aes).toBeDefined();
      expect(() => lib.C_GetAttributeValue(session, aes!, [{ type: CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
      expect(lib.C_GetAttributeValue(session, aes!, [{ type: CKA_EXTRACTABLE }])[0]!.value).toEqual(Buffer.from([0]));
      const [rsa] = find(pkcs11js.CKO_PRIVATE_KEY, 'rsa-master');
      expect(rsa).toBeDefined();
      expect(() => lib.C_GetAttributeValue(session, rsa!, [{ type: CKA_PRIVATE_EXPONENT }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    });
  });

  const MECHANISMS: [Pkcs11Mechanism, string, string, number][] = [
    ['aes-key-wrap-pad', 'aes-master', PKCS11_AES_KWP_STANZA, 40],
    ['aes-gcm', 'aes-master', PKCS11_AES_GCM_STANZA, 60],
    ['rsa-oaep', 'rsa-master', PKCS11_RSA_OAEP_SHA1_STANZA, 256],
  ];

  describe('pkcs11: wrapping on the token', () => {
    for (const [mechanism, label, type, length] of MECHANISMS) {
      for (const backend of BACKENDS) {
        it(`${mechanism}: round trip through encrypt/decrypt (${backend})`, async () => {
          const key = await hsm(mechanism, label);
          expect(key.stanzaType).toBe(type);
          const ct = await encrypt(text, { recipients: [key], context: { k: 'v' }, backend });
          const [r] = inspect(ct).recipients;
          expect(r).toEqual({ type, keyId: `${TOKEN}/${label}`, params: {}, wrappedKeyLength: length });
          expect(await decrypt(ct, { keys: [key], backend })).toEqual(text);
        });
      }

      it(`${mechanism}: a corrupted stanza is ERR_AUTH, a truncated one ERR_HEADER`, async () => {
        const key = await hsm(mechanism, label);
        const ctx: WrapContext = { aad: new Uint8Array([1, 2, 3]), encryptionContext: {}, backend: getBackend() };
        const s = await key.wrap(pseudoRandom(32, 5), ctx);
        expect(s.wrapped.length).toBe(length);
        expect(await key.unwrap(s, ctx)).toEqual(pseudoRandom(32, 5));
        for (const at of [0, Math.floor(length / 2), length - 1]) {
          const bad = s.wrapped.slice();
          bad[at]! ^= 0x40;
          const err = await expectCode(key.unwrap({ ...s, wrapped: bad }, ctx), 'ERR_AUTH');
          expect(err.message, `byte ${at}`).toMatch(/PKCS#11 .* failed: CKR_/);
        }
        await expectCode(key.unwrap({ ...s, wrapped: s.wrapped.subarray(1) }, ctx), 'ERR_HEADER');
        await expectCode(key.unwrap({ ...s, params: { x: '1' } }, ctx), 'ERR_HEADER');
        expect(await key.unwrap({ ...s, keyId: 'other/key' }, ctx)).toBeNull();
        // Through decrypt: one ERR_NO_KEY whose cause is the ERR_AUTH.
        const ct = await encrypt(text, { recipients: [key] });
        const h = inspect(ct).headerLength;
        const tampered = ct.slice();
        tampered[h - 32 - 10]! ^= 1; // inside the wrapped key (the stanza ends right before the mac)
        const err = await expectCode(decrypt(tampered, { keys: [key] }), 'ERR_NO_KEY');
        expect((err.errors[0] as EnsealError).code).toBe('ERR_AUTH');
      });
    }

    it('aes-gcm binds the header (AAD); kwp and rsa-oaep rely on the header MAC', async () => {
      const gcm = await hsm('aes-gcm', 'aes-master');
      const kwp = await hsm('aes-key-wrap-pad', 'aes-master');
      const ctx: WrapContext = { aad: new Uint8Array([1]), encryptionContext: {}, backend: getBackend() };
      const moved = { ...ctx, aad: new Uint8Array([2]) };
      await expectCode(gcm.unwrap(await gcm.wrap(pseudoRandom(32, 6), ctx), moved), 'ERR_AUTH');
      expect(await kwp.unwrap(await kwp.wrap(pseudoRandom(32, 6), ctx), moved)).toEqual(pseudoRandom(32, 6));
      // A kwp stanza moved into another object unwraps, but to the wrong data key: the header MAC fails.
      const a = await encrypt(text, { recipients: [kwp], context: { object: 'a' } });
      const b = await encrypt(text, { recipients: [kwp], context: { object: 'b' } });
      const stanzaOfA = decodeHeader(a).recipients[0] as Stanza;
      const forged = await encrypt(text, { recipients: [{ description: 'copy', wrap: async () => stanzaOfA, unwrap: async () => null }], context: { object: 'b' } });
      expect(await decrypt(b, { keys: [kwp] })).toEqual(text);
      await expectCode(decrypt(forged, { keys: [kwp] }), 'ERR_AUTH');
    });

    it('serializes concurrent use of one provider (one session, one operation at a time)', async () => {
      const key = await hsm('aes-gcm', 'aes-master');
      const cts = await Promise.all(Array.from({ length: 16 }, (_, i) => encrypt(pseudoRandom(100, i + 1), { recipients: [key] })));
      const pts = await Promise.all(cts.map((ct) => decrypt(ct, { keys: [key] })));
      pts.forEach((pt, i) => expect(pt).toEqual(pseudoRandom(100, i + 1)));
    });

    it('mixes with aesKey and another mechanism: each recipient alone decrypts', async () => {
      const kwp = await hsm('aes-key-wrap-pad', 'aes-master');
      const rsa = await hsm('rsa-oaep', 'rsa-master');
      const alice = aesKey({ id: 'alice', key: pseudoRandom(32, 1) });
      const ct = await encrypt(text, { recipients: [kwp, alice, rsa] });
      expect(inspect(ct).recipients.map((r) => r.type)).toEqual([PKCS11_AES_KWP_STANZA, 'aes256-gcm', PKCS11_RSA_OAEP_SHA1_STANZA]);
      expect(await decrypt(ct, { keys: [kwp] })).toEqual(text);
      expect(await decrypt(ct, { keys: [alice] })).toEqual(text);
      expect(await decrypt(ct, { keys: [rsa] })).toEqual(text);
      const other = await hsm('aes-gcm', 'aes-master'); // same key, another mechanism: not its stanzas
      const none = await expectCode(decrypt(ct, { keys: [other] }), 'ERR_NO_KEY');
      expect(none.errors).toHaveLength(0);
    });

    it('a key deleted from the token is an ERR_KMS_NOT_FOUND cause of ERR_NO_KEY', async () => {
      const key = await hsm('aes-key-wrap-pad', 'doomed');
      const ct = await encrypt(text, { recipients: [key] });
      // The provider's login is the application's: the test session can now see and delete the key.
      const [doomed] = find(pkcs11js.CKO_SECRET_KEY, 'doomed');
      lib.C_DestroyObject(session, doomed!);
      const err = await expectCode(decrypt(ct, { keys: [key] }), 'ERR_NO_KEY');
      const cause = err.errors[0] as EnsealError;
      expect(cause.code, cause.message).toBe('ERR_KMS_NOT_FOUND');
      expect(cause.message).toMatch(/CKR_\w*HANDLE_INVALID/);
    });

    for (const mechanism of ['aes-key-wrap-pad', 'aes-gcm'] as const) {
      it(`${mechanism}: strict — only stanzas of its own key id, always its own key handle; forged params change nothing`, async () => {
        const mine = await hsm(mechanism, 'aes-master');
        const other = await hsm(mechanism, 'second-master');
        const ctx: WrapContext = { aad: new Uint8Array([9]), encryptionContext: {}, backend: getBackend() };
        const own = await mine.wrap(pseudoRandom(32, 31), ctx);
        const foreign = await other.wrap(pseudoRandom(32, 32), ctx);
        expect([own.keyId, foreign.keyId]).toEqual([`${TOKEN}/aes-master`, `${TOKEN}/second-master`]);
        // Another key's stanza: not mine, whatever its params name.
        const forgedParams: Record<string, string>[] = [{}, { keyLabel: 'aes-master' }, { id: `${TOKEN}/aes-master`, requested: 'aes-master' }];
        for (const params of forgedParams) {
          expect(await mine.unwrap({ ...foreign, params }, ctx), JSON.stringify(params)).toBeNull();
        }
        // Its own wrapped bytes under another key id: still not mine (the key id alone selects).
        expect(await mine.unwrap({ ...own, keyId: `${TOKEN}/second-master` }, ctx)).toBeNull();
        expect(await mine.unwrap({ ...own, keyId: 'other-token/aes-master' }, ctx)).toBeNull();
        // Another key's bytes under its key id: its own handle is used, so the token refuses them.
        await expectCode(mine.unwrap({ ...foreign, keyId: own.keyId }, ctx), 'ERR_AUTH');
        // Its own stanza with a forged param: malformed, refused before the token sees it.
        await expectCode(mine.unwrap({ ...own, params: { keyLabel: 'second-master' } }, ctx), 'ERR_HEADER');
        expect(await mine.unwrap(own, ctx)).toEqual(pseudoRandom(32, 31));
        // Through decrypt: the other key's object is ERR_NO_KEY without a cause.
        const ofOther = await encrypt(text, { recipients: [other] });
        expect((await expectCode(decrypt(ofOther, { keys: [mine] }), 'ERR_NO_KEY')).errors).toHaveLength(0);
        expect(await decrypt(ofOther, { keys: [mine, other] })).toEqual(text);
      });
    }

    it('close(): later calls are ERR_STATE; other providers of the module keep working', async () => {
      const a = await hsm('aes-gcm', 'aes-master');
      const b = await hsm('aes-gcm', 'aes-master');
      const ct = await encrypt(text, { recipients: [a] });
      await a.close();
      await a.close();
      await expectCode(encrypt(text, { recipients: [a] }), 'ERR_STATE');
      const err = await expectCode(decrypt(ct, { keys: [a] }), 'ERR_NO_KEY');
      expect((err.errors[0] as EnsealError).code).toBe('ERR_STATE');
      expect(await decrypt(ct, { keys: [b] })).toEqual(text);
    });
  });
});
