/**
 * `enseal inspect` of stored objects (runs dist/: `npm run build` first): a folder store holding
 * the Go OSS SDK sample (with its metadata) and an S3EC V3 object with an instruction file,
 * addressed as `file:DIR//KEY` and as `./DIR/KEY`; the JSON names the format and the key
 * provider and never prints the wrapped key or the key material. A plain file is inspected as
 * before.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { aesKey, encrypt } from '../src/index.js';
import { putS3ecObject, s3ecAesKey } from '../src/interop.js';
import { fsStore } from '../src/storage/fs.js';
import { requireBuild, Sandbox } from './cli-harness.js';
import { pseudoRandom } from './helpers.js';

const dir = new URL('./vectors/oss-sdk-samples/', import.meta.url);
const goMeta = Object.fromEntries(
  Object.entries(JSON.parse(readFileSync(new URL('encrypted_go_example_meta.json', dir), 'utf8')) as Record<string, string>).map(([k, v]) => [k.toLowerCase().replace(/^x-oss-meta-/, ''), v]),
);

let sb: Sandbox;
beforeAll(() => requireBuild());
afterEach(() => sb?.cleanup());

describe('enseal inspect of stored objects', () => {
  it('OSS and S3EC objects in a folder store: format, key provider, no secrets; a plain file as before', async () => {
    sb = new Sandbox();
    const store = fsStore(sb.at('store'));
    await store.put('go.jpg', new Uint8Array(readFileSync(new URL('encrypted_go_example.jpg', dir))), { metadata: goMeta });
    sb.secret(goMeta['client-side-encryption-key']!);
    sb.secret(goMeta['client-side-encryption-start']!);
    const wrapKey = new Uint8Array(pseudoRandom(32, 1));
    sb.secretBytes(wrapKey);
    await putS3ecObject(store, 'v3.bin', pseudoRandom(100, 2), { recipients: [s3ecAesKey({ key: wrapKey })], instructionFile: true });

    for (const arg of ['file:store//go.jpg', './store/go.jpg']) {
      const r = await sb.run(['inspect', arg]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout.toString('utf8')) as { format: string; interop: { keyProvider: string; wrapAlgorithm: string } };
      expect(j.format).toBe('oss');
      expect(j.interop.wrapAlgorithm).toBe('RSA/NONE/PKCS1Padding');
      expect(j.interop.keyProvider).toMatch(/ossRsaKey\(\{ privateKey, legacy: true \}\)/);
    }
    const v3 = await sb.run(['inspect', 'file:store//v3.bin']);
    expect(v3.code).toBe(0);
    const j3 = JSON.parse(v3.stdout.toString('utf8')) as { format: string; size: number; interop: { instructionFile: boolean; keyCommitting: boolean } };
    expect([j3.format, j3.size, j3.interop.instructionFile, j3.interop.keyCommitting]).toEqual(['s3ec-v3', 100, true, true]);

    const k = aesKey({ id: 'cli', key: new Uint8Array(32).fill(9) });
    writeFileSync(sb.at('x.enseal'), await encrypt(new Uint8Array(10), { recipients: [k] }));
    const plain = await sb.run(['inspect', './x.enseal']);
    expect(plain.code).toBe(0);
    expect((JSON.parse(plain.stdout.toString('utf8')) as { recipients: { keyId: string }[] }).recipients[0]!.keyId).toBe('cli');

    const missing = await sb.run(['inspect', 'file:store//nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^enseal: ERR_NOT_FOUND: /);
    // A ./DIR/KEY that is neither a file nor a stored object fails as the missing file it may be.
    const gone = await sb.run(['inspect', './store/nope']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).not.toMatch(/ERR_NOT_FOUND/);
  }, 60_000);
});

describe('enseal migrate', () => {
  it('converts an OSS object (RSA) and an S3EC V2 object with an instruction file in a folder store to enseal; OSS needs --allow-unauthenticated', async () => {
    sb = new Sandbox();
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(sb.at('oss.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    sb.secretPem(sb.at('oss.pem'));
    const { ossRsaKey, putOssObject } = await import('../src/interop.js');
    const { encryptedBucket } = await import('../src/storage.js');
    const store = fsStore(sb.at('store'));
    const plain = pseudoRandom(30_000, 5);
    await putOssObject(store, 'a.bin', plain, { recipients: [ossRsaKey({ privateKey: readFileSync(sb.at('oss.pem'), 'utf8'), legacy: true })], md5: true });
    const aes = new Uint8Array(pseudoRandom(32, 6));
    sb.secretBytes(aes);
    writeFileSync(sb.at('s3.json'), JSON.stringify({ type: 'aes256', id: 's3', key: Buffer.from(aes).toString('base64') }), { mode: 0o600 });
    await putS3ecObject(store, 'b.bin', plain, { recipients: [s3ecAesKey({ key: aes })], version: 2, instructionFile: true });
    expect((await sb.run(['keygen', 'aes', '--out', 'new.key'])).code).toBe(0);

    const refused = await sb.run(['migrate', '--oss-rsa-private', 'oss.pem', '--key', 'new.key', 'file:store//a.bin']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^enseal: ERR_UNAUTHENTICATED: /);
    const a = await sb.run(['migrate', '--oss-rsa-private', 'oss.pem', '--allow-unauthenticated', '--key', 'new.key', 'file:store//a.bin']);
    expect(a.stderr).toBe('');
    expect(JSON.parse(a.stdout.toString('utf8'))).toMatchObject({ from: 'oss', to: 'enseal', converted: true, verified: 'md5', size: plain.length });
    const b = await sb.run(['migrate', '--s3ec-key', 's3.json', '--key', 'new.key', './store/b.bin']);
    expect(b.stderr).toBe('');
    expect(JSON.parse(b.stdout.toString('utf8'))).toMatchObject({ from: 's3ec-v2', verified: 'gcm-tag', instructionFileRemoved: true });

    const { aesKey: aesKeyOf } = await import('../src/index.js');
    const newKey = JSON.parse(readFileSync(sb.at('new.key'), 'utf8')) as { id: string; key: string };
    const reader = encryptedBucket(fsStore(sb.at('store')), { keys: [aesKeyOf({ id: newKey.id, key: new Uint8Array(Buffer.from(newKey.key, 'base64')) })] });
    for (const k of ['a.bin', 'b.bin']) {
      const got = await reader.getObject(k);
      expect(got.format).toBe('enseal');
      expect(Buffer.compare(Buffer.from(await new Response(got.body).arrayBuffer()), Buffer.from(plain))).toBe(0);
    }
    const head = await sb.run(['inspect', 'file:store//b.bin']);
    expect(JSON.parse(head.stdout.toString('utf8')).format).toBe('enseal');
    const help = await sb.run(['migrate', '--help']);
    expect(help.stdout.toString('utf8')).toMatch(/^Usage:\n {2}enseal migrate/);
  }, 60_000);
});
