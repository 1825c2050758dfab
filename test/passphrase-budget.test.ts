/**
 * Passphrase KDF work budget and worker thread: the cost model; a hostile 64-stanza header at
 * the new maxima fails within the budget (error codes, wall clock, memory and threads after the
 * call); cheap stanzas before expensive ones; any number of passphrase recipients decrypts, and
 * encryption refuses recipients a reader could not all try; the budget is per header; the event
 * loop turns during a derivation; pinned parameters; the `pbkdf2` alias; `ERR_NO_KEY` listing
 * recipients and keys with hostile text escaped; the worker fallback paths.
 */
import { describe, expect, it } from 'vitest';
import { aesKey, decrypt, encrypt, EnsealError, getBackend, inspect, kdfCost, rewrap, type KeyProvider, type Stanza, type WrapContext } from '../src/index.js';
import { kdfSpent } from '../src/keys/kdf-budget.js';
import { deriveInWorker, kdfWorkerConcurrency, kdfWorkerEnvironment, liveKdfWorkers, type KdfWorkerEnvironment } from '../src/keys/kdf-thread.js';
import { chargeKeptPassphraseStanzas, passphrase, PASSPHRASE_STANZA, type PassphraseOptions, type PassphraseProvider } from '../src/keys/passphrase.js';
import { deriveKey, deriveKeyOnThisThread, type KdfParams } from '../src/keys/passphrase-kdf.js';
import { DEFAULT_KDF_PARAMS, PASSPHRASE_LIMITS } from '../src/keys/passphrase-params.js';
import { expectCode, pseudoRandom, toHex } from './helpers.js';

const text = new TextEncoder().encode('budgeted');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const SALT = b64(pseudoRandom(16, 5));
const CHEAP: Record<'argon2id' | 'scrypt' | 'pbkdf2-sha256', Pick<PassphraseOptions, 'kdf' | 'params'>> = {
  argon2id: { kdf: 'argon2id', params: { memoryKiB: 1024, iterations: 1, parallelism: 1 } },
  scrypt: { kdf: 'scrypt', params: { N: 1024, r: 8, p: 1 } },
  'pbkdf2-sha256': { kdf: 'pbkdf2-sha256', params: { iterations: 10_000 } },
};
const cheap = (pw: string, kdf: keyof typeof CHEAP = 'argon2id', extra: Partial<PassphraseOptions> = {}): PassphraseProvider =>
  passphrase({ passphrase: pw, ...CHEAP[kdf], ...extra } as PassphraseOptions);

/** A provider that writes a hand-built stanza (the attacker's object). */
const forger = (stanza: Stanza): KeyProvider => ({ description: 'forger', wrap: async () => stanza, unwrap: async () => null });

/** Stanza parameters at each KDF's new maximum (structurally valid; wrapped bytes are random). */
const AT_MAX = {
  argon2id: { kdf: 'argon2id', m: String(PASSPHRASE_LIMITS.maxMemoryKiB), t: String(PASSPHRASE_LIMITS.argon2idMaxIterations), p: String(PASSPHRASE_LIMITS.argon2idMaxParallelism), salt: SALT },
  scrypt: { kdf: 'scrypt', N: String(PASSPHRASE_LIMITS.scryptMaxN), r: '2', p: '1', salt: SALT }, // 128·N·r·p = 256 MiB
  'pbkdf2-sha256': { kdf: 'pbkdf2-sha256', i: String(PASSPHRASE_LIMITS.pbkdf2MaxIterations), salt: SALT },
} as const;
const hostile = (params: Record<string, string>, i: number): Stanza => ({ type: PASSPHRASE_STANZA, keyId: `h${i}`, params, wrapped: pseudoRandom(60, 100 + i) });

/** Counts how `key.unwrap` is called, keeping its `unwrapCost`. */
function counting(key: PassphraseProvider): { key: KeyProvider; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    key: {
      description: key.description,
      wrap: (d, c) => key.wrap(d, c),
      unwrap: (s, c) => {
        calls.push(s.type === PASSPHRASE_STANZA ? `${s.params.kdf}:${s.keyId}` : s.type);
        return key.unwrap(s, c);
      },
      unwrapCost: (s) => key.unwrapCost(s),
    },
  };
}

const ctxOf = (): WrapContext => ({ aad: Uint8Array.of(1, 2, 3), encryptionContext: {}, backend: getBackend() });

