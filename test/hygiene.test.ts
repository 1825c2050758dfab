/**
 * Key hygiene, on every backend: every stream kind (encryptStream, decryptStream, sealStream,
 * openStream, createEncryptStream, createDecryptStream) disposes its keys when it is cancelled,
 * aborted, destroyed or errors, at several points (before the first chunk, after the header,
 * mid-stream), counted with the internal live-key counter; disposed backend keys and chunk
 * ciphers fail with ERR_STATE (also for calls in flight); HKDF wipes every intermediate buffer.
 */
import { Readable, Writable, type Transform } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { aesKey, decrypt, decryptStream, encrypt, encryptStream, getBackend, inspect, type CryptoBackend } from '../src/index.js';
import * as chunked from '../src/chunked.js';
import { createDecryptStream, createEncryptStream } from '../src/node.js';
import { liveKeyCount } from '../src/backends/live-keys.js';
import { hkdf, hkdfExpand } from '../src/backends/hkdf.js';
import { ChunkCipher, COBBLESTONE_256, deriveMessageKeys } from '../src/format/cobblestone.js';
import { utf8, type Bytes } from '../src/bytes.js';
import { BACKENDS, caught, expectCode, pseudoRandom } from './helpers.js';

const CHUNK = 16384;
const SEALED = CHUNK + 16;
const PRE = 56;
const KEY = aesKey({ id: 'hygiene', key: pseudoRandom(32, 41) });
const INPUT_KEY = pseudoRandom(32, 42);
const PLAIN = pseudoRandom(5 * CHUNK + 333, 43);

/** Waits (bounded) until the live-key count is back to `before`; returns the count then. */
async function settled(before: number): Promise<number> {
  for (let i = 0; i < 200 && liveKeyCount() !== before; i++) await new Promise((r) => setTimeout(r, 5));
  return liveKeyCount();
}

const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

type End = 'cancel' | 'abort' | 'error';

/**
 * Writes `writes` through a Web TransformStream while draining its output, then ends it the
 * given way: cancel the readable side, abort the writable side, or write a chunk that is not
 * bytes. Returns the live-key count seen just before the end.
 */
async function driveWeb(ts: TransformStream<Uint8Array, Uint8Array>, writes: Uint8Array[], end: End): Promise<number> {
  const reader = ts.readable.getReader();
  const writer = ts.writable.getWriter();
  const reading = (async () => {
    try {
      for (;;) if ((await reader.read()).done) return;
    } catch {
      // errored by the end below
    }
  })();
  for (const w of writes) await writer.write(w);
  const live = liveKeyCount();
  if (end === 'cancel') await reader.cancel(new Error('cancelled by the test'));
  else if (end === 'abort') await writer.abort(new Error('aborted by the test'));
  else expect(await caught(writer.write('not bytes' as never))).toBeInstanceOf(TypeError);
  await reading;
  return live;
}

