// Worker pool smoke run for real runtimes (spawned by test/pool.test.ts with Bun and Deno against
// dist/): round trips and byte identity with the single-thread path, a tampered chunk, and a
// closed pool; prints one JSON line. `web` as the argument hides `process.getBuiltinModule` (no
// worker_threads, no node:crypto), so the pool starts Web Workers, as in a browser.
const web = typeof Deno !== 'undefined' ? Deno.args.includes('web') : process.argv.includes('web');
if (web) globalThis.process.getBuiltinModule = undefined;
const { aesKey, createPool, decrypt, encrypt } = await import('../../dist/index.js');
const { open, seal } = await import('../../dist/chunked.js');
const out = { web, runtime: typeof Deno !== 'undefined' ? 'deno' : typeof Bun !== 'undefined' ? 'bun' : 'node' };
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const key = aesKey({ id: 'k', key: new Uint8Array(32).fill(1) });
const input = new Uint8Array(32).fill(2);
const salt = new Uint8Array(24).fill(3);
const pt = new Uint8Array(130 * 16384 + 77).map((_, i) => (i * 31) & 255);
let pool;
try {
  pool = createPool({ size: 2 });
} catch (e) {
  console.log(JSON.stringify({ ...out, unsupported: e.code }));
  process.exit(0);
}
try {
  const single = await seal(input, pt, { salt });
  out.identical = same(await seal(input, pt, { salt, workers: pool }), single);
  out.opened = same(await open(input, single, { workers: pool }), pt);
  const ct = await encrypt(pt, { recipients: [key], workers: 2 });
  out.roundTrip = same(await decrypt(ct, { keys: [key] }), pt);
  const bad = single.slice();
  bad[56 + 70 * 16400 + 9] ^= 1;
  try {
    await open(input, bad, { workers: pool });
    out.tamper = 'accepted';
  } catch (e) {
    out.tamper = `${e.code}:${e.chunk}`;
  }
} catch (e) {
  out.error = `${e.code ?? e.name}: ${e.message}`;
}
await pool.close();
try {
  await encrypt(pt, { recipients: [key], workers: pool });
} catch (e) {
  out.afterClose = e.code;
}
console.log(JSON.stringify(out));
