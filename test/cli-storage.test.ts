/**
 * `enseal put|get|head|ls|rm|rewrap` on object locations, end to end through the built CLI
 * (dist/, via test/cli-harness.ts): a local folder, s3rver on 127.0.0.1 (plain http, opted in
 * with --allow-insecure-http to a loopback endpoint) and the fake OSS server (which verifies the
 * ali-oss request signatures itself), each configured only through the documented environment
 * variables. Also: ranged reads, a resumed upload after the first run was killed mid-upload
 * (byte-identical to an uninterrupted upload with the same header and salt), refusal of plain
 * http to a non-loopback endpoint, the message for a missing SDK (simulated with a module
 * resolve hook in NODE_OPTIONS: nothing is uninstalled), escaping of hostile key names and
 * metadata, and the progress line under a pseudo-terminal (`script -qec`).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt } from '../src/index.js';
import { fromBase64 } from '../src/bytes.js';
import { getBackend } from '../src/backends/select.js';
import { unlockHeader } from '../src/envelope/options.js';
import { sealUploadRecord, uploadStateKey } from '../src/storage/upload-state-mac.js';
import { encryptedBucket, memoryUploadState, OBJECT_KEY_CONTEXT } from '../src/storage.js';
import { fsStore } from '../src/storage/fs.js';
import { memoryStore } from '../src/storage/memory.js';
import { s3Store } from '../src/storage/s3.js';
import type { ObjectStore } from '../src/storage/store.js';
import { BIN, Sandbox, expectFailure, expectSuccess, requireBuild, type RunResult } from './cli-harness.js';
import { CountingProxy, FakeOss, startS3rver, type S3rverHandle } from './storage-servers.js';

/** Completed parts of a saved upload record (a part being sent is recorded with an empty etag). */
const completedParts = (text: string): number => (JSON.parse(text) as { parts: { etag: string }[] }).parts.filter((p) => p.etag !== '').length;

const MiB = 1024 * 1024;
const S3_ENV = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED', // s3rver does not know the SDK's default trailing checksums
  AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', // the SDK's notice about Node 20 on stderr
};
const OSS_SECRET = 'oss-cli-Secret-0123456789abcdefXYZ';
/** Characters a terminal would interpret, in a key name or metadata. */
const HOSTILE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const bytesOf = async (s: ReadableStream<Uint8Array>): Promise<Buffer> => Buffer.from(await new Response(s).arrayBuffer());

/** Reads a whole stored object through an adapter (the raw ciphertext). */
async function raw(store: ObjectStore, key: string): Promise<Buffer> {
  return bytesOf((await store.get(key)).body);
}

/** The AES key of a key file written by `enseal keygen aes`. */
function keyOf(path: string): ReturnType<typeof aesKey> & { readonly id: string } {
  const j = JSON.parse(readFileSync(path, 'utf8')) as { id: string; key: string };
  return Object.assign(aesKey({ id: j.id, key: fromBase64(j.key) }), { id: j.id });
}

let sb: Sandbox;
beforeAll(() => requireBuild());
beforeEach(async () => {
  sb = new Sandbox();
  for (const name of ['alice.key', 'bob.key']) expectSuccess(await sb.run(['keygen', 'aes', '--out', name]));
});
afterEach(() => {
  expect(sb.leftovers()).toEqual([]);
  sb.cleanup();
});