for (const backend of BACKENDS) {
  describe(`stream key disposal / ${backend}`, () => {
    let sealedObject: Uint8Array;
    let H: number;
    let sealedPayload: Uint8Array;
    const object = async () => (sealedObject ??= await encrypt(PLAIN, { recipients: [KEY], backend }));
    const payload = async () => (sealedPayload ??= await chunked.seal(INPUT_KEY, PLAIN, { backend }));

    // What to write for each point of each stream kind. `keyed` says whether the stream's keys
    // must exist at that point (the count must then be above its start: the test can fail).
    type Point = { name: string; writes: () => Promise<Uint8Array[]>; keyed: boolean };
    const encPoints: Point[] = [
      { name: 'before the first chunk', writes: async () => [], keyed: false },
      { name: 'after the header (one small write)', writes: async () => [PLAIN.subarray(0, 10)], keyed: true },
      { name: 'mid-stream (3 chunks written)', writes: async () => [PLAIN.subarray(0, 3 * CHUNK + 5)], keyed: true },
    ];
    const decPoints = (bytes: () => Promise<Uint8Array>, headerLength: () => number): Point[] => [
      { name: 'before the first chunk', writes: async () => [], keyed: false },
      { name: 'after the header and preamble', writes: async () => [(await bytes()).subarray(0, headerLength() + PRE + 10)], keyed: true },
      {
        name: 'mid-stream (2 chunks released)',
        writes: async () => {
          const b = await bytes();
          return [b.subarray(0, headerLength() + PRE + 1000), b.subarray(headerLength() + PRE + 1000, headerLength() + PRE + 2 * SEALED + 7)];
        },
        keyed: true,
      },
    ];

    const kinds: [string, () => TransformStream<Uint8Array, Uint8Array>, () => Point[]][] = [
      ['encryptStream', () => encryptStream({ recipients: [KEY], backend }), () => encPoints],
      ['sealStream', () => chunked.sealStream(INPUT_KEY, { backend }), () => encPoints],
      ['decryptStream', () => decryptStream({ keys: [KEY], backend }), () => decPoints(object, () => H)],
      ['openStream', () => chunked.openStream(INPUT_KEY, { backend }), () => decPoints(payload, () => 0)],
    ];

    for (const [kind, make, points] of kinds) {
      for (const end of ['cancel', 'abort', 'error'] as const) {
        it(`${kind}: ${end} at every point disposes the keys`, async () => {
          H = inspect(await object()).headerLength;
          await payload();
          for (const point of points()) {
            const before = await settled(liveKeyCount());
            const writes = await point.writes();
            const live = await driveWeb(make(), writes, end);
            if (point.keyed) expect(live, `${point.name}: keys alive before the ${end}`).toBeGreaterThan(before);
            expect(await settled(before), `${point.name}: after the ${end}`).toBe(before);
          }
        });
      }
    }

    it('decryptStream / openStream: a tampered chunk (ERR_AUTH) disposes the keys', async () => {
      H = inspect(await object()).headerLength;
      for (const [make, bytes, at] of [
        [() => decryptStream({ keys: [KEY], backend }), (await object()).slice(), H + PRE + SEALED + 5],
        [() => chunked.openStream(INPUT_KEY, { backend }), (await payload()).slice(), PRE + SEALED + 5],
      ] as const) {
        const before = await settled(liveKeyCount());
        bytes[at]! ^= 1;
        const ts = make();
        const reader = ts.readable.getReader();
        const reading = (async () => {
          for (;;) if ((await reader.read()).done) return;
        })();
        const writer = ts.writable.getWriter();
        const e = await caught((async () => {
          await writer.write(bytes);
          await writer.close();
        })());
        expect(e).toMatchObject({ code: 'ERR_AUTH', chunk: 1 });
        await expectCode(reading, 'ERR_AUTH');
        expect(await settled(before)).toBe(before);
      }
    });

    it('a finished stream holds no key (every kind, success path)', async () => {
      const before = await settled(liveKeyCount());
      const run = async (ts: TransformStream<Uint8Array, Uint8Array>, input: Uint8Array) =>
        new Uint8Array(await new Response(new Blob([input as Uint8Array<ArrayBuffer>]).stream().pipeThrough(ts)).arrayBuffer());
      const ct = await run(encryptStream({ recipients: [KEY], backend }), PLAIN);
      expect(await run(decryptStream({ keys: [KEY], backend }), ct)).toEqual(PLAIN);
      const ct2 = await run(chunked.sealStream(INPUT_KEY, { backend }), PLAIN);
      expect(await run(chunked.openStream(INPUT_KEY, { backend }), ct2)).toEqual(PLAIN);
      expect(await decrypt(ct, { keys: [KEY], backend })).toEqual(PLAIN);
      expect(await settled(before)).toBe(before);
    });

    describe('Node Transforms', () => {
      const nodeKinds: [string, () => Transform, () => Promise<Point[]>][] = [
        ['createEncryptStream', () => createEncryptStream({ recipients: [KEY], backend }), async () => encPoints],
        [
          'createDecryptStream',
          () => createDecryptStream({ keys: [KEY], backend }),
          async () => {
            H = inspect(await object()).headerLength;
            return decPoints(object, () => H);
          },
        ],
      ];
      for (const [kind, make, points] of nodeKinds) {
        it(`${kind}: destroy() at every point disposes the keys`, async () => {
          for (const point of await points()) {
            const before = await settled(liveKeyCount());
            const t = make();
            t.on('data', () => undefined); // flowing: output never blocks the transform
            t.on('error', () => undefined);
            // each write's callback runs once the transform consumed it (its keys exist by then)
            for (const w of await point.writes()) await new Promise<void>((res, rej) => t.write(w, (e) => (e ? rej(e) : res())));
            if (point.keyed) expect(liveKeyCount(), `${point.name}: keys alive before destroy`).toBeGreaterThan(before);
            t.destroy();
            expect(await settled(before), `${point.name}: after destroy`).toBe(before);
          }
        });

        it(`${kind}: an error in the pipeline (failing source) disposes the keys`, async () => {
          for (const point of await points()) {
            const before = await settled(liveKeyCount());
            const writes = await point.writes();
            async function* failing() {
              for (const w of writes) yield w;
              await new Promise((r) => setTimeout(r, 20));
              throw new Error('source failed');
            }
            const sink = new Writable({ write: (_c, _e, cb) => cb() });
            expect(await caught(pipeline(Readable.from(failing()), make(), sink))).toMatchObject({ message: 'source failed' });
            expect(await settled(before), point.name).toBe(before);
          }
        });
      }

      it('createDecryptStream: a tampered chunk destroys the stream and disposes the keys', async () => {
        const before = await settled(liveKeyCount());
        const bad = (await object()).slice();
        bad[inspect(bad).headerLength + PRE + 2 * SEALED + 9]! ^= 4;
        const sink = new Writable({ write: (_c, _e, cb) => cb() });
        const e = await caught(pipeline(Readable.from([bad]), createDecryptStream({ keys: [KEY], backend }), sink));
        expect(e).toMatchObject({ code: 'ERR_AUTH', chunk: 2 });
        expect(await settled(before)).toBe(before);
      });
    });
  });

  describe(`disposed keys and ciphers throw ERR_STATE / ${backend}`, () => {
    const b = () => getBackend(backend);
    const nonce = new Uint8Array(12);

    it('AesGcmKey: dispose is idempotent, counted once, and every later call is ERR_STATE', async () => {
      const before = liveKeyCount();
      const k = await b().aesGcm(pseudoRandom(32, 1));
      expect(liveKeyCount()).toBe(before + 1);
      const sealed = await k.seal(nonce, utf8('secret'));
      k.dispose();
      k.dispose();
      expect(liveKeyCount()).toBe(before);
      await expectCode(k.seal(nonce, utf8('x')), 'ERR_STATE');
      await expectCode(k.open(nonce, sealed), 'ERR_STATE');
      await expectCode(k.sealBatch([nonce], [utf8('x')]), 'ERR_STATE');
      await expectCode(k.openBatch([nonce], [sealed]), 'ERR_STATE');
    });

    it('AesGcmKey: calls in flight when dispose() runs reject with ERR_STATE (no plaintext)', async () => {
      const k = await b().aesGcm(pseudoRandom(32, 2));
      const sealed = await k.seal(nonce, utf8('secret'));
      const batch = await k.sealBatch([nonce], [utf8('secret')]);
      const joined = new Uint8Array(batch.reduce((n, p) => n + p.length, 0));
      batch.reduce((o, p) => (joined.set(p, o), o + p.length), 0);
      const inFlight = [k.open(nonce, sealed), k.openBatch([nonce], [joined]), k.seal(nonce, utf8('x')), k.sealBatch([nonce], [utf8('x')])];
      k.dispose();
      // Every promise gets its handler now (awaiting them one by one would leave the later ones
      // rejected without a handler for a while: an unhandled rejection).
      for (const e of await Promise.all(inFlight.map((p) => caught(p)))) expect(e).toMatchObject({ code: 'ERR_STATE' });
    });

    it('AesBlockKey: dispose is idempotent and counted once; later and in-flight calls are ERR_STATE', async () => {
      const before = liveKeyCount();
      const k = await b().aesBlock(pseudoRandom(32, 3));
      expect(liveKeyCount()).toBe(before + 1);
      const block = await k.encrypt(new Uint8Array(16));
      const inFlight = k.decrypt(block);
      k.dispose();
      k.dispose();
      expect(liveKeyCount()).toBe(before);
      await expectCode(inFlight, 'ERR_STATE');
      await expectCode(k.encrypt(new Uint8Array(16)), 'ERR_STATE');
      await expectCode(k.decrypt(block), 'ERR_STATE');
    });

    it('ChunkCipher: later and in-flight calls are ERR_STATE; dispose is idempotent and disposes its key', async () => {
      const before = liveKeyCount();
      const { cipher } = await deriveMessageKeys(b(), COBBLESTONE_256, INPUT_KEY, new Uint8Array(24), new Uint8Array(0));
      expect(liveKeyCount()).toBe(before + 1);
      const c0 = await cipher.seal(0, utf8('chunk zero'));
      const inFlight = [cipher.open(0, c0), cipher.openChunks(0, [c0]), cipher.seal(1, utf8('x')), cipher.sealChunks(1, [utf8('x')])];
      cipher.dispose();
      cipher.dispose();
      expect(cipher.disposed).toBe(true);
      expect(liveKeyCount()).toBe(before);
      // Every promise gets its handler now (awaiting them one by one would leave the later ones
      // rejected without a handler for a while: an unhandled rejection).
      for (const e of await Promise.all(inFlight.map((p) => caught(p)))) expect(e).toMatchObject({ code: 'ERR_STATE' });
      await expectCode(cipher.open(0, c0), 'ERR_STATE');
      let thrown: unknown;
      try {
        cipher.nonce(0);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toMatchObject({ code: 'ERR_STATE' });
    });

    it('a ChunkCipher over a backend that ignores disposal still releases nothing after dispose', async () => {
      // A custom AesGcmKey that keeps answering: the cipher's own check must stop the plaintext.
      const real = await b().aesGcm(pseudoRandom(32, 5));
      const sealed = await real.seal(nonce, utf8('plaintext'));
      let released: Bytes | undefined;
      const lax = {
        seal: real.seal.bind(real),
        sealBatch: real.sealBatch.bind(real),
        openBatch: real.openBatch.bind(real),
        async open(n: Uint8Array, s: Uint8Array) {
          await new Promise((r) => setTimeout(r, 5));
          released = new Uint8Array(9).fill(0x41) as Bytes;
          return released;
        },
        dispose() {},
      };
      const cipher = new ChunkCipher(lax, new Uint8Array(12));
      const p = cipher.open(0, sealed);
      cipher.dispose();
      await expectCode(p, 'ERR_STATE');
      expect(released !== undefined && isZero(released)).toBe(true); // the late result was wiped
      real.dispose();
    });
  });

  describe(`HKDF wipes its intermediate buffers / ${backend}`, () => {
    /** The backend with a spying hmac: keeps every input and output buffer it saw. */
    function spy(failAt?: number): { b: CryptoBackend; inputs: Uint8Array[]; outputs: Uint8Array[] } {
      const base = getBackend(backend);
      const inputs: Uint8Array[] = [];
      const outputs: Uint8Array[] = [];
      const b: CryptoBackend = {
        ...base,
        async hmac(hash, key, data) {
          inputs.push(data);
          if (inputs.length === failAt) throw new Error('hmac failed');
          const out = await base.hmac(hash, key, data);
          outputs.push(out);
          return out;
        },
      };
      return { b, inputs, outputs };
    }

    it('hkdfExpand: every T(i) and every HMAC input is zero afterwards; the output is right', async () => {
      const prk = pseudoRandom(64, 7);
      const info = utf8('info for the test');
      for (const length of [1, 64, 76, 200]) {
        const { b, inputs, outputs } = spy();
        const okm = await hkdfExpand(b, 'SHA-512', prk, info, length);
        expect(okm).toEqual(await hkdfExpand(getBackend(backend), 'SHA-512', prk, info, length));
        expect(inputs).toHaveLength(Math.ceil(length / 64));
        expect(outputs).toHaveLength(Math.ceil(length / 64));
        expect(okm.some((x) => x !== 0)).toBe(true);
        for (const buf of [...inputs, ...outputs]) expect(isZero(buf)).toBe(true);
        expect(prk.some((x) => x !== 0)).toBe(true); // the caller's PRK is not touched
      }
    });

    it('hkdfExpand: when an HMAC fails, the blocks already computed are wiped', async () => {
      const { b, inputs, outputs } = spy(3);
      expect(await caught(hkdfExpand(b, 'SHA-256', pseudoRandom(32, 8), utf8('i'), 100))).toMatchObject({ message: 'hmac failed' });
      expect(outputs).toHaveLength(2);
      for (const buf of [...inputs, ...outputs]) expect(isZero(buf)).toBe(true);
    });

    it('hkdf: the PRK (the Extract output) is wiped, on success and on error', async () => {
      const ok = spy();
      const okm = await hkdf(ok.b, 'SHA-256', pseudoRandom(32, 9), utf8('salt'), utf8('info'), 42);
      expect(okm).toEqual(await hkdf(getBackend(backend), 'SHA-256', pseudoRandom(32, 9), utf8('salt'), utf8('info'), 42));
      expect(ok.outputs.length).toBe(3); // PRK, T(1), T(2)
      for (const buf of [...ok.inputs.slice(1), ...ok.outputs]) expect(isZero(buf)).toBe(true);
      const bad = spy(2);
      expect(await caught(hkdf(bad.b, 'SHA-256', pseudoRandom(32, 9), utf8('salt'), utf8('info'), 42))).toMatchObject({ message: 'hmac failed' });
      expect(isZero(bad.outputs[0]!)).toBe(true); // the PRK
    });

    it('deriveMessageKeys leaves no derived block behind (AEAD key, base nonce, commitment blocks)', async () => {
      const { b, inputs, outputs } = spy();
      const keys = await deriveMessageKeys(b, COBBLESTONE_256, INPUT_KEY, new Uint8Array(24), utf8('ctx'));
      expect(outputs).toHaveLength(2); // 76 bytes of SHA-512 output
      for (const buf of [...inputs, ...outputs]) expect(isZero(buf)).toBe(true);
      expect(keys.commitment.some((x) => x !== 0)).toBe(true);
      keys.cipher.dispose();
    });
  });
}

describe('a runtime whose TransformStream never calls the transformer cancel hook', () => {
  // Older Streams implementations have no transformer `cancel`: simulate one by stripping the
  // hook before it reaches the platform's TransformStream.
  const Real = globalThis.TransformStream;
  class NoCancelHook<I, O> extends Real<I, O> {
    constructor(transformer?: Transformer<I, O>, writable?: QueuingStrategy<I>, readable?: QueuingStrategy<O>) {
      const { cancel: _dropped, ...rest } = (transformer ?? {}) as Transformer<I, O> & { cancel?: unknown };
      super(rest, writable, readable);
    }
  }
  const withoutHook = async (f: () => Promise<void>): Promise<void> => {
    globalThis.TransformStream = NoCancelHook as typeof TransformStream;
    try {
      await f();
    } finally {
      globalThis.TransformStream = Real;
    }
  };
  const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

  for (const backend of BACKENDS) {
    it(`${backend}: a stream cancelled while a write is in flight disposes its keys at the end of that step`, async () => {
      const base = getBackend(backend);
      // A backend whose batch sealing takes a while, so that the cancel lands mid-step.
      const slow: CryptoBackend = {
        ...base,
        async aesGcm(k) {
          const key = await base.aesGcm(k);
          return {
            seal: (n, p, a) => key.seal(n, p, a),
            open: (n, s, a) => key.open(n, s, a),
            openBatch: (n, s) => key.openBatch(n, s),
            async sealBatch(n, p) {
              await delay(30);
              return key.sealBatch(n, p);
            },
            dispose: () => key.dispose(),
          };
        },
      };
      await withoutHook(async () => {
        const before = await settled(liveKeyCount());
        const ts = encryptStream({ recipients: [KEY], backend: slow });
        const reader = ts.readable.getReader();
        let parts = 0;
        const reading = (async () => {
          for (;;) {
            const { done } = await reader.read();
            if (done) return;
            parts++;
          }
        })().catch(() => undefined);
        for (let i = 0; i < 200 && parts < 3; i++) await delay(5); // header, salt, commitment
        expect(parts).toBe(3);
        // A read is pending, so there is no backpressure: the write reaches the transform at once.
        const write = ts.writable.getWriter().write(PLAIN.subarray(0, 2 * CHUNK)).catch((e: unknown) => e);
        await delay(5);
        await reader.cancel(new Error('cancelled mid-step'));
        await reading;
        expect(liveKeyCount(), 'no hook: the keys outlive the cancel until the step ends').toBeGreaterThan(before);
        expect(await write).toBeInstanceOf(TypeError); // the step's enqueue found the readable gone
        expect(await settled(before)).toBe(before);
      });
    });
  }

  it('a stream in use through its two ends keeps its keys across garbage collections (the TransformStream object itself dropped)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    for (const hook of [true, false]) {
      const run = async () => {
        const before = await settled(liveKeyCount());
        const make = () => {
          const ts = encryptStream({ recipients: [KEY], backend: 'node' });
          return { reader: ts.readable.getReader(), writer: ts.writable.getWriter() }; // `ts` is unreachable after this
        };
        const { reader, writer } = make();
        const parts: Uint8Array[] = [];
        const reading = (async () => {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            parts.push(value);
          }
        })();
        for (let i = 0; i < 5; i++) {
          gc();
          await delay(10);
          expect(liveKeyCount(), `hook=${hook}: collection ${i}`).toBeGreaterThan(before);
          await writer.write(PLAIN.subarray(i * CHUNK, (i + 1) * CHUNK));
        }
        await writer.close();
        await reading;
        const ct = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        parts.reduce((o, p) => (ct.set(p, o), o + p.length), 0);
        expect(await decrypt(ct, { keys: [KEY] })).toEqual(PLAIN.subarray(0, 5 * CHUNK));
        expect(await settled(before)).toBe(before);
      };
      if (hook) await run();
      else await withoutHook(run);
    }
  });

  it('an idle stream that is cancelled and dropped is disposed when it is garbage-collected', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    await withoutHook(async () => {
      const before = await settled(liveKeyCount());
      // Held until the precondition is checked, so an early collection cannot dispose it first.
      let held: TransformStream<Uint8Array, Uint8Array> | undefined = encryptStream({ recipients: [KEY], backend: 'node' });
      await (async () => {
        const reader = held.readable.getReader();
        await reader.read(); // the header: the keys exist
        await reader.cancel(new Error('cancelled while idle'));
      })();
      await delay(20);
      expect(liveKeyCount(), 'no hook: nothing disposed the keys at cancel time').toBeGreaterThan(before);
      held = undefined; // dropped: only the collector can dispose it now
      for (let i = 0; i < 50 && liveKeyCount() !== before; i++) {
        gc();
        await delay(10);
      }
      expect(liveKeyCount()).toBe(before);
    });
  });
});
