// Key providers: data-key wrap and unwrap operations per second for each local provider, and the
// time of one passphrase derivation at the default parameters (tinybench). Run by `npm run bench`,
// or alone: `node bench/providers.mjs`.
//
// Every provider is first checked to round-trip a data key (unwrap(wrap(k)) == k), then timed.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { aesKey, getBackend, passphrase, rsaKey, DEFAULT_KDF_PARAMS } from '../dist/index.js';
import { LocalKms, kms } from '../dist/kms-local.js';

const backend = getBackend('node');
const ctx = { aad: randomBytes(64), encryptionContext: { bench: '1' }, backend };
const dataKey = randomBytes(32);
const dir = mkdtempSync(join(tmpdir(), 'enseal-bench-'));

const rsa = (bits) => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return rsaKey({ privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
};
const store = await LocalKms.open(join(dir, 'kms.json'), { create: true });
const { id: localKeyId } = await store.createKey({ alias: 'bench' });

const providers = {
  'aes256-gcm': aesKey({ id: 'a', key: randomBytes(32) }),
  'aes256-kw (RFC 3394)': aesKey({ id: 'a', key: randomBytes(32), wrap: 'aes256-kw' }),
  'aes256-kwp (RFC 5649)': aesKey({ id: 'a', key: randomBytes(32), wrap: 'aes256-kwp' }),
  'rsa-oaep-sha256 2048': rsa(2048),
  'rsa-oaep-sha256 3072': rsa(3072),
  'rsa-oaep-sha256 4096': rsa(4096),
  'kms-local (LocalKms file store)': kms({ client: store, keyId: localKeyId }),
  'passphrase pbkdf2-sha256 i=10000 (minimum)': passphrase({ passphrase: 'bench', kdf: 'pbkdf2-sha256', params: { iterations: 10000 } }),
};

const stanzas = {};
for (const [name, p] of Object.entries(providers)) {
  const s = await p.wrap(dataKey, ctx);
  const back = await p.unwrap(s, ctx);
  if (!back || Buffer.compare(Buffer.from(back), dataKey) !== 0) throw new Error(`${name} does not round-trip`);
  stanzas[name] = s;
}
console.log(`\nKey providers (node backend, node ${process.version}): ops/s from the median latency; round trips checked first`);

// A fresh context object per call, as `decrypt` makes one per header (the passphrase provider
// counts its KDF runs per header).
const bench = new Bench({ time: Number(process.env.BENCH_PROVIDER_MS ?? 1000), warmupTime: 100, throws: true });
for (const [name, p] of Object.entries(providers)) {
  bench.add(`wrap   ${name}`, async () => { await p.wrap(dataKey, { ...ctx }); }, { async: true });
  bench.add(`unwrap ${name}`, async () => { await p.unwrap(stanzas[name], { ...ctx }); }, { async: true });
}
await bench.run();
for (const t of bench.tasks) {
  const ms = t.result.latency.p50;
  console.log(`  ${t.name.padEnd(52)} ${(1000 / ms).toFixed(0).padStart(8)} ops/s  (${ms < 1 ? (ms * 1000).toFixed(0) + ' µs' : ms.toFixed(2) + ' ms'})`);
}

// One derivation at each KDF's default parameters (these are what `passphrase()` writes).
console.log('\nPassphrase KDFs at the default parameters (one wrap = one derivation; median of 5):');
for (const kdf of ['argon2id', 'scrypt', 'pbkdf2-sha256']) {
  const p = passphrase({ passphrase: 'correct horse battery staple', kdf });
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await p.wrap(dataKey, { ...ctx });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`  ${kdf.padEnd(14)} ${JSON.stringify(DEFAULT_KDF_PARAMS[kdf])}  ${(times[2] / 1000).toFixed(3)} s`);
}

// PKCS#11 (SoftHSM2), when installed: the same round trip on a throw-away token.
try {
  const { SOFTHSM_MODULE, createSoftHsmToken, createTokenAesKey } = await import('../test/softhsm.mjs');
  createSoftHsmToken(dir, 'bench', '1234');
  createTokenAesKey(SOFTHSM_MODULE, 'bench', '1234', 'kek');
  const { pkcs11Key } = await import('../dist/pkcs11.js');
  const hsm = await pkcs11Key({ module: SOFTHSM_MODULE, tokenLabel: 'bench', pin: '1234', keyLabel: 'kek', mechanism: 'aes-key-wrap-pad' });
  const s = await hsm.wrap(dataKey, ctx);
  const b2 = new Bench({ time: 1000 });
  b2.add('wrap   pkcs11-aes-kwp (SoftHSM2)', async () => { await hsm.wrap(dataKey, ctx); }, { async: true });
  b2.add('unwrap pkcs11-aes-kwp (SoftHSM2)', async () => { await hsm.unwrap(s, ctx); }, { async: true });
  await b2.run();
  for (const t of b2.tasks) console.log(`  ${t.name.padEnd(52)} ${(1000 / t.result.latency.p50).toFixed(0).padStart(8)} ops/s`);
  await hsm.close();
} catch (e) {
  console.log(`  (PKCS#11 skipped in this benchmark: ${e.message})`);
}
rmSync(dir, { recursive: true, force: true });