/** Milliseconds of one default Argon2id derivation right now (the unit of the cost model, plus overhead). */
async function defaultDerivationMs(): Promise<number> {
  const t0 = performance.now();
  (await deriveKey({ kdf: 'argon2id', ...DEFAULT_KDF_PARAMS.argon2id }, pseudoRandom(12, 1), pseudoRandom(16, 2))).fill(0);
  return performance.now() - t0;
}

describe('KDF cost model', () => {
  it('prices the defaults and the maxima; every single stanza at a maximum fits the default budget', () => {
    const costs = {
      argon2idDefault: kdfCost({ kdf: 'argon2id', ...DEFAULT_KDF_PARAMS.argon2id }),
      scryptDefault: kdfCost({ kdf: 'scrypt', ...DEFAULT_KDF_PARAMS.scrypt }),
      pbkdf2Default: kdfCost({ kdf: 'pbkdf2-sha256', ...DEFAULT_KDF_PARAMS['pbkdf2-sha256'] }),
      argon2idMax: kdfCost({ kdf: 'argon2id', memoryKiB: 262144, iterations: 8, parallelism: 4 }),
      scryptMax: kdfCost({ kdf: 'scrypt', N: 2 ** 20, r: 2, p: 1 }),
      pbkdf2Max: kdfCost({ kdf: 'pbkdf2-sha256', iterations: 1_200_000 }),
      argon2idMin: kdfCost({ kdf: 'argon2id', memoryKiB: 8, iterations: 1, parallelism: 1 }),
    };
    expect(costs).toEqual({ argon2idDefault: 1.1, scryptDefault: 1.1, pbkdf2Default: 4.1, argon2idMax: 6.1, scryptMax: 2.1, pbkdf2Max: 8.1, argon2idMin: 0.101 });
    for (const [name, c] of Object.entries(costs)) expect(c, name).toBeLessThanOrEqual(PASSPHRASE_LIMITS.defaultMaxCost);
    // Lanes do not change Argon2id's work; memory and passes do, linearly.
    expect(kdfCost({ kdf: 'argon2id', memoryKiB: 131072, iterations: 2, parallelism: 4 })).toBe(costs.argon2idDefault);
    expect(kdfCost({ kdf: 'argon2id', memoryKiB: 262144, iterations: 2, parallelism: 1 })).toBeCloseTo(2 * costs.argon2idDefault - 0.1, 9);
    // The budget holds 9 default Argon2id or scrypt stanzas, 2 default PBKDF2 ones.
    expect(Math.floor(PASSPHRASE_LIMITS.defaultMaxCost / costs.argon2idDefault)).toBe(9);
    expect(Math.floor(PASSPHRASE_LIMITS.defaultMaxCost / costs.pbkdf2Default)).toBe(2);
  });

  it('tracks measured time: a stanza at the Argon2id maximum takes a few default derivations, not minutes', async () => {
    const unit = await defaultDerivationMs();
    const t0 = performance.now();
    (await deriveKey({ kdf: 'scrypt', N: 2 ** 20, r: 2, p: 1 }, pseudoRandom(8), pseudoRandom(16))).fill(0);
    const scryptMs = performance.now() - t0;
    // Model: scrypt max = 2.1 / 1.1 of a default Argon2id; allow a factor 3 either way for a shared machine.
    const ratio = scryptMs / unit;
    expect(ratio, `scrypt N=2^20 r=2 took ${scryptMs.toFixed(0)} ms, default Argon2id ${unit.toFixed(0)} ms`).toBeGreaterThan(2.1 / 1.1 / 3);
    expect(ratio, `scrypt N=2^20 r=2 took ${scryptMs.toFixed(0)} ms, default Argon2id ${unit.toFixed(0)} ms`).toBeLessThan((2.1 / 1.1) * 3);
  });
});

