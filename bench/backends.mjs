#!/usr/bin/env node
// Which backend is fastest where: the table behind `backend: 'auto'` (src/backends/select.ts)
// and the README's choice table. Run `node bench/backends.mjs` after the build (dist/); it runs
// the same measurement in Node (in process), in Bun and Deno (itself, spawned from
// node_modules/.bin with --child), and in headless Chromium (@sparticuz/chromium + playwright-core,
// this file and dist/enseal.browser.js served from 127.0.0.1: once on a secure origin, once on the
// non-secure http://enseal.test:PORT/ mapped to loopback, where crypto.subtle is missing).
//
// For every backend the runtime offers: first the same bytes (a sealed 16 KiB chunk must be
// identical across backends), then, in interleaved rounds (median), AES-256-GCM seal and open of
// 16 KiB chunks in batches of 64 (as enseal's streams call the backend) and one-shot 1 KiB
// messages (`encrypt` + `decrypt` with an AES key recipient: header, key wrap, HKDF, one chunk).
// Options: BENCH_BACKENDS_MIB (default 4) MiB of chunks, BENCH_ROUNDS (default 5).

/**
 * Measures every available backend of the enseal module `e` in this runtime.
 * @param e - the enseal module (dist/index.js or dist/enseal.browser.js)
 * @param opts - { mib, rounds }
 * @returns { runtime, default, results: { [backend]: { seal, open, oneShot } } } in MB/s and ops/s
 */
export async function measure(e, { mib = 4, rounds = 5 } = {}) {
  await e.ready().catch(() => undefined);
  const runtime = typeof Deno !== 'undefined' ? 'deno' : typeof Bun !== 'undefined' ? 'bun' : typeof window !== 'undefined' ? (isSecureContext ? 'chromium' : 'chromium (plain http)') : 'node';
  const names = e.availableBackends();
  const rnd = (n) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
    return b;
  };
  const CHUNK = 16384;
  const BATCH = 64;
  const key = rnd(32);
  const chunks = Array.from({ length: mib * 64 }, () => rnd(CHUNK));
  const nonces = chunks.map(() => rnd(12));
  const keys = {};
  for (const n of names) keys[n] = await e.getBackend(n).aesGcm(key);
  // Same bytes first.
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const ref = (await keys[names[0]].sealBatch([nonces[0]], [chunks[0]])).reduce((a, p) => a + hex(p), '');
  for (const n of names) {
    const got = (await keys[n].sealBatch([nonces[0]], [chunks[0]])).reduce((a, p) => a + hex(p), '');
    if (got !== ref) throw new Error(`${runtime}: backend ${n} seals different bytes`);
  }
  const sealed = [];
  for (let i = 0; i < chunks.length; i += BATCH) {
    const parts = await keys[names[0]].sealBatch(nonces.slice(i, i + BATCH), chunks.slice(i, i + BATCH));
    const flat = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) (flat.set(p, o), (o += p.length));
    for (let j = 0; j < Math.min(BATCH, chunks.length - i); j++) sealed.push(flat.subarray(j * (CHUNK + 16), (j + 1) * (CHUNK + 16)));
  }
  const msg = rnd(1024);
  const aes = e.aesKey({ id: 'bench', key });
  const ONE_SHOT = 150;
  const t = {};
  for (const n of names) t[n] = { seal: [], open: [], oneShot: [] };
  for (let r = 0; r < rounds; r++) {
    for (const n of names) {
      let t0 = performance.now();
      for (let i = 0; i < chunks.length; i += BATCH) await keys[n].sealBatch(nonces.slice(i, i + BATCH), chunks.slice(i, i + BATCH));
      t[n].seal.push(performance.now() - t0);
      t0 = performance.now();
      for (let i = 0; i < sealed.length; i += BATCH) await keys[n].openBatch(nonces.slice(i, i + BATCH), sealed.slice(i, i + BATCH));
      t[n].open.push(performance.now() - t0);
      t0 = performance.now();
      for (let i = 0; i < ONE_SHOT; i++) await e.decrypt(await e.encrypt(msg, { recipients: [aes], backend: n }), { keys: [aes], backend: n });
      t[n].oneShot.push(performance.now() - t0);
    }
  }
  for (const n of names) keys[n].dispose();
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const results = {};
  for (const n of names) {
    results[n] = {
      seal: Math.round(mib / (median(t[n].seal) / 1000)),
      open: Math.round(mib / (median(t[n].open) / 1000)),
      oneShot: Math.round(ONE_SHOT / (median(t[n].oneShot) / 1000)),
    };
  }
  return { runtime, default: e.getBackend().name, results };
}