/** Runs the put/get/head/ls/rm/rewrap cycle on one kind of location; `loc(key)` names an object. */
async function roundTrip(loc: (key: string) => string, list: string, env: Record<string, string>, extra: string[] = [], keyPrefix = ''): Promise<void> {
  const plain = randomBytes(300_000);
  writeFileSync(sb.at('in.bin'), plain);
  const put = await sb.run(['put', '--key', 'alice.key', ...extra, 'in.bin', loc('dir/in.bin')], { env });
  expectSuccess(put);
  expect(put.stdout.toString()).toBe(`put ${loc('dir/in.bin')}: 300000 bytes\n`);

  expectSuccess(await sb.run(['get', '--key', 'alice.key', ...extra, loc('dir/in.bin'), 'out.bin'], { env }));
  expect(readFileSync(sb.at('out.bin')).equals(plain)).toBe(true);

  const r = await sb.run(['get', '--key', 'alice.key', ...extra, '--range', '1000-1999', loc('dir/in.bin'), '-'], { env });
  expectSuccess(r);
  expect(r.stdout.equals(plain.subarray(1000, 2000))).toBe(true);
  const tail = await sb.run(['get', '--key', 'alice.key', ...extra, '--range', '-777', loc('dir/in.bin'), '-'], { env });
  expectSuccess(tail);
  expect(tail.stdout.equals(plain.subarray(plain.length - 777))).toBe(true);
  const open = await sb.run(['get', '--key', 'alice.key', ...extra, '--range', '299990-', loc('dir/in.bin'), '-'], { env });
  expectSuccess(open);
  expect(open.stdout.equals(plain.subarray(299_990))).toBe(true);
  expectFailure(await sb.run(['get', '--key', 'alice.key', ...extra, '--range', '300000-', loc('dir/in.bin'), '-'], { env }), 'ERR_RANGE', 1);
  expectFailure(await sb.run(['get', '--key', 'bob.key', ...extra, loc('dir/in.bin'), '-'], { env }), 'ERR_NO_KEY', 1);

  const head = await sb.run(['head', ...extra, loc('dir/in.bin')], { env });
  expectSuccess(head);
  const h = JSON.parse(head.stdout.toString()) as { size: number; storedSize: number; recipients: { keyId: string }[]; context: Record<string, string>; authenticated: boolean };
  expect(h.size).toBe(300_000);
  expect(h.storedSize).toBeGreaterThan(300_000);
  expect(h.recipients.map((x) => x.keyId)).toEqual([keyOf(sb.at('alice.key')).id]);
  expect(h.context[OBJECT_KEY_CONTEXT]).toBe(`${keyPrefix}dir/in.bin`);
  expect(h.authenticated).toBe(false);

  const ls = await sb.run(['ls', ...extra, list], { env });
  expectSuccess(ls);
  const lines = ls.stdout.toString().trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^${h.storedSize}\\t\\S+\\t(?:\\S*/)?dir/in\\.bin$`));

  const rw = await sb.run(['rewrap', '--key', 'alice.key', '--add-key', 'bob.key', '--remove', keyOf(sb.at('alice.key')).id, ...extra, loc('dir/in.bin')], { env });
  expectSuccess(rw);
  expect(rw.stdout.toString()).toMatch(/^rewrap .*: (server-side copy|streamed rewrite); recipients: aes-[0-9a-f]{16}\n$/);
  expectSuccess(await sb.run(['get', '--key', 'bob.key', ...extra, loc('dir/in.bin'), 'bob.bin'], { env }));
  expect(readFileSync(sb.at('bob.bin')).equals(plain)).toBe(true);
  expectFailure(await sb.run(['get', '--key', 'alice.key', ...extra, loc('dir/in.bin'), '-'], { env }), 'ERR_NO_KEY', 1);

  expectSuccess(await sb.run(['rm', ...extra, loc('dir/in.bin')], { env }));
  expectFailure(await sb.run(['get', '--key', 'bob.key', ...extra, loc('dir/in.bin'), '-'], { env }), 'ERR_NOT_FOUND', 1);
  expectFailure(await sb.run(['head', ...extra, loc('dir/in.bin')], { env }), 'ERR_NOT_FOUND', 1);
  const empty = await sb.run(['ls', ...extra, list], { env });
  expectSuccess(empty);
  expect(empty.stdout.toString()).toBe('');
}

describe('local folder', () => {
  it('put, get (whole and ranges), head, ls, rewrap, rm', async () => {
    await import('node:fs/promises').then((fs) => fs.mkdir(sb.at('store')));
    await roundTrip((k) => `file:./store//${k}`, './store', {});
  });

  it('multipart upload in parts of whole chunks, byte-identical bytes through fsStore', async () => {
    await import('node:fs/promises').then((fs) => fs.mkdir(sb.at('store')));
    const plain = randomBytes(1_000_000);
    writeFileSync(sb.at('big.bin'), plain);
    const put = await sb.run(['put', '--key', 'alice.key', '--part-size', '256KiB', '--concurrency', '3', 'big.bin', 'file:store/big.bin']);
    expectSuccess(put);
    expect(put.stdout.toString()).toBe('put file:store/big.bin: 1000000 bytes, 4 parts (4 sent now)\n');
    const stored = await raw(fsStore(sb.at('store')), 'big.bin');
    const key = keyOf(sb.at('alice.key'));
    const back = await decrypt(stored, { keys: [key], context: { [OBJECT_KEY_CONTEXT]: 'big.bin' } });
    expect(Buffer.from(back).equals(plain)).toBe(true);
  });

  it('a killed --resume upload is resumed, or discarded (parts aborted) by a put without --resume', async () => {
    await import('node:fs/promises').then((fs) => fs.mkdir(sb.at('store')));
    const plain = randomBytes(400 * 1024);
    writeFileSync(sb.at('big.bin'), plain);
    const uploads = join(sb.dir, '.enseal', 'uploads');
    const staged = (): string[] => (existsSync(sb.at('store/~staging')) ? readdirSync(sb.at('store/~staging')) : []);
    const killAfterFirstPart = async (): Promise<void> => {
      const child = spawn(process.execPath, [BIN, 'put', '--key', 'alice.key', '--part-size', '64KiB', '--concurrency', '1', '--resume', '-', './store/big.bin'], {
        cwd: sb.dir,
        env: sb.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
      child.stdin.on('error', () => undefined);
      child.stdin.write(plain.subarray(0, 100 * 1024));
      const saved = (): number => {
        try {
          return completedParts(readFileSync(join(uploads, readdirSync(uploads)[0] as string), 'utf8'));
        } catch {
          return 0;
        }
      };
      const deadline = Date.now() + 30_000;
      while (saved() < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      await closed;
      expect(saved()).toBe(1);
    };
    await killAfterFirstPart();
    expect(staged()).toHaveLength(1);
    const resumed = await sb.run(['put', '--key', 'alice.key', '--resume', 'big.bin', './store/big.bin']);
    expectSuccess(resumed);
    expect(resumed.stdout.toString()).toBe('put ./store/big.bin: 409600 bytes, 7 parts (6 sent now)\n');
    expect(readdirSync(uploads)).toEqual([]);
    const back = await sb.run(['get', '--key', 'alice.key', './store/big.bin', '-']);
    expect(back.stdout.equals(plain)).toBe(true);

    await killAfterFirstPart();
    expect(staged()).toHaveLength(1);
    writeFileSync(sb.at('small.bin'), 'replaced');
    expectSuccess(await sb.run(['put', '--key', 'alice.key', 'small.bin', './store/big.bin']));
    expect(readdirSync(uploads)).toEqual([]);
    expect(staged()).toEqual([]); // the interrupted upload's parts were aborted
    const now = await sb.run(['get', '--key', 'alice.key', './store/big.bin', '-']);
    expect(now.stdout.toString()).toBe('replaced');
  }, 120_000);

  it('tells locations apart from plain files, and refuses what is neither', async () => {
    writeFileSync(sb.at('in.bin'), 'x');
    const bare = await sb.run(['put', '--key', 'alice.key', 'in.bin', 'store/in.bin']);
    expectFailure(bare, 'ERR_USAGE', 2);
    expect(bare.stderr).toContain('is not an object location');
    expectFailure(await sb.run(['put', '--key', 'alice.key', 'in.bin', 's3:///k']), 'ERR_USAGE', 2);
    expectFailure(await sb.run(['get', '--key', 'alice.key', 's3://b/', '-']), 'ERR_USAGE', 2);
    expectFailure(await sb.run(['put', '--key', 'alice.key', 'in.bin', './nowhere/x']), 'ERR_IO', 1);
    expectFailure(await sb.run(['put', '--key', 'alice.key', '--sse', 'AES256', 'in.bin', './x']), 'ERR_USAGE', 2);
    expectFailure(await sb.run(['put', '--key', 'alice.key', '--state', 's.json', 'in.bin', './x']), 'ERR_USAGE', 2);
    for (const bad of [['--part-size', '0'], ['--part-size', '6GiB'], ['--part-size', '5XB'], ['--concurrency', '0'], ['--concurrency', '65']]) {
      expectFailure(await sb.run(['put', '--key', 'alice.key', ...bad, 'in.bin', './x']), 'ERR_USAGE', 2);
    }
    // rewrap with one ./PATH argument is the file form (IN OUT), not a stored object
    const rw = await sb.run(['rewrap', '--key', 'alice.key', '--add-key', 'bob.key', './in.bin']);
    expectFailure(rw, 'ERR_USAGE', 2);
    expect(rw.stderr).toContain('rewrap expects IN OUT');
  });

  it('escapes hostile key names and key ids in put, ls, head and error output', async () => {
    await import('node:fs/promises').then((fs) => fs.mkdir(sb.at('store')));
    const evilKey = 'evil\x1b[2J\u202etxt.exe\x07';
    writeFileSync(sb.at('in.bin'), 'hello');
    const put = await sb.run(['put', '--key', 'alice.key', 'in.bin', `./store//${evilKey}`]);
    expectSuccess(put);
    expect(put.stdout.toString()).not.toMatch(HOSTILE);
    expect(put.stdout.toString()).toContain('evil\\x1b[2J\\u202etxt.exe\\x07');
    // An object written by someone else: hostile metadata and a hostile recipient key id.
    const hostileKeyId = 'id\x1b]0;owned\x07\u2066';
    const hostileId = aesKey({ id: hostileKeyId, key: randomBytes(32) });
    await encryptedBucket(fsStore(sb.at('store')), { recipients: [hostileId] }).putObject('m.bin', new Uint8Array(10));
    const ls = await sb.run(['ls', './store']);
    expectSuccess(ls);
    expect(ls.stdout.toString()).not.toMatch(HOSTILE);
    expect(ls.stdout.toString()).toContain('\tevil\\x1b[2J\\u202etxt.exe\\x07\n');
    const head = await sb.run(['head', './store//m.bin']);
    expectSuccess(head);
    expect(head.stdout.toString()).not.toMatch(HOSTILE);
    const h = JSON.parse(head.stdout.toString()) as { recipients: { keyId: string }[] };
    expect(h.recipients[0]?.keyId).toBe(hostileKeyId);
    const miss = await sb.run(['get', '--key', 'alice.key', `./store//${evilKey}x`, '-']);
    expectFailure(miss, 'ERR_NOT_FOUND', 1);
    expect(miss.stderr).not.toMatch(HOSTILE);
  });

  it('--help of each storage command, and put/get/head/ls/rm in the reference', async () => {
    for (const c of ['put', 'get', 'head', 'ls', 'rm']) {
      const r = await sb.run([c, '--help']);
      expectSuccess(r);
      expect(r.stdout.toString()).toContain(`enseal ${c} `);
    }
    const all = await sb.run(['--help']);
    expect(all.stdout.toString()).toMatch(/enseal put RECIPIENT[\s\S]*--allow-insecure-http/);
    const rw = await sb.run(['rewrap', '--help']);
    expect(rw.stdout.toString()).toContain('Stored objects:');
  });
});

describe('s3rver on 127.0.0.1', () => {
  let server: S3rverHandle;
  let proxy: CountingProxy;
  let env: Record<string, string>;
  let store: ObjectStore;
  beforeAll(async () => {
    server = await startS3rver();
    proxy = await new CountingProxy(server.endpoint).start();
    env = { ...S3_ENV, AWS_ENDPOINT_URL_S3: proxy.url };
    const client = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    store = s3Store({ client, bucket: 'b', allowInsecureHttp: true });
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
  });

  it('put, get (whole and ranges), head, ls, rewrap, rm', async () => {
    await roundTrip((k) => `s3://b/rt/${k}`, 's3://b/rt/', env, ['--allow-insecure-http'], 'rt/');
  });

  it('a ranged get costs at most 2 requests and moves only the covering chunks', async () => {
    const plain = randomBytes(2 * MiB);
    writeFileSync(sb.at('in.bin'), plain);
    expectSuccess(await sb.run(['put', '--key', 'alice.key', '--allow-insecure-http', 'in.bin', 's3://b/ranged.bin'], { env }));
    proxy.reset();
    const r = await sb.run(['get', '--key', 'alice.key', '--allow-insecure-http', '--range', '1048576-1049599', 's3://b/ranged.bin', '-'], { env });
    expectSuccess(r);
    expect(r.stdout.equals(plain.subarray(MiB, MiB + 1024))).toBe(true);
    const gets = proxy.log.filter((q) => q.method === 'GET');
    expect(gets.length).toBeLessThanOrEqual(2);
    expect(gets.reduce((n, q) => n + q.bytesOut, 0)).toBeLessThan(64 * 1024);
  });

  it('refuses plain http without --allow-insecure-http, and to a non-loopback host even with it', async () => {
    writeFileSync(sb.at('in.bin'), 'x');
    proxy.reset();
    const no = await sb.run(['put', '--key', 'alice.key', 'in.bin', 's3://b/x'], { env });
    expectFailure(no, 'ERR_INSECURE_TRANSPORT', 1);
    expect(no.stderr).toContain('--allow-insecure-http');
    for (const endpoint of ['http://10.0.0.1:9000', 'http://127.0.0.1.nip.io', 'http://s3.example.com']) {
      const r = await sb.run(['get', '--key', 'alice.key', '--allow-insecure-http', 's3://b/x', '-'], { env: { ...env, AWS_ENDPOINT_URL_S3: endpoint } });
      expectFailure(r, 'ERR_INSECURE_TRANSPORT', 1);
    }
    expectFailure(await sb.run(['ls', '--allow-insecure-http', 's3://b'], { env: { ...env, AWS_ENDPOINT_URL_S3: undefined, AWS_ENDPOINT_URL: 'http://192.168.1.1' } }), 'ERR_INSECURE_TRANSPORT', 1);
    expect(proxy.log).toHaveLength(0); // nothing was sent
  });

  it('--sse aws:kms:KEYID and SSE-C reach the store as request headers (SSE-C on get and head too)', async () => {
    const plain = randomBytes(5000);
    writeFileSync(sb.at('in.bin'), plain);
    proxy.reset();
    expectSuccess(await sb.run(['put', '--key', 'alice.key', '--allow-insecure-http', '--sse', 'aws:kms:alias/backups', 'in.bin', 's3://b/kms.bin'], { env }));
    const kmsPut = proxy.log.find((q) => q.method === 'PUT');
    expect(kmsPut?.headers['x-amz-server-side-encryption']).toBe('aws:kms');
    expect(kmsPut?.headers['x-amz-server-side-encryption-aws-kms-key-id']).toBe('alias/backups');

    const customer = randomBytes(32);
    sb.secretBytes(customer);
    writeFileSync(sb.at('c.key'), customer.toString('base64') + '\n', { mode: 0o600 });
    const md5 = createHash('md5').update(customer).digest('base64');
    proxy.reset();
    const ssec = ['--sse', 'SSE-C', '--sse-c-key-file', 'c.key'];
    expectSuccess(await sb.run(['put', '--key', 'alice.key', '--allow-insecure-http', ...ssec, 'in.bin', 's3://b/ssec.bin'], { env }));
    expectSuccess(await sb.run(['head', '--allow-insecure-http', ...ssec, 's3://b/ssec.bin'], { env }));
    const got = await sb.run(['get', '--key', 'alice.key', '--allow-insecure-http', ...ssec, 's3://b/ssec.bin', '-'], { env });
    expectSuccess(got);
    expect(got.stdout.equals(plain)).toBe(true);
    const methods = new Set(proxy.log.map((q) => q.method));
    expect([...methods].sort()).toEqual(['GET', 'HEAD', 'PUT']);
    for (const q of proxy.log) {
      expect(q.headers['x-amz-server-side-encryption-customer-algorithm'], `${q.method} ${q.url}`).toBe('AES256');
      expect(q.headers['x-amz-server-side-encryption-customer-key-md5'], `${q.method} ${q.url}`).toBe(md5);
    }
    writeFileSync(sb.at('short.key'), randomBytes(31));
    expectFailure(await sb.run(['get', '--key', 'alice.key', '--allow-insecure-http', '--sse', 'SSE-C', '--sse-c-key-file', 'short.key', 's3://b/ssec.bin', '-'], { env }), 'ERR_KEYFILE', 2);
    expectFailure(await sb.run(['put', '--key', 'alice.key', '--allow-insecure-http', '--sse', 'SSE-C', 'in.bin', 's3://b/x'], { env }), 'ERR_USAGE', 2);
    expectFailure(await sb.run(['get', '--key', 'alice.key', '--allow-insecure-http', '--sse', 'AES256', 's3://b/kms.bin', '-'], { env }), 'ERR_USAGE', 2);
    expectFailure(await sb.run(['put', '--key', 'alice.key', '--allow-insecure-http', '--sse', 'SM4', 'in.bin', 's3://b/x'], { env }), 'ERR_USAGE', 2);
  });

  it('names the missing variable', async () => {
    const r = await sb.run(['ls', '--allow-insecure-http', 's3://b'], { env: { ...env, AWS_SECRET_ACCESS_KEY: '' } });
    expectFailure(r, 'ERR_USAGE', 2);
    expect(r.stderr).toContain('AWS_SECRET_ACCESS_KEY');
  });

  it('--resume after a killed upload sends only the missing parts; the object is byte-identical to an uninterrupted upload', async () => {
    const plain = randomBytes(12 * MiB + 12_345); // 3 parts of 5 MiB (S3's minimum)
    writeFileSync(sb.at('big.bin'), plain);
    const args = ['put', '--key', 'alice.key', '--allow-insecure-http', '--part-size', '5MiB', '--concurrency', '1', '--resume'];
    const uploads = join(sb.dir, '.enseal', 'uploads');
    const savedParts = (): number => {
      if (!existsSync(uploads)) return 0;
      const files = readdirSync(uploads).filter((f) => f.endsWith('.json'));
      if (files.length !== 1) return 0;
      try {
        return completedParts(readFileSync(join(uploads, files[0] as string), 'utf8'));
      } catch {
        return 0;
      }
    };
    // First run: stdin gets 6 MiB only, so part 2 waits; kill it once part 1 is recorded.
    const child = spawn(process.execPath, [BIN, ...args, '-', 's3://b/big.bin'], { cwd: sb.dir, env: { ...sb.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_c, s) => resolve(s)));
    child.stdin.on('error', () => undefined);
    child.stdin.write(plain.subarray(0, 6 * MiB));
    const deadline = Date.now() + 60_000;
    while (savedParts() < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(savedParts()).toBe(1);
    child.kill('SIGKILL');
    expect(await closed).toBe('SIGKILL');
    const [stateFile] = readdirSync(uploads);
    const record = JSON.parse(readFileSync(join(uploads, stateFile as string), 'utf8')) as { header: string; salt: string; chunksPerPart: number; uploadId: string };
    expect(JSON.stringify(record)).not.toContain(JSON.parse(readFileSync(sb.at('alice.key'), 'utf8')).key as string);
    await expect(store.head('big.bin')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' }); // nothing visible yet

    proxy.reset();
    const resumed = await sb.run([...args, 'big.bin', 's3://b/big.bin'], { env });
    expectSuccess(resumed);
    expect(resumed.stdout.toString()).toBe(`put s3://b/big.bin: ${plain.length} bytes, 3 parts (2 sent now)\n`);
    const partPuts = proxy.log.filter((q) => q.method === 'PUT' && /[?&]partNumber=/.test(q.url));
    expect(partPuts.map((q) => /partNumber=(\d+)/.exec(q.url)?.[1]).sort()).toEqual(['2', '3']);
    expect(readdirSync(uploads)).toEqual([]); // the state is gone once complete

    // The uninterrupted upload with the same header and salt, into a memory store.
    const key = keyOf(sb.at('alice.key'));
    const mem = memoryStore();
    const { uploadId } = await mem.createMultipart('big.bin');
    const state = memoryUploadState();
    // A genuine record for that upload (its MAC needs the data key, which the key file unwraps).
    const backend = getBackend('node');
    const { dataKey } = await unlockHeader(fromBase64(record.header), { keys: [key] }, backend);
    const stateKey = await uploadStateKey(backend, dataKey);
    await state.save(await sealUploadRecord(backend, stateKey, { version: 2, store: mem.name, key: 'big.bin', uploadId, header: record.header, salt: record.salt, chunksPerPart: record.chunksPerPart, parts: [] }));
    await encryptedBucket(mem, { recipients: [key], keys: [key] }).putObject('big.bin', plain, { uploadState: state, resume: true });
    const expected = await raw(mem, 'big.bin');
    const stored = await raw(store, 'big.bin');
    expect(stored.length).toBe(expected.length);
    expect(stored.equals(expected)).toBe(true);
    expectSuccess(await sb.run(['get', '--key', 'alice.key', '--allow-insecure-http', 's3://b/big.bin', 'back.bin'], { env }));
    expect(readFileSync(sb.at('back.bin')).equals(plain)).toBe(true);
  }, 120_000);

  it('--resume refuses another file than the interrupted upload (ERR_STATE), keeping the saved state', async () => {
    const plain = randomBytes(6 * MiB);
    const args = ['put', '--key', 'alice.key', '--allow-insecure-http', '--part-size', '5MiB', '--resume', '--state', 'up.json'];
    const child = spawn(process.execPath, [BIN, ...args, '-', 's3://b/other.bin'], { cwd: sb.dir, env: { ...sb.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    child.stdin.on('error', () => undefined);
    child.stdin.write(plain);
    const parts = (): number => {
      try {
        return (JSON.parse(readFileSync(sb.at('up.json'), 'utf8')) as { parts: unknown[] }).parts.length;
      } catch {
        return 0;
      }
    };
    const deadline = Date.now() + 60_000;
    while (parts() < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await closed;
    expect(parts()).toBe(1);
    const changed = Buffer.from(plain);
    changed[10] = (changed[10] ?? 0) ^ 1;
    writeFileSync(sb.at('changed.bin'), changed);
    expectFailure(await sb.run([...args, 'changed.bin', 's3://b/other.bin'], { env }), 'ERR_STATE', 1);
    expect(parts()).toBe(1);
    await expect(store.head('other.bin')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  }, 120_000);
});

describe('fake OSS (ali-oss signatures verified)', () => {
  let fake: FakeOss;
  let env: Record<string, string>;
  beforeAll(async () => {
    fake = await new FakeOss({ accessKeySecret: OSS_SECRET }).start();
    env = { OSS_ENDPOINT: fake.endpoint, OSS_REGION: 'cn-hangzhou', OSS_ACCESS_KEY_ID: fake.accessKeyId, OSS_ACCESS_KEY_SECRET: OSS_SECRET };
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => sb.secret(OSS_SECRET));

  it('put, get (whole and ranges), head, ls, rewrap, rm', async () => {
    await roundTrip((k) => `oss://${fake.bucket}/${k}`, `oss://${fake.bucket}/dir/`, env, ['--allow-insecure-http']);
    expect(fake.signatureFailures).toBe(0);
  });

  it('multipart with --sse KMS:KEYID; head reports the store encryption', async () => {
    const plain = randomBytes(700_000);
    writeFileSync(sb.at('in.bin'), plain);
    const put = await sb.run(['put', '--key', 'alice.key', '--allow-insecure-http', '--part-size', '100KiB', '--sse', 'KMS:cmk-123', 'in.bin', `oss://${fake.bucket}/sse.bin`], { env });
    expectSuccess(put);
    expect(put.stdout.toString()).toMatch(/, 7 parts \(7 sent now\)\n$/);
    expect(fake.objects.get('sse.bin')?.sse).toEqual({ algorithm: 'KMS', keyId: 'cmk-123' });
    const head = await sb.run(['head', '--allow-insecure-http', `oss://${fake.bucket}/sse.bin`], { env });
    expectSuccess(head);
    expect((JSON.parse(head.stdout.toString()) as { serverSideEncryption: unknown }).serverSideEncryption).toEqual({ algorithm: 'KMS', keyId: 'cmk-123' });
    expectSuccess(await sb.run(['get', '--key', 'alice.key', '--allow-insecure-http', `oss://${fake.bucket}/sse.bin`, 'out.bin'], { env }));
    expect(readFileSync(sb.at('out.bin')).equals(plain)).toBe(true);
    expectFailure(await sb.run(['put', '--key', 'alice.key', '--allow-insecure-http', '--sse', 'aws:kms', 'in.bin', `oss://${fake.bucket}/x`], { env }), 'ERR_USAGE', 2);
    expect(fake.signatureFailures).toBe(0);
  });

  it('escapes a hostile store\'s metadata (a C1 control byte in a header value) in head output', async () => {
    const key = keyOf(sb.at('alice.key'));
    const sealed = await encrypt(new Uint8Array(100), { recipients: [key], context: { [OBJECT_KEY_CONTEXT]: 'hostile.bin' } });
    fake.objects.set('hostile.bin', { bytes: Buffer.from(sealed), meta: { note: 'a\u009b2Jb' }, etag: 'e1', lastModified: new Date() });
    const head = await sb.run(['head', '--allow-insecure-http', `oss://${fake.bucket}/hostile.bin`], { env });
    expectSuccess(head);
    expect(head.stdout.toString()).not.toMatch(HOSTILE);
    expect(head.stdout.toString()).toContain('\\u009b2J');
    expect((JSON.parse(head.stdout.toString()) as { metadata: Record<string, string> }).metadata.note).toBe('a\u009b2Jb');
  });

  it('Ctrl-C during a multipart upload aborts it in the store: nothing is left or visible', async () => {
    const child = spawn(process.execPath, [BIN, 'put', '--key', 'alice.key', '--allow-insecure-http', '--part-size', '100KiB', '--concurrency', '1', '-', `oss://${fake.bucket}/cancelled.bin`], {
      cwd: sb.dir,
      env: { ...sb.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    child.stdin.on('error', () => undefined);
    child.stdin.write(randomBytes(250 * 1024)); // two parts go out, the third waits for stdin
    const partsOf = (): number => [...fake.uploads.values()].filter((u) => u.key === 'cancelled.bin').reduce((n, u) => n + u.parts.size, 0);
    const deadline = Date.now() + 30_000;
    while (partsOf() < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(partsOf()).toBeGreaterThanOrEqual(1);
    child.kill('SIGINT'); // stdin stays open: the upload must notice the signal by itself
    expect(await closed).toBe(130);
    expect(stderr).toBe('enseal: ERR_CANCELLED: interrupted by SIGINT\n');
    expect([...fake.uploads.values()].filter((u) => u.key === 'cancelled.bin')).toEqual([]);
    expect(fake.objects.has('cancelled.bin')).toBe(false);
  });

  it('a wrong secret is the store refusing (ERR_STORE), and the secret is never printed', async () => {
    sb.secret('wrong-Secret-abcdef');
    const r = await sb.run(['ls', '--allow-insecure-http', `oss://${fake.bucket}`], { env: { ...env, OSS_ACCESS_KEY_SECRET: 'wrong-Secret-abcdef' } });
    expectFailure(r, 'ERR_STORE', 1);
  });
});

describe('missing SDKs', () => {
  /** A module resolve hook that makes the two SDKs look uninstalled. */
  function hideSdks(): string {
    const hook = sb.at('hide-sdk-hook.mjs');
    writeFileSync(
      hook,
      `export async function resolve(specifier, context, next) {
  if (specifier === '@aws-sdk/client-s3' || specifier === 'ali-oss') {
    const e = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  }
  return next(specifier, context);
}\n`,
    );
    const register = sb.at('hide-sdk.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);
    return `--import=${pathToFileURL(register).href}`;
  }

  it('says which package to install, and local folders still work', async () => {
    const env = { NODE_OPTIONS: hideSdks(), ...S3_ENV, OSS_REGION: 'cn-hangzhou', OSS_ACCESS_KEY_ID: 'a', OSS_ACCESS_KEY_SECRET: 'b' };
    const s3 = await sb.run(['ls', 's3://b'], { env });
    expectFailure(s3, 'ERR_UNSUPPORTED', 1);
    expect(s3.stderr).toContain('npm install @aws-sdk/client-s3');
    const oss = await sb.run(['ls', 'oss://bkt'], { env });
    expectFailure(oss, 'ERR_UNSUPPORTED', 1);
    expect(oss.stderr).toContain('npm install ali-oss');
    await import('node:fs/promises').then((fs) => fs.mkdir(sb.at('store')));
    writeFileSync(sb.at('in.bin'), 'local');
    expectSuccess(await sb.run(['put', '--key', 'alice.key', 'in.bin', './store/in.bin'], { env }));
    const back = await sb.run(['get', '--key', 'alice.key', './store/in.bin', '-'], { env });
    expectSuccess(back);
    expect(back.stdout.toString()).toBe('local');
  });
});

describe('progress line', () => {
  /** Runs the CLI under a pseudo-terminal (util-linux script); returns what the terminal showed. */
  async function underPty(args: readonly string[]): Promise<{ code: number | null; screen: string }> {
    const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    const line = [process.execPath, BIN, ...args].map(quote).join(' ');
    const child = spawn('script', ['-qec', line, '/dev/null'], { cwd: sb.dir, env: sb.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => out.push(b));
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    const r: RunResult = { code, signal: null, stdout: Buffer.concat(out), stderr: '' };
    sb.assertNoSecrets(r);
    return { code, screen: r.stdout.toString('utf8') };
  }

  it('draws bytes, rate and ETA on a terminal for put and get, and nothing without one', async () => {
    await import('node:fs/promises').then((fs) => fs.mkdir(sb.at('store')));
    writeFileSync(sb.at('in.bin'), randomBytes(3 * MiB));
    const put = await underPty(['put', '--key', 'alice.key', '--part-size', '1MiB', 'in.bin', './store/p.bin']);
    expect(put.code).toBe(0);
    expect(put.screen).toMatch(/\renseal: put {2}[\d.]+ (B|KiB|MiB) \/ 3\.0 MiB {2}[\d.]+% {2}[\d.]+ MB\/s {2}ETA (\d+:\d\d|--:--)\x1b\[K/);
    expect(put.screen).toContain('\r\x1b[K'); // erased at the end
    const get = await underPty(['get', '--key', 'alice.key', './store/p.bin', 'out.bin']);
    expect(get.code).toBe(0);
    expect(get.screen).toMatch(/\renseal: get {2}[\d.]+ (B|KiB|MiB) \/ 3\.0 MiB/);
    expect(readFileSync(sb.at('out.bin')).equals(readFileSync(sb.at('in.bin')))).toBe(true);
    // Not a terminal: stderr stays empty.
    expectSuccess(await sb.run(['put', '--key', 'alice.key', 'in.bin', './store/q.bin']));
    expectSuccess(await sb.run(['get', '--key', 'alice.key', './store/q.bin', 'out2.bin']));
  });
});