describe('a hostile 64-stanza header', () => {
  const headers: [string, (i: number) => Record<string, string>, number][] = [
    // ascending cost: scrypt (2.1) first; 4 fit in 10 units, then nothing else fits.
    ['mixed Argon2id / scrypt / PBKDF2 at their maxima', (i) => [AT_MAX.argon2id, AT_MAX.scrypt, AT_MAX['pbkdf2-sha256']][i % 3]!, 4],
    ['64 × Argon2id m = 256 MiB, t = 8, p = 4', () => AT_MAX.argon2id, 1],
    ['64 × PBKDF2 i = 1 200 000', () => AT_MAX['pbkdf2-sha256'], 1],
  ];
  for (const [name, paramsOf, derivations] of headers) {
    it(`${name}: ERR_NO_KEY within the budget, ${derivations} derivation(s), no thread or memory left behind`, async () => {
      const recipients = Array.from({ length: 64 }, (_, i) => forger(hostile(paramsOf(i), i)));
      const ct = await encrypt(text, { recipients });
      expect(inspect(ct).recipients).toHaveLength(64);
      const unitMs = (await defaultDerivationMs()) / 1.1;
      const rssBefore = process.memoryUsage().rss;
      let peakWorkers = 0;
      const sampler = setInterval(() => (peakWorkers = Math.max(peakWorkers, liveKdfWorkers())), 5);
      const t0 = performance.now();
      const err = await expectCode(decrypt(ct, { keys: [passphrase({ passphrase: 'reader' })] }), 'ERR_NO_KEY').finally(() => clearInterval(sampler));
      const ms = performance.now() - t0;
      const codes = err.errors.map((e) => (e as EnsealError).code);
      expect(codes).toHaveLength(64);
      expect(codes.filter((c) => c === 'ERR_AUTH')).toHaveLength(derivations); // derived, wrong key
      expect(codes.filter((c) => c === 'ERR_LIMIT')).toHaveLength(64 - derivations); // refused before deriving
      const refused = err.errors.find((e) => (e as EnsealError).code === 'ERR_LIMIT') as Error;
      expect(refused.message).toMatch(/budget of 10 are left \(maxCost\)/);
      // Wall clock: at most the budget's worth of default derivations (measured just now), with
      // slack for a shared machine. Without the budget this header takes minutes.
      const bound = 2 * PASSPHRASE_LIMITS.defaultMaxCost * unitMs + 1500;
      expect(ms, `took ${ms.toFixed(0)} ms; bound ${bound.toFixed(0)} ms (unit ${unitMs.toFixed(0)} ms)`).toBeLessThan(bound);
      // The KDFs ran in worker threads, all of them gone when decrypt returned, and their
      // memory (256 MiB per derivation) went with them.
      expect(peakWorkers).toBeGreaterThanOrEqual(1);
      expect(liveKdfWorkers()).toBe(0);
      const grownMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
      expect(grownMiB, `RSS grew by ${grownMiB.toFixed(0)} MiB`).toBeLessThan(128);
    });
  }

  it('a stanza that alone exceeds the reader\'s maxCost is refused at once', async () => {
    const ct = await encrypt(text, { recipients: [forger(hostile(AT_MAX.argon2id, 0))] });
    const t0 = performance.now();
    const err = await expectCode(decrypt(ct, { keys: [passphrase({ passphrase: 'pw', maxCost: 5 })] }), 'ERR_NO_KEY');
    expect(performance.now() - t0).toBeLessThan(250);
    expect((err.errors[0] as EnsealError).code).toBe('ERR_LIMIT');
    expect((err.errors[0] as Error).message).toMatch(/one derivation would cost 6\.1 cost units, above the budget of 5 per header \(maxCost\)/);
  });
});

describe('attempt order: cheap before expensive', () => {
  it('every non-passphrase stanza is tried before any KDF runs', async () => {
    const alice = aesKey({ id: 'alice', key: pseudoRandom(32, 7) });
    const recipients = [...Array.from({ length: 10 }, (_, i) => forger(hostile(AT_MAX.argon2id, i))), alice];
    const ct = await encrypt(text, { recipients });
    const { key, calls } = counting(passphrase({ passphrase: 'pw' }));
    const t0 = performance.now();
    expect(await decrypt(ct, { keys: [key, aesKey({ id: 'alice', key: pseudoRandom(32, 7) })] })).toEqual(text);
    expect(performance.now() - t0).toBeLessThan(1000); // one Argon2id at the maximum alone takes ~3 s
    expect(calls).toEqual(['aes256-gcm']); // offered the AES stanza (null), never a passphrase one
  });

  it('passphrase stanzas are tried in ascending cost: 63 expensive decoys do not stop the real one', async () => {
    const decoys = Array.from({ length: 63 }, (_, i) => forger(hostile(i % 2 ? AT_MAX.argon2id : AT_MAX['pbkdf2-sha256'], i)));
    const real = cheap('the real one', 'scrypt', { label: 'real' });
    const ct = await encrypt(text, { recipients: [...decoys, real] }); // the real stanza is last in the header
    const { key, calls } = counting(cheap('the real one', 'scrypt'));
    const t0 = performance.now();
    expect(await decrypt(ct, { keys: [key] })).toEqual(text);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(calls).toEqual(['scrypt:real']);
  });
});

