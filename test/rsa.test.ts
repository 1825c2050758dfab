/**
 * RSA: the backends' RSA primitives (key import in every format, RSA-OAEP against Wycheproof on
 * both backends, raw RSA on node), PKCS#1 v1.5 decryption with implicit rejection
 * (draft-kario-rsa-guidance: OpenSSL's known answers, Wycheproof, and an independent
 * straightforward re-implementation as oracle), and the rsaKey provider through
 * encrypt/decrypt: sizes, key formats, key ids, failures, legacy stanza types, mixed recipients.
 */
import {
  constants,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  webcrypto,
  type KeyObject,
} from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName, CryptoBackend, RsaKey, RsaKeyInput } from '../src/backends/backend.js';
import { getBackend } from '../src/backends/select.js';
import { decodeHeader } from '../src/format/header.js';
import { RSA_OAEP_SHA1_STANZA, RSA_OAEP_SHA256_STANZA, RSA_PKCS1_STANZA, rsaKey } from '../src/keys/rsa.js';
import { implicitRejectionPrf, pkcs1v15UnpadImplicit, rsaesPkcs1v15DecryptImplicit } from '../src/keys/rsa-pkcs1.js';
import { EnsealError, aesKey, decrypt, encrypt, inspect, type KeyProvider, type Stanza } from '../src/index.js';
import { atOddOffset, BACKENDS, caught, expectCode, hex, pseudoRandom, toHex, vector } from './helpers.js';

const subtle = webcrypto.subtle as unknown as SubtleCrypto;
const text = new TextEncoder().encode('rsa recipients');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// ---------------------------------------------------------------------------------------------
// Vectors

interface OaepTest { tcId: number; comment: string; flags: string[]; msg: string; ct: string; label: string; result: 'valid' | 'invalid' | 'acceptable' }
interface OaepGroup { keySize: number; sha: string; mgfSha: string; privateKeyPkcs8: string; privateKeyPem: string; privateKeyJwk: JsonWebKey; tests: OaepTest[] }
interface Pkcs1Test { tcId: number; comment: string; flags: string[]; msg: string; ct: string; result: 'valid' | 'invalid' }
interface Pkcs1Group { keySize: number; privateKeyPem: string; tests: Pkcs1Test[] }
interface IrVectors { keys: Record<string, string>; tests: { key: string; comment: string; result: 'valid' | 'invalid'; ct: string; msg: string }[] }

const OAEP_FILES = [
  'rsa_oaep_2048_sha256_mgf1sha256_test.json',
  'rsa_oaep_2048_sha1_mgf1sha1_test.json',
  'rsa_oaep_3072_sha256_mgf1sha256_test.json',
  'rsa_oaep_misc_test.filtered.json',
] as const;
const oaep = Object.fromEntries(OAEP_FILES.map((f) => [f, vector(`wycheproof/${f}`).testGroups as OaepGroup[]])) as Record<(typeof OAEP_FILES)[number], OaepGroup[]>;
const PKCS1_FILES = ['rsa_pkcs1_2048_test.json', 'rsa_pkcs1_3072_test.json'] as const;
const pkcs1 = Object.fromEntries(PKCS1_FILES.map((f) => [f, vector(`wycheproof/${f}`).testGroups as Pkcs1Group[]])) as Record<(typeof PKCS1_FILES)[number], Pkcs1Group[]>;
const ir = vector<IrVectors>('rsa-implicit-rejection.json');

/** Padding failures (implicit rejection applies) vs publicly invalid ciphertexts (rejected). */
const publiclyInvalid = (t: Pkcs1Test, k: number): boolean => t.ct.length === 0 || t.ct.length / 2 > k || t.comment === 'c = n';

it('vector files hold the expected counts', () => {
  const tests = (f: (typeof OAEP_FILES)[number]) => oaep[f].flatMap((g) => g.tests);
  expect(OAEP_FILES.map((f) => tests(f).length)).toEqual([37, 36, 37, 46]);
  expect(OAEP_FILES.map((f) => tests(f).filter((t) => t.result === 'invalid').length)).toEqual([19, 19, 19, 0]);
  expect(tests('rsa_oaep_misc_test.filtered.json').filter((t) => t.result === 'acceptable')).toHaveLength(2);
  expect(oaep['rsa_oaep_misc_test.filtered.json'].every((g) => g.sha === g.mgfSha && ['SHA-1', 'SHA-256'].includes(g.sha))).toBe(true);
  for (const f of PKCS1_FILES) {
    const ts = pkcs1[f].flatMap((g) => g.tests);
    expect(ts).toHaveLength(67);
    expect(ts.filter((t) => t.result === 'invalid').length).toBe(f.includes('2048') ? 25 : 26);
  }
  expect(ir.tests).toHaveLength(26);
  expect(ir.tests.filter((t) => t.result === 'valid')).toHaveLength(7);
});

// ---------------------------------------------------------------------------------------------
// Keys and key formats (generated once; 4096 once for the whole file)

interface Pair { priv: KeyObject; pub: KeyObject; bits: number }
const pairs = new Map<string, Pair>();
function pair(name: string, bits: number): Pair {
  let p = pairs.get(name);
  if (p === undefined) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    p = { priv: privateKey, pub: publicKey, bits };
    pairs.set(name, p);
  }
  return p;
}
const spkiDer = (p: Pair): Uint8Array => new Uint8Array(p.pub.export({ type: 'spki', format: 'der' }));
/** The default key id, computed independently: sha256: + 32 hex digits of SHA-256(SPKI DER). */
const expectedId = (p: Pair): string => `sha256:${createHash('sha256').update(spkiDer(p)).digest('hex').slice(0, 32)}`;

type Format = 'PEM SPKI/PKCS#8' | 'PEM PKCS#1' | 'DER SPKI/PKCS#8' | 'JWK' | 'CryptoKey';
const FORMATS: readonly Format[] = ['PEM SPKI/PKCS#8', 'PEM PKCS#1', 'DER SPKI/PKCS#8', 'JWK', 'CryptoKey'];

