/**
 * Views of detached buffers. A view whose `ArrayBuffer` was transferred away (`postMessage`,
 * `structuredClone(…, { transfer })`) reads as empty, and WebCrypto copies a detached input as
 * zero bytes. Regressions: `encrypt` on WebCrypto returned an object whose chunks failed to
 * authenticate when the caller transferred the plaintext while it ran; a stream written a chunk
 * that was transferred before the stream read it produced a valid encryption of the empty
 * message; and `enseal/chunked` `seal` on WebCrypto returned a payload that did not open.
 * Now: a detached view is refused up front (TypeError), an input detached while an asynchronous
 * operation reads it fails that operation (`ERR_STATE`), and nothing shorter is ever returned.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { aesKey, checksumStream, createChecksummer, crc64, decrypt, encrypt, encryptStream, rewrap, rotate, wasmSync, ready } from '../src/index.js';
import * as chunked from '../src/chunked.js';
import { createEncryptStream } from '../src/node.js';
import { isDetached } from '../src/bytes.js';
import { pushChunk } from '../src/streams/push-transform.js';
import { closeSharedPools } from '../src/pool/shared.js';
import { encryptedBucket } from '../src/storage.js';
import { memoryStore } from '../src/storage/memory.js';
import { s3ecAesKey, sealOssObject, sealS3ecObject, ossRsaKey } from '../src/interop.js';
import { generateKeyPairSync } from 'node:crypto';
import { BACKENDS, expectCode } from './helpers.js';

const KEY = aesKey({ id: 'detach', key: randomBytes(32) });
const MiB = 1 << 20;

/** Transfers `b`'s buffer away, leaving `b` a view of a detached buffer. */
function detach(b: Uint8Array): void {
  structuredClone(b.buffer, { transfer: [b.buffer as ArrayBuffer] });
}

/** A view over its own new ArrayBuffer (not Node's shared Buffer pool) holding `bytes`. */
function own(bytes: Uint8Array): Uint8Array {
  const u = new Uint8Array(new ArrayBuffer(bytes.length));
  u.set(bytes);
  return u;
}

function detached(n = 64): Uint8Array {
  const u = own(randomBytes(n));
  detach(u);
  return u;
}

afterAll(async () => {
  await closeSharedPools();
});

describe('isDetached', () => {
  it('is true only for a view of a detached buffer', () => {
    expect(isDetached(new Uint8Array(8))).toBe(false);
    expect(isDetached(new Uint8Array(0))).toBe(false);
    expect(isDetached(new Uint8Array(new ArrayBuffer(8), 8))).toBe(false); // empty view at the end of a live buffer
    expect(isDetached(new Uint8Array(new SharedArrayBuffer(0)))).toBe(false);
    const u = new Uint8Array(16);
    const sub = u.subarray(4, 8);
    detach(u);
    expect(isDetached(u)).toBe(true);
    expect(isDetached(sub)).toBe(true);
  });
});