describe('any number of passphrase recipients', () => {
  it('6 passphrase recipients (three KDFs) each decrypt alone', async () => {
    const kdfs = ['argon2id', 'scrypt', 'pbkdf2-sha256', 'argon2id', 'scrypt', 'pbkdf2-sha256'] as const;
    const ct = await encrypt(text, { recipients: kdfs.map((k, i) => cheap(`pw-${i}`, k, { label: `r${i}` })) });
    expect(inspect(ct).recipients.map((r) => r.keyId)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    for (let i = 0; i < 6; i++) {
      const { key, calls } = counting(cheap(`pw-${i}`, kdfs[i]));
      expect(await decrypt(ct, { keys: [key] }), `recipient ${i}`).toEqual(text);
      expect(calls.at(-1)).toBe(`${kdfs[i]}:r${i}`);
    }
    const err = await expectCode(decrypt(ct, { keys: [cheap('none of them')] }), 'ERR_NO_KEY');
    expect(err.errors.map((e) => (e as EnsealError).code)).toEqual(Array(6).fill('ERR_AUTH'));
  });

  it('6 recipients at the default Argon2id costs: the last one in the header decrypts within the default budget', async () => {
    const writers = Array.from({ length: 6 }, (_, i) => passphrase({ passphrase: `default-${i}`, label: `d${i}` }));
    const ct = await encrypt(text, { recipients: writers });
    const { key, calls } = counting(passphrase({ passphrase: 'default-5' }));
    expect(await decrypt(ct, { keys: [key] })).toEqual(text);
    expect(calls).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5'].map((d) => `argon2id:${d}`));
  });

  it('encryption refuses passphrase recipients whose total cost exceeds maxCost (a reader could not try them all)', async () => {
    const small = { maxCost: 0.25 };
    // Cheap Argon2id: 0.106 units each; two fit in 0.25, three do not.
    const two = await encrypt(text, { recipients: [cheap('a', 'argon2id', small), cheap('b', 'argon2id', small)] });
    expect(await decrypt(two, { keys: [cheap('b', 'argon2id', small)] })).toEqual(text);
    await expect(encrypt(text, { recipients: [cheap('a', 'argon2id', small), cheap('b', 'argon2id', small), cheap('c', 'argon2id', small)] })).rejects.toThrow(
      /would cost 0\.318 cost units to try, above "maxCost" 0\.25/,
    );
    // Other recipient kinds cost nothing.
    const mixed = await encrypt(text, { recipients: [cheap('a', 'argon2id', small), aesKey({ id: 'x', key: pseudoRandom(32) }), cheap('b', 'argon2id', small)] });
    expect(inspect(mixed).recipients).toHaveLength(3);
  });

  it('the budget is per header: it never carries over to another object or another call', async () => {
    const small = { maxCost: 0.25 };
    const writers = (n: number) => Array.from({ length: n }, (_, i) => cheap(`w${i}`));
    const two = await encrypt(text, { recipients: writers(2) });
    const three = await encrypt(text, { recipients: writers(3) });
    const reader = cheap('w1', 'argon2id', small);
    for (let round = 0; round < 3; round++) expect(await decrypt(two, { keys: [reader] }), `round ${round}`).toEqual(text);
    // Three stanzas cost 0.318 > 0.25: the last one is refused for a reader who needs it …
    const err = await expectCode(decrypt(three, { keys: [cheap('w2', 'argon2id', small)] }), 'ERR_NO_KEY');
    expect(err.errors.map((e) => (e as EnsealError).code)).toEqual(['ERR_AUTH', 'ERR_AUTH', 'ERR_LIMIT']);
    // … and that exhausted budget did not follow the reader to the next object.
    expect(await decrypt(two, { keys: [reader] })).toEqual(text);
    // Two passphrase keys share one budget per header: 2 stanzas × 2 keys = 0.424 > 0.25.
    const both = await expectCode(decrypt(two, { keys: [cheap('x', 'argon2id', small), cheap('y', 'argon2id', small)] }), 'ERR_NO_KEY');
    expect(both.errors.map((e) => (e as EnsealError).code)).toEqual(['ERR_AUTH', 'ERR_AUTH', 'ERR_LIMIT', 'ERR_LIMIT']);
  });
});

describe('KDFs off the main thread', () => {
  it('the event loop keeps turning while a default Argon2id derivation runs', async () => {
    const pw = passphrase({ passphrase: 'loop' });
    const ct = await encrypt(text, { recipients: [pw] });
    let ticks = 0;
    let peakWorkers = 0;
    const timer = setInterval(() => {
      ticks++;
      peakWorkers = Math.max(peakWorkers, liveKdfWorkers());
    }, 10);
    const t0 = performance.now();
    try {
      expect(await decrypt(ct, { keys: [pw] })).toEqual(text);
    } finally {
      clearInterval(timer);
    }
    const ms = performance.now() - t0;
    // On the main thread the derivation is one synchronous WebAssembly call: no tick at all.
    expect(ticks, `${ticks} ticks in ${ms.toFixed(0)} ms`).toBeGreaterThanOrEqual(5);
    expect(peakWorkers).toBe(1);
    expect(liveKdfWorkers()).toBe(0);
    expect(kdfWorkerConcurrency()).toBeGreaterThanOrEqual(1);
  });

  it('the worker thread and this thread derive the same key; inputs are not modified', async () => {
    const params: KdfParams = { kdf: 'argon2id', memoryKiB: 4096, iterations: 2, parallelism: 2 };
    const password = pseudoRandom(20, 9).subarray(3, 17);
    const salt = pseudoRandom(16, 10);
    const before = toHex(password) + toHex(salt);
    const a = await deriveKey(params, password, salt, 48);
    const b = await deriveKeyOnThisThread(params, password, salt, 48);
    expect(a.length).toBe(48);
    expect(toHex(a)).toBe(toHex(b));
    expect(toHex(password) + toHex(salt)).toBe(before);
  });

  it('falls back (undefined) where no worker can start, and fails loudly when one dies mid-derivation', async () => {
    const job = { params: { kdf: 'pbkdf2-sha256', iterations: 10_000 } as KdfParams, password: pseudoRandom(8), salt: pseudoRandom(16), length: 32 };
    expect(kdfWorkerEnvironment(() => undefined)).toBeUndefined();
    expect(kdfWorkerEnvironment(() => ({}))).toBeUndefined();
    expect(await deriveInWorker(job, null)).toBeUndefined();

    /** A scripted stand-in for worker_threads' Worker. */
    const fake = (script: (emit: (event: string, v: unknown) => void, msg: unknown, transfer: ArrayBuffer[]) => void, made: { n: number } = { n: 0 }): KdfWorkerEnvironment => ({
      hashWasm: '/nowhere',
      concurrency: 1,
      Worker: class {
        #on = new Map<string, ((v: unknown) => void)[]>();
        constructor() {
          made.n++;
        }
        on(event: string, l: (v: unknown) => void) {
          this.#on.set(event, [...(this.#on.get(event) ?? []), l]);
          return this;
        }
        postMessage(msg: unknown, transfer: ArrayBuffer[]) {
          setTimeout(() => script((e, v) => this.#on.get(e)?.forEach((l) => l(v)), msg, transfer), 1);
        }
        terminate() {
          return Promise.resolve(0);
        }
      } as unknown as KdfWorkerEnvironment['Worker'],
    });
    const throwing: KdfWorkerEnvironment = { ...fake(() => {}), Worker: class { constructor() { throw new Error('ERR_WORKER_UNSUPPORTED_OPERATION'); } } as never };
    expect(await deriveInWorker(job, throwing)).toBeUndefined();
    expect(await deriveInWorker(job, fake((emit) => emit('error', new Error('cannot start'))))).toBeUndefined();
    expect(await deriveInWorker(job, fake((emit) => emit('exit', 1)))).toBeUndefined();
    expect(await deriveInWorker(job, fake((emit) => emit('message', { type: 'unavailable', message: 'no hash-wasm' })))).toBeUndefined();
    await expectCode(deriveInWorker(job, fake((emit) => (emit('message', { type: 'started' }), emit('exit', 1)))), 'ERR_UNSUPPORTED');
    const oom = Object.assign(new Error('oom'), { code: 'ERR_WORKER_OUT_OF_MEMORY' });
    await expectCode(deriveInWorker(job, fake((emit) => (emit('message', { type: 'started' }), emit('error', oom)))), 'ERR_LIMIT');
    await expect(deriveInWorker(job, fake((emit) => (emit('message', { type: 'started' }), emit('message', { type: 'error', name: 'Error', message: 'bad \x1b cost' }))))).rejects.toThrow(
      /pbkdf2-sha256: bad \\x1b cost/,
    );
    await expectCode(deriveInWorker(job, fake((emit) => (emit('message', { type: 'started' }), emit('message', { type: 'key', key: new ArrayBuffer(16) })))), 'ERR_UNSUPPORTED');
    // The job's buffers cross by transfer: fresh copies, so the caller's stay as they were.
    let transferred: ArrayBuffer[] = [];
    const key = await deriveInWorker(job, fake((emit, _m, t) => ((transferred = t), emit('message', { type: 'started' }), emit('message', { type: 'key', key: new Uint8Array(32).fill(7).buffer }))));
    expect(toHex(key!)).toBe('07'.repeat(32));
    expect(transferred).toHaveLength(2);
    expect(transferred.every((b) => b !== job.password.buffer && b !== job.salt.buffer)).toBe(true);
    expect(toHex(job.password)).toBe(toHex(pseudoRandom(8)));
    // A real worker that cannot load hash-wasm says so, and the caller falls back.
    const real = kdfWorkerEnvironment()!;
    expect(await deriveInWorker(job, { ...real, hashWasm: '/nonexistent/hash-wasm.js' })).toBeUndefined();
    expect(liveKdfWorkers()).toBe(0);
  });

  it('runs at most `concurrency` derivations at once; the others wait', async () => {
    const made = { n: 0 };
    const release: (() => void)[] = [];
    const env: KdfWorkerEnvironment = {
      hashWasm: '/nowhere',
      concurrency: 1,
      Worker: class {
        #l: ((v: unknown) => void)[] = [];
        constructor() {
          made.n++;
        }
        on(event: string, l: (v: unknown) => void) {
          if (event === 'message') this.#l.push(l);
          return this;
        }
        postMessage() {
          release.push(() => this.#l.forEach((l) => (l({ type: 'started' }), l({ type: 'key', key: new Uint8Array(32).buffer }))));
        }
        terminate() {
          return Promise.resolve(0);
        }
      } as unknown as KdfWorkerEnvironment['Worker'],
    };
    const job = { params: { kdf: 'pbkdf2-sha256', iterations: 10_000 } as KdfParams, password: pseudoRandom(8), salt: pseudoRandom(16), length: 32 };
    const all = Promise.all([deriveInWorker(job, env), deriveInWorker(job, env), deriveInWorker(job, env)]);
    for (let i = 1; i <= 3; i++) {
      await new Promise((r) => setTimeout(r, 10));
      expect(made.n, `after ${i - 1} finished`).toBe(i);
      release.shift()!();
    }
    expect((await all).every((k) => k?.length === 32)).toBe(true);
  });
});

describe('pinned parameters (expect)', () => {
  it('a stanza with other parameters is refused without deriving', async () => {
    const ctx = ctxOf();
    const writer = cheap('pw');
    const stanza = await writer.wrap(pseudoRandom(32, 3), ctx);
    const pinnedOther = cheap('pw', 'argon2id', { expect: { kdf: 'argon2id', params: { memoryKiB: 2048 } } });
    const fresh = ctxOf();
    await expect(pinnedOther.unwrap(stanza, fresh)).rejects.toThrow(/argon2id memoryKiB = 1024 differs from the pinned 2048 \(expect\)/);
    expect(kdfSpent(fresh)).toBe(0); // nothing charged, so nothing derived
    expect(pinnedOther.unwrapCost(stanza)).toBe(0);
    await expectCode(cheap('pw', 'argon2id', { expect: { kdf: 'scrypt' } }).unwrap(stanza, fresh), 'ERR_LIMIT');
    expect(kdfSpent(fresh)).toBe(0);
    // Matching pins (all of the costs, some, or just the KDF) derive and unwrap.
    for (const expectation of [{ kdf: 'argon2id', params: { memoryKiB: 1024, iterations: 1, parallelism: 1 } }, { kdf: 'argon2id', params: { iterations: 1 } }, { kdf: 'argon2id' }] as const) {
      const c = ctxOf();
      expect(toHex((await cheap('pw', 'argon2id', { expect: expectation }).unwrap(stanza, c))!)).toBe(toHex(pseudoRandom(32, 3)));
      expect(kdfSpent(c)).toBeCloseTo(0.106, 9);
    }
  });

  it('a pinned reader is not made to run a hostile stanza at the maxima', async () => {
    const real = cheap('pw', 'argon2id', { label: 'real' });
    const ct = await encrypt(text, { recipients: [forger(hostile(AT_MAX.argon2id, 0)), forger(hostile(AT_MAX['pbkdf2-sha256'], 1)), real] });
    const reader = passphrase({ passphrase: 'pw', expect: { kdf: 'argon2id', params: { memoryKiB: 1024, iterations: 1, parallelism: 1 } } });
    const t0 = performance.now();
    expect(await decrypt(ct, { keys: [reader] })).toEqual(text);
    expect(performance.now() - t0).toBeLessThan(1500);
    const err = await expectCode(decrypt(ct, { keys: [passphrase({ passphrase: 'wrong', expect: { kdf: 'argon2id', params: { memoryKiB: 1024 } } })] }), 'ERR_NO_KEY');
    expect(err.errors.map((e) => (e as EnsealError).code)).toEqual(['ERR_LIMIT', 'ERR_LIMIT', 'ERR_AUTH']);
    expect(err.errors.slice(0, 2).map((e) => (e as Error).message)).toEqual([
      'passphrase stanza: argon2id memoryKiB = 262144 differs from the pinned 1024 (expect)',
      'passphrase stanza: kdf pbkdf2-sha256 is not the pinned argon2id (expect)',
    ]);
  });
});

describe('kdf alias', () => {
  it("'pbkdf2' is accepted for 'pbkdf2-sha256'; the stanza stores the canonical name", async () => {
    const pw = passphrase({ passphrase: 'alias', kdf: 'pbkdf2', params: { iterations: 10_000 } });
    expect(pw.kdf).toEqual({ kdf: 'pbkdf2-sha256', iterations: 10_000 });
    const ct = await encrypt(text, { recipients: [pw] });
    expect(inspect(ct).recipients[0]!.params).toMatchObject({ kdf: 'pbkdf2-sha256', i: '10000' });
    expect(await decrypt(ct, { keys: [passphrase({ passphrase: 'alias', expect: { kdf: 'pbkdf2' } })] })).toEqual(text);
    // Only the canonical name is valid inside a stanza.
    const forged = await encrypt(text, { recipients: [forger(hostile({ kdf: 'pbkdf2', i: '10000', salt: SALT }, 0))] });
    const err = await expectCode(decrypt(forged, { keys: [pw] }), 'ERR_NO_KEY');
    expect((err.errors[0] as EnsealError).code).toBe('ERR_UNSUPPORTED');
  });
});

describe('ERR_NO_KEY says what it tried', () => {
  it('lists the recipients (escaped, at most 8) and the keys tried', async () => {
    const evilId = 'evil\x1b[2J\r\u202Etxt.exe';
    const recipients = [
      forger({ type: 'aes256-gcm', keyId: evilId, params: {}, wrapped: pseudoRandom(60) }),
      forger(hostile({ ...AT_MAX.argon2id, m: '1024', t: '1', p: '1' }, 0)),
      ...Array.from({ length: 8 }, (_, i) => forger({ type: 'kms-local', keyId: `lk-${i}`, params: {}, wrapped: pseudoRandom(40) })),
    ];
    const ct = await encrypt(text, { recipients });
    const keys = [aesKey({ id: 'mine', key: pseudoRandom(32) }), cheap('secret-passphrase-123', 'argon2id', { label: 'lbl\u202E\x1b' })];
    const err = await expectCode(decrypt(ct, { keys }), 'ERR_NO_KEY');
    const m = err.message;
    expect(m).toContain('(10 recipient(s), 2 key(s): 1 provider error(s))');
    expect(m).toContain('recipients: aes256-gcm "evil\\x1b[2J\\r\\u202etxt.exe", passphrase "h0", kms-local "lk-0"');
    expect(m).toContain('kms-local "lk-5" and 2 more;');
    expect(m).not.toContain('lk-6');
    expect(m).toContain('keys tried: aes256-gcm:mine, passphrase:lbl\\u202e\\x1b');
    expect(m).not.toMatch(/[\x00-\x1f\u202a-\u202e]/);
    expect(m).not.toContain('secret-passphrase-123');
    expect(err.errors.map((e) => (e as EnsealError).code)).toEqual(['ERR_AUTH']);
  });

  it('with no cause at all, still names both sides', async () => {
    const ct = await encrypt(text, { recipients: [aesKey({ id: 'theirs', key: pseudoRandom(32, 1) })] });
    const err = await expectCode(decrypt(ct, { keys: [aesKey({ id: 'ours', key: pseudoRandom(32, 2) })] }), 'ERR_NO_KEY');
    expect(err.message).toBe(
      'no key could unwrap the data key (1 recipient(s), 1 key(s): no provider recognised any recipient); recipients: aes256-gcm "theirs"; keys tried: aes256-gcm:ours',
    );
  });
});

describe('rewrap support', () => {
  it('chargeKeptPassphraseStanzas counts an object\'s passphrase stanzas against the recipients added to it', async () => {
    const small = { maxCost: 0.25 };
    const ctx = ctxOf();
    const a = await cheap('a').wrap(pseudoRandom(32), ctxOf());
    const b = await cheap('b').wrap(pseudoRandom(32), ctxOf());
    const aes = await aesKey({ id: 'x', key: pseudoRandom(32) }).wrap(pseudoRandom(32), ctxOf());
    const malformed: Stanza = { ...a, params: { ...a.params, t: '0' } };
    expect(chargeKeptPassphraseStanzas(ctx, [a, aes, malformed])).toBeCloseTo(0.106, 9);
    expect(kdfSpent(ctx, 'wrap')).toBeCloseTo(0.106, 9);
    expect((await cheap('c', 'argon2id', small).wrap(pseudoRandom(32), ctx)).type).toBe(PASSPHRASE_STANZA); // 0.212 fits
    await expect(cheap('d', 'argon2id', small).wrap(pseudoRandom(32), ctx)).rejects.toThrow(/0\.318 cost units/);
    expect(chargeKeptPassphraseStanzas(ctxOf(), [a, b])).toBeCloseTo(0.212, 9);
  });

  it('rewrap refuses to add a passphrase recipient past the budget the kept ones already use', async () => {
    const small = { maxCost: 0.25 };
    const owner = aesKey({ id: 'owner', key: pseudoRandom(32, 9) });
    const ct = await encrypt(text, { recipients: [owner, cheap('a'), cheap('b')] });
    await expect(rewrap(ct, { keys: [owner], add: [cheap('c', 'argon2id', small)] })).rejects.toThrow(/cost units/);
    // Dropping one kept passphrase stanza makes room: 0.212 of 0.25 after the add.
    let dropped = 0;
    const header = await rewrap(ct, { keys: [owner], add: [cheap('c', 'argon2id', small)], remove: (st) => st.type === PASSPHRASE_STANZA && dropped++ === 0 });
    const rewrapped = new Uint8Array(header.length + ct.length - inspect(ct).headerLength);
    rewrapped.set(header);
    rewrapped.set(ct.subarray(inspect(ct).headerLength), header.length);
    expect(await decrypt(rewrapped, { keys: [cheap('c')] })).toEqual(text);
  });
});

describe('provider template (provider.ts)', () => {
  it('wipes the data key when the first recipient fails; an unwrapCost that throws or is not a number counts as cheap', async () => {
    const real = getBackend('node');
    const made: Uint8Array[] = [];
    const backend = new Proxy(real, {
      get: (target, prop) => {
        if (prop === 'randomBytes') return (n: number) => { const b = target.randomBytes(n); if (n === 32) made.push(b); return b; };
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const failing: KeyProvider = { description: 'failing', wrap: async () => { throw new Error('wrap failed'); }, unwrap: async () => null };
    await expect(encrypt(text, { recipients: [failing], backend: backend as never })).rejects.toThrow('wrap failed');
    expect(made).toHaveLength(1);
    expect(made[0]!.every((b) => b === 0)).toBe(true);

    const alice = aesKey({ id: 'alice', key: pseudoRandom(32, 4) });
    const ct = await encrypt(text, { recipients: [alice] });
    const order: string[] = [];
    const odd = (name: string, cost: () => number): KeyProvider => ({
      description: name,
      wrap: alice.wrap,
      unwrap: async (s, c) => (order.push(name), alice.unwrap(s, c)),
      unwrapCost: cost,
    });
    // Costly first in the caller's order, but tried last; the broken costs count as 0.
    const keys = [odd('costly', () => 5), odd('throws', () => { throw new Error('x'); }), odd('nan', () => Number.NaN)];
    expect(await decrypt(ct, { keys })).toEqual(text);
    expect(order).toEqual(['throws']);
  });
});
