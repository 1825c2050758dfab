#!/usr/bin/env node
// Per-message cost (tinybench): 1 KiB `encrypt` / `decrypt` with one aesKey recipient, on every
// backend, against one raw node:crypto AES-256-GCM call over the same 1 KiB (createCipheriv,
// update, final, getAuthTag), measured in the same run. Run by `npm run bench` (after a build).
//
// 1. Checks first that every backend's output decrypts on every backend, to the same plaintext.
// 2. Interleaved rounds: each round runs every task for a fixed number of calls (tinybench, in a
//    rotated order); the µs per message is the median over the rounds of each round's mean.
//
// Environment: BENCH_MSG_ROUNDS (default 15), BENCH_MSG_BYTES (default 1024).
// The machine is shared and noisy: compare ratios, not absolute numbers.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Bench } from 'tinybench';
import { aesKey, availableBackends, decrypt, encrypt } from '../dist/index.js';

const BYTES = Number(process.env.BENCH_MSG_BYTES ?? 1024);
const ROUNDS = Number(process.env.BENCH_MSG_ROUNDS ?? 15);
const plaintext = randomBytes(BYTES);
const recipient = aesKey({ id: 'bench-messages', key: randomBytes(32) });
const rawKey = randomBytes(32);
const rawNonce = randomBytes(12);
const backends = availableBackends();

// --- 1. Round trips before timing. ---------------------------------------------------------------
const sealed = {};
for (const b of backends) sealed[b] = await encrypt(plaintext, { recipients: [recipient], backend: b });
for (const from of backends) {
  for (const to of backends) {
    const back = await decrypt(sealed[from], { keys: [recipient], backend: to });
    if (!Buffer.from(back).equals(plaintext)) throw new Error(`${from} → ${to}: round trip mismatch`);
  }
}
const rawSealed = (() => {
  const c = createCipheriv('aes-256-gcm', rawKey, rawNonce);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
})();
console.log(`outputs checked: ${BYTES}-byte messages round-trip across ${backends.join(', ')}`);

// --- 2. Timing. ------------------------------------------------------------------------------------------
const tasks = {
  'raw node:crypto GCM seal (one call)': {
    calls: 2000,
    fn: () => {
      const c = createCipheriv('aes-256-gcm', rawKey, rawNonce);
      c.update(plaintext);
      c.final();
      c.getAuthTag();
    },
  },
  'raw node:crypto GCM open (one call)': {
    calls: 2000,
    fn: () => {
      const d = createDecipheriv('aes-256-gcm', rawKey, rawNonce);
      d.setAuthTag(rawSealed.subarray(BYTES));
      d.update(rawSealed.subarray(0, BYTES));
      d.final();
    },
  },
};
for (const b of backends) {
  const calls = b === 'node' ? 2000 : 200;
  tasks[`encrypt ${b}`] = { calls, fn: () => encrypt(plaintext, { recipients: [recipient], backend: b }), async: true };
  tasks[`decrypt ${b}`] = { calls, fn: () => decrypt(sealed[b], { keys: [recipient], backend: b }), async: true };
}
const names = Object.keys(tasks);
const samples = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < ROUNDS + 1; r++) {
  const order = names.slice(r % names.length).concat(names.slice(0, r % names.length));
  for (const name of order) {
    const t = tasks[name];
    const bench = new Bench({ iterations: t.calls, time: 0, warmup: false, throws: true });
    bench.add(name, t.fn, { async: t.async === true });
    await bench.run();
    if (r > 0) samples[name].push(bench.tasks[0].result.latency.mean * 1000); // µs
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const raw = median(samples['raw node:crypto GCM seal (one call)']);
console.log(
  `\n${BYTES}-byte messages, one aesKey recipient, node ${process.version}; µs per message, median of ${ROUNDS} interleaved rounds; ` +
    `load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`,
);
for (const name of names) {
  const us = median(samples[name]);
  const lo = Math.min(...samples[name]);
  const hi = Math.max(...samples[name]);
  console.log(`  ${name.padEnd(38)} ${us.toFixed(1).padStart(8)} µs  (${lo.toFixed(1)}–${hi.toFixed(1)})  ${(us / raw).toFixed(1)}× one raw GCM seal`);
}