const isCli = typeof window === 'undefined';
if (isCli) await main();

async function main() {
  const args = globalThis.Deno?.args ?? globalThis.process?.argv ?? [];
  const env = (k, d) => Number(globalThis.process?.env?.[k] ?? d);
  const opts = { mib: env('BENCH_BACKENDS_MIB', 4), rounds: env('BENCH_ROUNDS', 5) };
  const e = await import('../dist/index.js');
  if (args.includes('--child')) {
    console.log(`BACKENDS_JSON ${JSON.stringify(await measure(e, opts))}`);
    return;
  }
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const bin = (n) => fileURLToPath(new URL(`../node_modules/.bin/${n}`, import.meta.url));
  const all = [await measure(e, opts)];
  for (const [name, exe, a] of [
    ['bun', bin('bun'), ['bench/backends.mjs', '--child']],
    ['deno', bin('deno'), ['run', '-A', 'bench/backends.mjs', '--child']],
  ]) {
    const r = spawnSync(exe, a, { cwd: root, encoding: 'utf8', timeout: 600_000, env: { ...process.env, NO_COLOR: '1' } });
    const line = /BACKENDS_JSON (.*)/.exec(r.stdout ?? '');
    if (line === null) throw new Error(`${name} failed: ${r.error ?? ''}\n${r.stdout}\n${r.stderr}`);
    all.push(JSON.parse(line[1]));
  }
  all.push(...(await inChromium(opts)));
  print(all);
}

async function inChromium(opts) {
  const { readFileSync } = await import('node:fs');
  const { createServer } = await import('node:http');
  const { chromium } = await import('playwright-core');
  const sparticuz = (await import('@sparticuz/chromium')).default;
  const files = {
    '/enseal.browser.js': new URL('../dist/enseal.browser.js', import.meta.url),
    '/backends.mjs': new URL(import.meta.url),
  };
  const page = `<!doctype html><script type="module">import * as enseal from '/enseal.browser.js'; window.enseal = enseal;</script>`;
  const server = createServer((req, res) => {
    const f = files[req.url ?? ''];
    if (req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    if (f === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(f));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const executablePath = process.env.CHROMIUM_PATH || (await sparticuz.executablePath());
  const browser = await chromium.launch({ executablePath, headless: true, args: [...sparticuz.args, '--host-resolver-rules=MAP enseal.test 127.0.0.1'], timeout: 60_000 });
  const out = [];
  try {
    const context = await browser.newContext();
    for (const url of [`http://127.0.0.1:${port}/`, `http://enseal.test:${port}/`]) {
      const p = await context.newPage();
      await p.goto(url);
      await p.waitForFunction(() => 'enseal' in window, undefined, { timeout: 60_000 });
      out.push(await p.evaluate(async (o) => (await import('/backends.mjs')).measure(window.enseal, o), opts));
      await p.close();
    }
  } finally {
    await browser.close().catch(() => undefined);
    server.close();
  }
  return out;
}

function print(all) {
  console.log(`\n| runtime | backend | GCM seal 16 KiB chunks MB/s | GCM open MB/s | 1 KiB encrypt+decrypt /s | fastest (chunks) |`);
  console.log('|---|---|---:|---:|---:|---|');
  for (const m of all) {
    const names = Object.keys(m.results);
    const score = (n) => m.results[n].seal + m.results[n].open;
    const best = names.reduce((a, b) => (score(b) > score(a) ? b : a));
    for (const n of names) {
      const r = m.results[n];
      console.log(`| ${m.runtime} | ${n}${n === m.default ? ' (default)' : ''} | ${r.seal} | ${r.open} | ${r.oneShot} | ${n === best ? '**yes**' : ''} |`);
    }
  }
  console.log(`\nBACKENDS_ALL ${JSON.stringify(all)}`);
}