async function material(p: Pair, f: Format): Promise<{ publicKey: RsaKeyInput; privateKey: RsaKeyInput }> {
  switch (f) {
    case 'PEM SPKI/PKCS#8':
      return { publicKey: p.pub.export({ type: 'spki', format: 'pem' }) as string, privateKey: p.priv.export({ type: 'pkcs8', format: 'pem' }) as string };
    case 'PEM PKCS#1':
      return { publicKey: p.pub.export({ type: 'pkcs1', format: 'pem' }) as string, privateKey: p.priv.export({ type: 'pkcs1', format: 'pem' }) as string };
    case 'DER SPKI/PKCS#8':
      return { publicKey: atOddOffset(spkiDer(p)), privateKey: atOddOffset(new Uint8Array(p.priv.export({ type: 'pkcs8', format: 'der' }))) };
    case 'JWK':
      return { publicKey: p.pub.export({ format: 'jwk' }) as JsonWebKey, privateKey: p.priv.export({ format: 'jwk' }) as JsonWebKey };
    case 'CryptoKey': {
      const alg = { name: 'RSA-OAEP', hash: 'SHA-256' };
      return {
        publicKey: await subtle.importKey('spki', spkiDer(p) as Uint8Array<ArrayBuffer>, alg, true, ['encrypt']),
        privateKey: await subtle.importKey('pkcs8', new Uint8Array(p.priv.export({ type: 'pkcs8', format: 'der' })), alg, true, ['decrypt']),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// An independent, deliberately plain implementation of draft-kario-rsa-guidance's decryption
// (node:crypto HMAC/SHA-256, raw RSA through node:crypto, no constant-time care): the oracle.

function oracleDecrypt(priv: KeyObject, ct: Uint8Array, expectedLength?: number): string {
  const jwk = priv.export({ format: 'jwk' });
  const n = Buffer.from(jwk.n!, 'base64url');
  const k = n[0] === 0 ? n.length - 1 : n.length;
  const padded = Buffer.alloc(k);
  padded.set(ct, k - ct.length);
  const em = privateDecrypt({ key: priv, padding: constants.RSA_NO_PADDING }, padded);
  const d = Buffer.from(jwk.d!, 'base64url');
  const dk = Buffer.concat([Buffer.alloc(k - d.length), d]);
  const kdk = createHmac('sha256', createHash('sha256').update(dk).digest()).update(padded).digest();
  const prf = (label: string, bits: number): Buffer => {
    const parts: Buffer[] = [];
    for (let i = 0; 32 * i < bits / 8; i++) {
      parts.push(createHmac('sha256', kdk).update(Buffer.from([i >> 8, i & 255])).update(label).update(Buffer.from([bits >> 8, bits & 255])).digest());
    }
    return Buffer.concat(parts).subarray(0, bits / 8);
  };
  const sep = em.indexOf(0, 2);
  const msg = em[0] === 0 && em[1] === 2 && sep >= 10 ? em.subarray(sep + 1) : undefined;
  if (msg !== undefined && (expectedLength === undefined || msg.length === expectedLength)) return msg.toString('hex');
  const synthetic = prf('message', 8 * k);
  const lengths = prf('length', 2048);
  const max = k - 10;
  const mask = 2 ** max.toString(2).length - 1;
  let len = 0;
  for (let i = 0; i < 256; i += 2) {
    const c = lengths.readUInt16BE(i) & mask;
    if (c < max) len = c; // the last candidate below k − 10
  }
  if (expectedLength !== undefined) len = expectedLength;
  return synthetic.subarray(k - len).toString('hex');
}

/** What a decoder without any rejection would take from EM: everything after the first 00. */
function lenientDecode(priv: KeyObject, ct: Uint8Array, k: number): string | undefined {
  const padded = Buffer.alloc(k);
  padded.set(ct, k - ct.length);
  const em = privateDecrypt({ key: priv, padding: constants.RSA_NO_PADDING }, padded);
  const sep = em.indexOf(0, 1);
  return sep < 0 ? undefined : em.subarray(sep + 1).toString('hex');
}

// ---------------------------------------------------------------------------------------------

function oaepSuite(name: BackendName): void {
  const b = (): CryptoBackend => getBackend(name);
  const imported = new Map<OaepGroup, Promise<RsaKey[]>>();
  /** The group's key imported three ways: PKCS#8 DER, PKCS#8 PEM, JWK. */
  const keysOf = (g: OaepGroup): Promise<RsaKey[]> => {
    let p = imported.get(g);
    if (p === undefined) {
      p = Promise.all([b().importRsaKey(hex(g.privateKeyPkcs8), 'private'), b().importRsaKey(g.privateKeyPem, 'private'), b().importRsaKey(g.privateKeyJwk, 'private')]);
      imported.set(g, p);
    }
    return p;
  };

  for (const file of OAEP_FILES) {
    describe(`Wycheproof ${file} / ${name}`, () => {
      for (const g of oaep[file]) {
        const hash = g.sha as 'SHA-1' | 'SHA-256';
        for (const t of g.tests) {
          it(`${g.keySize}-bit ${g.sha} tc${t.tcId} ${t.result} [${t.flags.join(',')}] ${t.comment}`, async () => {
            const keys = await keysOf(g);
            expect(keys.map((k) => k.modulusLengthInBits)).toEqual([g.keySize, g.keySize, g.keySize]);
            const key = keys[t.tcId % 3]!;
            if (t.result === 'invalid') {
              const e = await expectCode(b().rsaOaepDecrypt(key, hash, hex(t.ct), hex(t.label)), 'ERR_AUTH');
              expect(e.message).toBe('RSA-OAEP decryption failed');
              return;
            }
            // valid, and "acceptable" (em is a small integer): both backends decrypt them.
            expect(toHex(await b().rsaOaepDecrypt(key, hash, atOddOffset(hex(t.ct)), atOddOffset(hex(t.label))))).toBe(t.msg);
            const again = await b().rsaOaepEncrypt(key, hash, hex(t.msg), hex(t.label));
            expect(again).toHaveLength(Math.ceil(g.keySize / 8));
            expect(toHex(await b().rsaOaepDecrypt(key, hash, again, hex(t.label)))).toBe(t.msg);
          });
        }
      }
    });
  }
}

function pkcs1Suite(name: BackendName): void {
  const b = (): CryptoBackend => getBackend(name);

  if (name === 'webcrypto') {
    describe('PKCS#1 v1.5 / webcrypto', () => {
      it('has no raw RSA: PKCS#1 v1.5 decryption is ERR_UNSUPPORTED, never a wrong answer', async () => {
        const g = pkcs1['rsa_pkcs1_2048_test.json'][0]!;
        const key = await b().importRsaKey(g.privateKeyPem, 'private');
        const e = await expectCode(rsaesPkcs1v15DecryptImplicit(b(), key, hex(g.tests[0]!.ct)), 'ERR_UNSUPPORTED');
        expect(e.message).toMatch(/raw RSA/);
        await expectCode(b().rsaRawDecrypt(key, hex(g.tests[0]!.ct)), 'ERR_UNSUPPORTED');
        await expectCode(b().rsaImplicitRejectionKey(key), 'ERR_UNSUPPORTED');
      });
    });
    return;
  }

  describe('implicit rejection known answers (OpenSSL evppkey_rsa_common.txt) / node', () => {
    for (const t of ir.tests) {
      it(`${t.key} ${t.result}: ${t.comment}`, async () => {
        const key = await b().importRsaKey(ir.keys[t.key]!, 'private');
        const out = await rsaesPkcs1v15DecryptImplicit(b(), key, hex(t.ct));
        expect(toHex(out)).toBe(t.msg);
        expect(toHex(out)).toBe(oracleDecrypt(createPrivateKey(ir.keys[t.key]!), hex(t.ct)));
      });
    }
  });

  for (const file of PKCS1_FILES) {
    describe(`Wycheproof ${file} (implicit rejection) / node`, () => {
      const outputs = new Map<number, string>();
      for (const g of pkcs1[file]) {
        const k = g.keySize / 8;
        for (const t of g.tests) {
          const tag = `tc${t.tcId} ${t.result} [${t.flags.join(',')}] ${t.comment}`;
          it(tag, async () => {
            const key = await b().importRsaKey(g.privateKeyPem, 'private');
            const ct = hex(t.ct);
            if (t.result === 'valid') {
              expect(toHex(await rsaesPkcs1v15DecryptImplicit(b(), key, atOddOffset(ct)))).toBe(t.msg);
              return;
            }
            if (publiclyInvalid(t, k)) {
              const e = await expectCode(rsaesPkcs1v15DecryptImplicit(b(), key, ct), 'ERR_AUTH');
              expect(e.message).toBe('RSA decryption failed (ciphertext out of range)');
              return;
            }
            // Bad padding: no error, a deterministic synthetic message instead.
            const out = toHex(await rsaesPkcs1v15DecryptImplicit(b(), key, ct));
            expect(toHex(await rsaesPkcs1v15DecryptImplicit(b(), key, ct.slice()))).toBe(out); // deterministic
            const priv = createPrivateKey(g.privateKeyPem);
            expect(out).toBe(oracleDecrypt(priv, ct));
            expect(out).not.toBe(t.msg);
            expect(out).not.toBe(lenientDecode(priv, ct, k));
            expect(out.length / 2).toBeLessThanOrEqual(k - 11);
            // Fixed-length mode (what the rsa-pkcs1 stanza uses): always 32 bytes, also synthetic.
            const fixed = toHex(await rsaesPkcs1v15DecryptImplicit(b(), key, ct, 32));
            expect(fixed).toHaveLength(64);
            expect(fixed).toBe(oracleDecrypt(priv, ct, 32));
            outputs.set(t.tcId, out);
          });
        }
      }
      it('different invalid ciphertexts give different synthetic messages', () => {
        expect(outputs.size).toBeGreaterThanOrEqual(20);
        expect(new Set(outputs.values()).size).toBe(outputs.size);
      });
    });
  }

  describe('implicit rejection building blocks / node', () => {
    it('a valid message of the wrong length is rejected implicitly in fixed-length mode', async () => {
      const g = pkcs1['rsa_pkcs1_2048_test.json'][0]!;
      const key = await b().importRsaKey(g.privateKeyPem, 'private');
      const t = g.tests.find((x) => x.result === 'valid' && x.msg.length !== 64)!;
      const out = await rsaesPkcs1v15DecryptImplicit(b(), key, hex(t.ct), 32);
      expect(out).toHaveLength(32);
      expect(toHex(out)).toBe(oracleDecrypt(createPrivateKey(g.privateKeyPem), hex(t.ct), 32));
      const real = publicEncrypt({ key: createPublicKey(g.privateKeyPem), padding: constants.RSA_PKCS1_PADDING }, pseudoRandom(32, 4));
      expect(toHex(await rsaesPkcs1v15DecryptImplicit(b(), key, real, 32))).toBe(toHex(pseudoRandom(32, 4)));
    });

    it('unpadding: every EM byte pattern of a small message decodes or falls back to the synthetic message', async () => {
      const kdk = pseudoRandom(32, 1);
      const k = 32;
      const good = new Uint8Array(k);
      good.set([0, 2, 1, 2, 3, 4, 5, 6, 7, 8, 0], 0);
      good.set(utf8('hello, pkcs1 v1.5 pad'), 11);
      expect(new TextDecoder().decode(await pkcs1v15UnpadImplicit(b(), good, kdk))).toBe('hello, pkcs1 v1.5 pad');
      const synthetic = await implicitRejectionPrf(b(), kdk, utf8('message'), 8 * k);
      for (const [at, v] of [[0, 1], [1, 1], [1, 0], [5, 0], [9, 0], [10, 1]] as const) {
        const bad = good.slice();
        bad[at] = v;
        const out = await pkcs1v15UnpadImplicit(b(), bad, kdk);
        expect(toHex(out), `EM[${at}] = ${v}`).toBe(toHex(synthetic.subarray(k - out.length)));
        expect(out.length).toBeLessThanOrEqual(k - 11);
      }
      const empty = good.slice();
      empty.fill(9, 10); // separator missing: PS runs to the end
      empty[k - 1] = 0; // a zero as the last byte is a valid empty message
      expect(await pkcs1v15UnpadImplicit(b(), empty, kdk)).toHaveLength(0);
      await expect(pkcs1v15UnpadImplicit(b(), new Uint8Array(10), kdk)).rejects.toThrow(RangeError);
      await expect(pkcs1v15UnpadImplicit(b(), good, new Uint8Array(31))).rejects.toThrow(RangeError);
      await expect(pkcs1v15UnpadImplicit(b(), good, kdk, k - 10)).rejects.toThrow(RangeError);
      await expect(implicitRejectionPrf(b(), kdk, utf8('x'), 7)).rejects.toThrow(RangeError);
    });

    it('rsaRawDecrypt is RSADP left-padded to k; publicly invalid inputs are one ERR_AUTH', async () => {
      const p = pair('raw', 2048);
      const key = await b().importRsaKey(p.priv.export({ type: 'pkcs8', format: 'pem' }) as string, 'private');
      const m = new Uint8Array(256);
      m[200] = 1; // a small integer: most of I2OSP(m, k) is leading zeros
      const c = publicEncrypt({ key: p.pub, padding: constants.RSA_NO_PADDING }, m);
      expect(toHex(await b().rsaRawDecrypt(key, c))).toBe(toHex(m));
      const one = await b().rsaRawDecrypt(key, Uint8Array.of(1)); // c = 1 → m = 1, as a 1-byte ciphertext
      expect(one).toHaveLength(256);
      expect(toHex(one)).toBe('00'.repeat(255) + '01');
      const n = Buffer.from(p.pub.export({ format: 'jwk' }).n!, 'base64url');
      for (const bad of [new Uint8Array(0), new Uint8Array(257), n]) {
        const e = await expectCode(b().rsaRawDecrypt(key, bad), 'ERR_AUTH');
        expect(e.message).toBe('RSA decryption failed (ciphertext out of range)');
      }
      const d = Buffer.from(p.priv.export({ format: 'jwk' }).d!, 'base64url');
      const dk = Buffer.concat([Buffer.alloc(256 - d.length), d]);
      expect(toHex(await b().rsaImplicitRejectionKey(key))).toBe(createHash('sha256').update(dk).digest('hex'));
    });
  });
}

function importSuite(name: BackendName): void {
  const b = (): CryptoBackend => getBackend(name);

  describe(`RSA key import / ${name}`, () => {
    it('every format yields the same key: same SPKI, same size, and they interoperate', async () => {
      const p = pair('a2048', 2048);
      const want = toHex(spkiDer(p));
      for (const f of FORMATS) {
        const m = await material(p, f);
        const pub = await b().importRsaKey(m.publicKey, 'public');
        const priv = await b().importRsaKey(m.privateKey, 'private');
        const derived = await b().importRsaKey(m.privateKey, 'public');
        for (const k of [pub, priv, derived]) {
          expect(k.modulusLengthInBits, f).toBe(2048);
          expect(k.backend).toBe(name);
          expect(toHex(await b().exportRsaSpki(k)), f).toBe(want);
        }
        expect([pub.type, priv.type, derived.type]).toEqual(['public', 'private', 'public']);
        const ct = await b().rsaOaepEncrypt(pub, 'SHA-256', text, utf8('L'));
        expect(toHex(privateDecrypt({ key: p.priv, oaepHash: 'sha256', oaepLabel: utf8('L') }, ct))).toBe(toHex(text)); // node:crypto agrees
        const ct1 = publicEncrypt({ key: p.pub, oaepHash: 'sha1' }, text);
        expect(toHex(await b().rsaOaepDecrypt(priv, 'SHA-1', ct1))).toBe(toHex(text));
      }
    });

    it('inputs are not mutated', async () => {
      const p = pair('a2048', 2048);
      const der = atOddOffset(new Uint8Array(p.priv.export({ type: 'pkcs8', format: 'der' })));
      const before = toHex(new Uint8Array(der.buffer));
      const key = await b().importRsaKey(der, 'private');
      const pt = atOddOffset(pseudoRandom(32, 3));
      const ptBefore = toHex(new Uint8Array(pt.buffer));
      const ct = await b().rsaOaepEncrypt(key, 'SHA-256', pt);
      await b().rsaOaepDecrypt(key, 'SHA-256', ct);
      expect(toHex(new Uint8Array(der.buffer))).toBe(before);
      expect(toHex(new Uint8Array(pt.buffer))).toBe(ptBefore);
    });

    it('misuse is a TypeError: garbage, wrong PEM labels, public material as private, other key types, foreign handles', async () => {
      const p = pair('a2048', 2048);
      const pem = p.priv.export({ type: 'pkcs8', format: 'pem' }) as string;
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pss = generateKeyPairSync('rsa-pss', { modulusLength: 1024 });
      const bad: [RsaKeyInput, 'public' | 'private', string][] = [
        ['not a key', 'private', 'plain string'],
        [pem.replace(/PRIVATE KEY/g, 'EC PRIVATE KEY'), 'private', 'EC label'],
        [pem.slice(0, 200), 'private', 'truncated PEM'],
        [p.priv.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'x' }) as string, 'private', 'encrypted PEM'],
        [new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), 'private', 'garbage DER'],
        [p.pub.export({ type: 'spki', format: 'pem' }) as string, 'private', 'public PEM as private'],
        [spkiDer(p), 'private', 'SPKI DER as private'],
        [p.pub.export({ format: 'jwk' }) as JsonWebKey, 'private', 'public JWK as private'],
        [ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'private', 'EC key'],
        [ec.publicKey.export({ format: 'jwk' }) as JsonWebKey, 'public', 'EC JWK'],
        [pss.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'private', 'RSA-PSS key'],
        [42 as never, 'public', 'number'],
      ];
      for (const [input, type, what] of bad) {
        const e = await caught(b().importRsaKey(input, type));
        expect(e, what).toBeInstanceOf(TypeError);
        expect(String(e)).not.toContain(pem.slice(40, 80)); // never echoes key material
      }
      await expect(b().importRsaKey(pem, 'secret' as never)).rejects.toThrow(TypeError);
      const other = getBackend(name === 'node' ? 'webcrypto' : 'node');
      const foreign = await other.importRsaKey(pem, 'private');
      await expect(b().rsaOaepDecrypt(foreign, 'SHA-256', new Uint8Array(256))).rejects.toThrow(TypeError);
      const pub = await b().importRsaKey(pem, 'public');
      await expect(b().rsaOaepDecrypt(pub, 'SHA-256', new Uint8Array(256))).rejects.toThrow(TypeError);
      await expect(b().rsaOaepEncrypt(pub, 'SHA-512' as never, text)).rejects.toThrow(TypeError);
      const priv = await b().importRsaKey(pem, 'private');
      await expect(b().rsaOaepDecrypt(priv, 'SHA-512' as never, new Uint8Array(256))).rejects.toThrow(TypeError);
    });

    it('RSA-OAEP length limits: k − 2·hLen − 2 bytes encrypt, one more is a RangeError', async () => {
      const key = await b().importRsaKey(pair('a2048', 2048).pub.export({ type: 'spki', format: 'pem' }) as string, 'public');
      for (const [hash, max] of [['SHA-256', 190], ['SHA-1', 214]] as const) {
        expect(await b().rsaOaepEncrypt(key, hash, new Uint8Array(max))).toHaveLength(256);
        await expect(b().rsaOaepEncrypt(key, hash, new Uint8Array(max + 1))).rejects.toThrow(RangeError);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The rsaKey provider

/** A test-only writer of legacy stanzas (enseal never writes them). */
function legacyWriter(type: typeof RSA_OAEP_SHA1_STANZA | typeof RSA_PKCS1_STANZA, pub: KeyObject, id: string, payload?: Uint8Array): KeyProvider {
  return {
    description: `legacy:${type}`,
    async wrap(dataKey) {
      const m = payload ?? dataKey;
      const wrapped =
        type === RSA_PKCS1_STANZA ? publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, m) : publicEncrypt({ key: pub, oaepHash: 'sha1' }, m);
      return { type, keyId: id, params: {}, wrapped: new Uint8Array(wrapped) };
    },
    async unwrap() {
      return null;
    },
  };
}

function providerSuite(name: BackendName): void {
  const backend = name;
  const b = (): CryptoBackend => getBackend(name);

  describe(`rsaKey through encrypt/decrypt / ${name}`, () => {
    beforeAll(() => {
      pair('a2048', 2048);
      pair('b2048', 2048);
      pair('c3072', 3072);
      pair('e1024', 1024);
    });

    for (const [keyName, bits] of [['a2048', 2048], ['c3072', 3072]] as const) {
      for (const f of FORMATS) {
        it(`${bits}-bit, ${f}: round trip with the derived key id`, async () => {
          const p = pair(keyName, bits);
          const m = await material(p, f);
          const enc = rsaKey({ publicKey: m.publicKey });
          const dec = rsaKey({ privateKey: m.privateKey });
          expect(await enc.keyId(backend)).toBe(expectedId(p));
          expect(await dec.keyId(backend)).toBe(expectedId(p));
          const ct = await encrypt(text, { recipients: [enc], context: { f }, backend });
          const [r] = inspect(ct).recipients;
          expect(r).toEqual({ type: RSA_OAEP_SHA256_STANZA, keyId: expectedId(p), params: {}, wrappedKeyLength: bits / 8 });
          expect(await decrypt(ct, { keys: [dec], context: { f }, backend })).toEqual(text);
          expect(await decrypt(ct, { keys: [rsaKey({ publicKey: m.publicKey, privateKey: m.privateKey })], backend })).toEqual(text);
          // A private-only provider can encrypt too (public key derived).
          expect(await decrypt(await encrypt(text, { recipients: [dec], backend }), { keys: [dec], backend })).toEqual(text);
        });
      }
    }

    it('4096-bit key (generated once): round trip, and the other backend reads what this one wrote', async () => {
      const p = pair('d4096', 4096);
      const pem = p.priv.export({ type: 'pkcs1', format: 'pem' }) as string;
      const k = rsaKey({ privateKey: pem });
      const ct = await encrypt(pseudoRandom(20000, 5), { recipients: [k], backend });
      expect(inspect(ct).recipients[0]!.wrappedKeyLength).toBe(512);
      expect(await decrypt(ct, { keys: [k], backend })).toEqual(pseudoRandom(20000, 5));
      expect(await decrypt(ct, { keys: [k], backend: name === 'node' ? 'webcrypto' : 'node' })).toEqual(pseudoRandom(20000, 5));
    });

    it('the wrap is RSA-OAEP-SHA-256 with the documented label (node:crypto decrypts it independently)', async () => {
      const p = pair('a2048', 2048);
      const ct = await encrypt(text, { recipients: [rsaKey({ id: 'alice', publicKey: p.pub.export({ type: 'spki', format: 'pem' }) as string })], context: { b: 'x' }, backend });
      const h = decodeHeader(ct);
      const id = utf8('alice');
      const label = Buffer.concat([utf8('enseal/v1 rsa-oaep-sha256'), Buffer.from([0, 0, id.length]), id, h.bound]);
      const dataKey = privateDecrypt({ key: p.priv, oaepHash: 'sha256', oaepLabel: label }, h.recipients[0]!.wrapped);
      expect(dataKey).toHaveLength(32);
      expect(() => privateDecrypt({ key: p.priv, oaepHash: 'sha256' }, h.recipients[0]!.wrapped)).toThrow(); // the label is required
    });

    it('wrong private key: ERR_NO_KEY with an ERR_AUTH cause (same id); with derived ids it is simply not found', async () => {
      const a = pair('a2048', 2048);
      const other = pair('b2048', 2048);
      const ct = await encrypt(text, { recipients: [rsaKey({ id: 'bob', publicKey: a.pub.export({ format: 'jwk' }) as JsonWebKey })], backend });
      const wrong = rsaKey({ id: 'bob', privateKey: other.priv.export({ type: 'pkcs8', format: 'pem' }) as string });
      const e = await expectCode(decrypt(ct, { keys: [wrong], backend }), 'ERR_NO_KEY');
      expect(e.errors).toHaveLength(1);
      expect((e.errors[0] as EnsealError).code).toBe('ERR_AUTH');
      expect((e.errors[0] as EnsealError).message).toBe('data key wrapped for "bob" failed to decrypt (wrong private key, or a modified header)');
      const ct2 = await encrypt(text, { recipients: [rsaKey({ publicKey: spkiDer(a) })], backend });
      const none = await expectCode(decrypt(ct2, { keys: [rsaKey({ privateKey: other.priv.export({ format: 'jwk' }) as JsonWebKey })], backend }), 'ERR_NO_KEY');
      expect(none.errors).toHaveLength(0);
      // A public-only provider never claims a stanza.
      const pubOnly = await expectCode(decrypt(ct2, { keys: [rsaKey({ publicKey: spkiDer(a) })], backend }), 'ERR_NO_KEY');
      expect(pubOnly.errors).toHaveLength(0);
    });

    it('1024-bit keys are refused for writing (RangeError) and for reading rsa-oaep-sha256 (ERR_UNSUPPORTED), legacy or not', async () => {
      const e1024 = pair('e1024', 1024);
      for (const legacy of [false, true]) {
        const k = rsaKey({ privateKey: e1024.priv.export({ type: 'pkcs8', format: 'pem' }) as string, legacy });
        await expect(encrypt(text, { recipients: [k], backend })).rejects.toThrow(RangeError);
        const stanza: Stanza = { type: RSA_OAEP_SHA256_STANZA, keyId: await k.keyId(backend), params: {}, wrapped: new Uint8Array(128) };
        const ctx = { aad: new Uint8Array(0), encryptionContext: {}, backend: b() };
        const e = await expectCode(k.unwrap(stanza, ctx), 'ERR_UNSUPPORTED');
        expect(e.message).toMatch(/1024-bit RSA keys are not accepted for rsa-oaep-sha256 stanzas/);
      }
    });

    it('legacy stanzas need legacy: true: without it the reader\'s own legacy stanza is a clear ERR_UNSUPPORTED (another key\'s is not its own)', async () => {
      for (const [keyName, bits] of [['a2048', 2048], ['e1024', 1024]] as const) {
        const p = pair(keyName, bits);
        for (const type of [RSA_OAEP_SHA1_STANZA, RSA_PKCS1_STANZA] as const) {
          const ct = await encrypt(text, { recipients: [legacyWriter(type, p.pub, expectedId(p))], backend });
          const strict = rsaKey({ privateKey: p.priv.export({ type: 'pkcs8', format: 'pem' }) as string });
          const e = await expectCode(decrypt(ct, { keys: [strict], backend }), 'ERR_NO_KEY');
          expect(e.errors).toHaveLength(1);
          const cause = e.errors[0] as EnsealError;
          expect(cause.code).toBe('ERR_UNSUPPORTED');
          expect(cause.message).toBe(`${type} stanza for key "${expectedId(p)}" is a legacy RSA type: reading it needs rsaKey({ ..., legacy: true }) (CLI: --legacy)`);
          // legacy: false is the same as the default.
          const off = await expectCode(decrypt(ct, { keys: [rsaKey({ privateKey: p.priv.export({ type: 'pkcs8', format: 'pem' }) as string, legacy: false })], backend }), 'ERR_NO_KEY');
          expect((off.errors[0] as EnsealError).code).toBe('ERR_UNSUPPORTED');
          // Another key's legacy stanza is simply not its own.
          const other = rsaKey({ privateKey: pair('b2048', 2048).priv.export({ type: 'pkcs8', format: 'pem' }) as string });
          expect((await expectCode(decrypt(ct, { keys: [other], backend }), 'ERR_NO_KEY')).errors).toHaveLength(0);
          // With the opt-in (node: both types; webcrypto: SHA-1 OAEP only, no raw RSA).
          const opted = rsaKey({ privateKey: p.priv.export({ type: 'pkcs8', format: 'pem' }) as string, legacy: true });
          if (type === RSA_PKCS1_STANZA && name === 'webcrypto') {
            expect(((await expectCode(decrypt(ct, { keys: [opted], backend }), 'ERR_NO_KEY')).errors[0] as EnsealError).message).toMatch(/raw RSA|WebCrypto|not supported/i);
          } else {
            expect(await decrypt(ct, { keys: [opted], backend }), `${keyName} ${type}`).toEqual(text);
          }
        }
      }
    });

    it('a corrupted stanza gets the right code; other types/ids are not mine; the label binds the header', async () => {
      const p = pair('a2048', 2048);
      const k = rsaKey({ privateKey: p.priv.export({ type: 'pkcs8', format: 'pem' }) as string });
      const ctx = { aad: utf8('bound header part'), encryptionContext: {}, backend: b() };
      const dataKey = pseudoRandom(32, 21);
      const s = await k.wrap(dataKey, ctx);
      expect(toHex((await k.unwrap(s, ctx))!)).toBe(toHex(dataKey));
      const flipped = s.wrapped.slice();
      flipped[100]! ^= 4;
      await expectCode(k.unwrap({ ...s, wrapped: flipped }, ctx), 'ERR_AUTH');
      await expectCode(k.unwrap(s, { ...ctx, aad: utf8('bound header part!') }), 'ERR_AUTH'); // moved to another header
      await expectCode(k.unwrap({ ...s, wrapped: s.wrapped.subarray(1) }, ctx), 'ERR_HEADER');
      await expectCode(k.unwrap({ ...s, wrapped: new Uint8Array(512) }, ctx), 'ERR_HEADER');
      await expectCode(k.unwrap({ ...s, params: { hash: 'sha512' } }, ctx), 'ERR_HEADER');
      expect(await k.unwrap({ ...s, keyId: 'sha256:0000' }, ctx)).toBeNull();
      expect(await k.unwrap({ ...s, type: 'rsa-oaep-sha512' }, ctx)).toBeNull();
      expect(await k.unwrap({ ...s, type: 'aes256-gcm' }, ctx)).toBeNull();
      // End to end: one flipped bit in the wrapped key inside an object.
      const ct = await encrypt(text, { recipients: [k], backend });
      const at = Buffer.from(ct).indexOf(Buffer.from(decodeHeader(ct).recipients[0]!.wrapped));
      const bad = ct.slice();
      bad[at + 17]! ^= 1;
      const e = await expectCode(decrypt(bad, { keys: [k], backend }), 'ERR_NO_KEY');
      expect((e.errors[0] as EnsealError).code).toBe('ERR_AUTH');
      // An edited context fails at unwrap too (the label), before the header MAC.
      const ctxCt = await encrypt(text, { recipients: [k], context: { tenant: 'a' }, backend });
      const edited = ctxCt.slice();
      edited[Buffer.from(ctxCt).indexOf('tenant') + 8] = 'b'.charCodeAt(0);
      const e2 = await expectCode(decrypt(edited, { keys: [k], backend }), 'ERR_NO_KEY');
      expect((e2.errors[0] as EnsealError).code).toBe('ERR_AUTH');
    });

    it('legacy rsa-oaep-sha1 stanzas (no label) decrypt with legacy: true, 1024-bit keys included', async () => {
      for (const keyName of ['a2048', 'e1024'] as const) {
        const p = pair(keyName, keyName === 'a2048' ? 2048 : 1024);
        const ct = await encrypt(text, { recipients: [legacyWriter(RSA_OAEP_SHA1_STANZA, p.pub, expectedId(p))], backend });
        const k = rsaKey({ privateKey: p.priv.export({ type: 'pkcs1', format: 'pem' }) as string, legacy: true });
        expect(await decrypt(ct, { keys: [k], backend }), keyName).toEqual(text);
      }
    });

    it(`legacy rsa-pkcs1 stanzas: ${name === 'node' ? 'decrypt with implicit rejection; failures surface only at the header MAC' : 'ERR_UNSUPPORTED (no raw RSA in WebCrypto)'}`, async () => {
      const p = pair('e1024', 1024);
      const k = rsaKey({ privateKey: p.priv.export({ type: 'pkcs1', format: 'pem' }) as string, legacy: true });
      const ct = await encrypt(text, { recipients: [legacyWriter(RSA_PKCS1_STANZA, p.pub, expectedId(p))], backend });
      if (name === 'webcrypto') {
        const e = await expectCode(decrypt(ct, { keys: [k], backend }), 'ERR_NO_KEY');
        expect((e.errors[0] as EnsealError).code).toBe('ERR_UNSUPPORTED');
        return;
      }
      expect(await decrypt(ct, { keys: [k], backend })).toEqual(text);
      // Wrong key (same id), corrupted wrap, wrong-length payload: all the same header-MAC failure.
      // (The wrong key must have n > c: c ≥ n is public and rejected at unwrap, see below.)
      const c = BigInt(`0x${toHex(decodeHeader(ct).recipients[0]!.wrapped)}`);
      const nOf = (k: KeyObject): bigint => BigInt(`0x${Buffer.from(k.export({ format: 'jwk' }).n!, 'base64url').toString('hex')}`);
      const keys1024 = Array.from({ length: 40 }, () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
      const other = keys1024.find((k) => nOf(k) > c)!;
      const smaller = keys1024.find((k) => nOf(k) <= c);
      const wrongKey = rsaKey({ id: expectedId(p), privateKey: other.export({ type: 'pkcs8', format: 'pem' }) as string, legacy: true });
      if (smaller !== undefined) {
        const e = await expectCode(decrypt(ct, { keys: [rsaKey({ id: expectedId(p), privateKey: smaller.export({ type: 'pkcs8', format: 'pem' }) as string, legacy: true })], backend }), 'ERR_NO_KEY');
        expect((e.errors[0] as EnsealError).code).toBe('ERR_AUTH'); // publicly invalid for that key: no oracle
      }
      const shortPayload = await encrypt(text, { recipients: [legacyWriter(RSA_PKCS1_STANZA, p.pub, expectedId(p), pseudoRandom(16, 1))], backend });
      const corrupted = ct.slice();
      corrupted[Buffer.from(ct).indexOf(Buffer.from(decodeHeader(ct).recipients[0]!.wrapped)) + 40]! ^= 1;
      for (const [obj, keys] of [[ct, [wrongKey]], [shortPayload, [k]], [corrupted, [k]]] as const) {
        const e = await expectCode(decrypt(obj, { keys, backend }), 'ERR_AUTH');
        expect(e.message).toBe('header authentication failed');
      }
    });

    it('multi-recipient objects mixing aes256-gcm/kw/kwp and RSA 2048/3072 recipients: each key alone decrypts', async () => {
      const a = pair('a2048', 2048);
      const c = pair('c3072', 3072);
      const aes = [aesKey({ id: 'g', key: pseudoRandom(32, 1) }), aesKey({ id: 'w', key: pseudoRandom(32, 2), wrap: 'aes256-kw' }), aesKey({ id: 'p', key: pseudoRandom(32, 3), wrap: 'aes256-kwp' })];
      const rsa = [rsaKey({ privateKey: a.priv.export({ type: 'pkcs1', format: 'pem' }) as string }), rsaKey({ id: 'carol', privateKey: c.priv.export({ format: 'jwk' }) as JsonWebKey })];
      const ct = await encrypt(pseudoRandom(50000, 9), { recipients: [rsa[0]!, aes[0]!, rsa[1]!, aes[1]!, aes[2]!], context: { mix: '1' }, backend });
      expect(inspect(ct).recipients.map((r) => r.type)).toEqual(['rsa-oaep-sha256', 'aes256-gcm', 'rsa-oaep-sha256', 'aes256-kw', 'aes256-kwp']);
      for (const key of [...aes, ...rsa]) expect(await decrypt(ct, { keys: [key], backend }), key.description).toEqual(pseudoRandom(50000, 9));
    });

    it('CryptoKey inputs: non-extractable private keys need an id (or the public key) in WebCrypto', async () => {
      const p = pair('a2048', 2048);
      const der = new Uint8Array(p.priv.export({ type: 'pkcs8', format: 'der' }));
      const locked = await subtle.importKey('pkcs8', der, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
      const ct = await encrypt(text, { recipients: [rsaKey({ id: 'locked', publicKey: spkiDer(p) })], backend });
      expect(await decrypt(ct, { keys: [rsaKey({ id: 'locked', privateKey: locked })], backend })).toEqual(text);
      const ct2 = await encrypt(text, { recipients: [rsaKey({ publicKey: spkiDer(p) })], backend });
      expect(await decrypt(ct2, { keys: [rsaKey({ publicKey: spkiDer(p), privateKey: locked })], backend })).toEqual(text);
      const noId = rsaKey({ privateKey: locked });
      if (name === 'webcrypto') {
        await expect(noId.keyId(backend)).rejects.toThrow(TypeError);
        // And it serves only its own hash: a legacy SHA-1 stanza is ERR_UNSUPPORTED there.
        const legacy = await encrypt(text, { recipients: [legacyWriter(RSA_OAEP_SHA1_STANZA, p.pub, 'locked')], backend });
        const e = await expectCode(decrypt(legacy, { keys: [rsaKey({ id: 'locked', privateKey: locked, legacy: true })], backend }), 'ERR_NO_KEY');
        expect((e.errors[0] as EnsealError).code).toBe('ERR_UNSUPPORTED');
        expect((e.errors[0] as EnsealError).message).not.toMatch(/legacy: true/); // the key's own hash, not the opt-in
      } else {
        expect(await noId.keyId(backend)).toBe(expectedId(p)); // node:crypto reads the key underneath
      }
    });
  });
}

describe('rsaKey options', () => {
  it('misuse is a TypeError/RangeError at construction; bad material on first use; mismatched pairs refused', async () => {
    const p = pair('a2048', 2048);
    expect(() => rsaKey({})).toThrow(TypeError);
    expect(() => rsaKey(undefined as never)).toThrow(TypeError);
    expect(() => rsaKey({ publicKey: 5 as never })).toThrow(TypeError);
    expect(() => rsaKey({ id: '', publicKey: spkiDer(p) })).toThrow(TypeError);
    expect(() => rsaKey({ id: 'x\uD800', publicKey: spkiDer(p) })).toThrow(TypeError);
    expect(() => rsaKey({ id: 'x'.repeat(2049), publicKey: spkiDer(p) })).toThrow(RangeError);
    expect(() => rsaKey({ publicKey: spkiDer(p), legacy: 'yes' as never })).toThrow(TypeError);
    await expect(encrypt(text, { recipients: [rsaKey({ publicKey: 'nope' })] })).rejects.toThrow(TypeError);
    const mismatch = rsaKey({ publicKey: spkiDer(p), privateKey: pair('b2048', 2048).priv.export({ format: 'jwk' }) as JsonWebKey });
    await expect(rsaKey({ privateKey: p.priv as never }).keyId()).rejects.toThrow(TypeError); // a node KeyObject is not accepted
    await expect(mismatch.keyId()).rejects.toThrow(/not a key pair/);
  });

  it('copies byte inputs; dispose wipes them and later calls throw ERR_STATE', async () => {
    const p = pair('a2048', 2048);
    const der = new Uint8Array(p.priv.export({ type: 'pkcs8', format: 'der' }));
    const k = rsaKey({ privateKey: der });
    der.fill(0); // the caller wipes its copy
    const ct = await encrypt(text, { recipients: [k] });
    expect(await decrypt(ct, { keys: [k] })).toEqual(text);
    k.dispose();
    await expectCode(encrypt(text, { recipients: [k] }), 'ERR_STATE');
    const e = await expectCode(decrypt(ct, { keys: [k] }), 'ERR_NO_KEY');
    expect((e.errors[0] as EnsealError).code).toBe('ERR_STATE');
  });

  it('key ids are the same on both backends, for every format', async () => {
    const p = pair('c3072', 3072);
    for (const f of FORMATS) {
      const m = await material(p, f);
      expect(await rsaKey({ publicKey: m.publicKey }).keyId('node'), f).toBe(expectedId(p));
      expect(await rsaKey({ privateKey: m.privateKey }).keyId('webcrypto'), f).toBe(expectedId(p));
    }
  });
});

for (const name of BACKENDS) {
  oaepSuite(name);
  pkcs1Suite(name);
  importSuite(name);
  providerSuite(name);
}