describe('a detached view is refused up front', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: encrypt, decrypt, chunked seal/open, rotate, rewrap`, async () => {
      await expect(encrypt(detached(), { recipients: [KEY], backend })).rejects.toThrow(/"plaintext" is a view of a detached ArrayBuffer/);
      await expect(decrypt(detached(), { keys: [KEY], backend })).rejects.toThrow(/"ciphertext" is a view of a detached ArrayBuffer/);
      await expect(chunked.seal(randomBytes(32), detached(), { backend })).rejects.toThrow(/"plaintext" is a view of a detached/);
      await expect(chunked.seal(detached(32), randomBytes(8), { backend })).rejects.toThrow(/"inputKey" is a view of a detached/);
      await expect(chunked.open(randomBytes(32), detached(), { backend })).rejects.toThrow(/"ciphertext" is a view of a detached/);
      await expect(rotate(detached(), { keys: [KEY], recipients: [KEY], backend })).rejects.toThrow(/detached/);
      await expect(rewrap(detached(), { keys: [KEY], add: [KEY], backend })).rejects.toThrow(/detached/);
    });
  }
  it('aesKey and the synchronous WASM API', async () => {
    expect(() => aesKey({ id: 'x', key: detached(32) })).toThrow(TypeError);
    await ready();
    expect(() => wasmSync().gcmSeal(randomBytes(32), randomBytes(12), detached())).toThrow(/"plaintext" is a view of a detached/);
  });
  it('the checksums refuse a detached chunk instead of counting it as empty', async () => {
    expect(() => crc64(detached())).toThrow(/"data" is a view of a detached ArrayBuffer/);
    const c = await createChecksummer({ crc64: true, md5: true, sha256: true });
    expect(() => c.update(detached())).toThrow(/"data" is a view of a detached ArrayBuffer/);
    const tap = checksumStream({ md5: true });
    const w = tap.writable.getWriter();
    const reading = tap.readable.getReader().read();
    reading.catch(() => undefined);
    await expect(w.write(detached())).rejects.toThrow(/checksumStream chunk is a view of a detached ArrayBuffer/);
    await expect(tap.digests).rejects.toThrow(/detached/);
  });
  it('a stream errors on a detached chunk instead of encrypting nothing (Web and Node streams)', async () => {
    const ts = encryptStream({ recipients: [KEY] });
    const reading = new Response(ts.readable).arrayBuffer(); // rejects when the stream errors
    const w = ts.writable.getWriter();
    const u = own(randomBytes(100_000));
    const written = w.write(u);
    detach(u); // after write(), before the stream read it
    await expect(written).rejects.toThrow(/stream chunk is a view of a detached ArrayBuffer/);
    await expect(reading).rejects.toThrow(/detached/);

    // Written straight to the Transform: a Node Readable that buffers a chunk which is then
    // detached hangs by itself (a bare PassThrough in pipeline() never ends), whatever follows it.
    const t = createEncryptStream({ recipients: [KEY] });
    const ended = new Promise<string>((resolve) => {
      t.on('error', (e) => resolve(e.message));
      t.on('finish', () => resolve('finished'));
    });
    t.resume();
    const v = own(randomBytes(100_000));
    t.write(v);
    detach(v); // the stream reads it only once its machine exists (after an await)
    t.end();
    expect(await ended).toMatch(/stream chunk is a view of a detached ArrayBuffer/);
  });
});

describe('an input detached while an operation reads it', () => {
  // Each case starts the operation, then transfers the input's buffer before awaiting it. The
  // operation either had read everything already (synchronous paths: node:crypto without
  // workers), and then its result is the whole message, or it fails with ERR_STATE: never a
  // shorter message presented as complete.
  const cases = BACKENDS.flatMap((backend) => [
    { backend, workers: undefined },
    { backend, workers: 2 as const },
  ]);
  for (const { backend, workers } of cases) {
    const label = `${backend}${workers ? ', workers: 2' : ''}`;
    const asynchronous = backend !== 'node' || workers !== undefined;

    it(`encrypt / decrypt (${label})`, async () => {
      const plain = randomBytes(2 * MiB + 123);
      const p = own(plain);
      const sealing = encrypt(p, { recipients: [KEY], backend, workers });
      detach(p);
      if (asynchronous) await expectCode(sealing, 'ERR_STATE');
      else expect(Buffer.from(await decrypt(await sealing, { keys: [KEY] })).equals(plain)).toBe(true);

      const c = own(await encrypt(plain, { recipients: [KEY] }));
      const opening = decrypt(c, { keys: [KEY], backend, workers });
      detach(c);
      if (asynchronous) await expectCode(opening, 'ERR_STATE');
      else expect(Buffer.from(await opening).equals(plain)).toBe(true);
    });

    it(`enseal/chunked seal / open (${label})`, async () => {
      const key = randomBytes(32);
      const plain = randomBytes(MiB + 7);
      const p = own(plain);
      const sealing = chunked.seal(key, p, { backend, workers });
      detach(p);
      await expectCode(sealing, 'ERR_STATE'); // reads after its first await on every backend

      const c = own(await chunked.seal(key, plain));
      const opening = chunked.open(key, c, { backend, workers });
      detach(c);
      await expectCode(opening, 'ERR_STATE');
    });
  }

  it('rotate never returns less than the whole message', async () => {
    for (const backend of BACKENDS) {
      const plain = randomBytes(MiB);
      const c = own(await encrypt(plain, { recipients: [KEY] }));
      const rotating = rotate(c, { keys: [KEY], recipients: [KEY], backend });
      detach(c);
      const r = await rotating.then(
        (v) => v,
        (e: unknown) => e,
      );
      if (r instanceof Uint8Array) expect(Buffer.from(await decrypt(r, { keys: [KEY] })).equals(plain)).toBe(true);
      else expect((r as { code?: string }).code).toBe('ERR_STATE');
    }
  });

  it('a stream step that settles after its chunk was detached errors, and its output is wiped', async () => {
    const chunk = own(randomBytes(1000));
    let release!: () => void;
    const piece = new Uint8Array(16).fill(0xaa);
    const machine = {
      push: () => new Promise<Uint8Array[]>((r) => (release = () => r([piece]))),
      finish: async () => [],
    };
    const step = pushChunk(machine, chunk);
    expect(Array.isArray(step)).toBe(false);
    detach(chunk);
    release();
    await expectCode(step as Promise<Uint8Array[]>, 'ERR_STATE');
    expect(piece.every((b) => b === 0)).toBe(true);

    const live = own(randomBytes(1000));
    const ok = pushChunk({ push: async () => [piece.fill(1)], finish: async () => [] }, live);
    expect(await ok).toEqual([piece]); // an attached chunk passes through
  });
});

describe('storage and the foreign formats', () => {
  const collect = async (st: ReadableStream<Uint8Array>): Promise<Uint8Array> => new Uint8Array(await new Response(st).arrayBuffer());

  it('a bucket refuses a detached body up front, and fails a multipart upload whose body is transferred meanwhile (nothing visible)', async () => {
    const store = memoryStore({ multipart: { minPartSize: 16 } });
    const bucket = encryptedBucket(store, { recipients: [KEY], keys: [KEY], partSize: 64 * 1024, multipartThreshold: 64 * 1024, retry: { retries: 0 } });
    await expect(bucket.putObject('a', detached())).rejects.toThrow(/detached/);

    const body = own(randomBytes(1 << 20)); // 16 parts
    const putting = bucket.putObject('b', body);
    detach(body);
    await expectCode(putting, 'ERR_STATE');
    await expectCode(bucket.getObject('b').then((r) => collect(r.body)), 'ERR_NOT_FOUND');
  });

  it('a store refuses a detached body instead of storing an empty object (memory and filesystem stores)', async () => {
    const { fsStore } = await import('../src/storage/fs.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'enseal-detach-'));
    try {
      for (const store of [memoryStore(), fsStore(dir)]) {
        await expect(store.put('x', detached())).rejects.toThrow(/detached/);
        await expectCode(store.head('x'), 'ERR_NOT_FOUND');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a stream body with a detached chunk is refused, not uploaded short', async () => {
    const store = memoryStore();
    const bucket = encryptedBucket(store, { recipients: [KEY], keys: [KEY] });
    const chunk = own(randomBytes(1000));
    detach(chunk);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(own(randomBytes(1000)));
        c.enqueue(chunk);
        c.close();
      },
    });
    await expect(bucket.putObject('s', body)).rejects.toThrow(/detached/);
  });

  it('sealOssObject / sealS3ecObject: ERR_STATE when the plaintext is transferred while they run', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const oss = ossRsaKey({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string });
    const p = own(randomBytes(100_000));
    const sealing = sealOssObject(p, { recipients: [oss] });
    detach(p);
    await expectCode(sealing, 'ERR_STATE');
    const q = own(randomBytes(100_000));
    const s3 = sealS3ecObject(q, { recipients: [s3ecAesKey({ key: randomBytes(32) })] });
    detach(q);
    await expectCode(s3, 'ERR_STATE');
    await expect(sealOssObject(detached(), { recipients: [oss] })).rejects.toThrow(/detached/);
  });
});
