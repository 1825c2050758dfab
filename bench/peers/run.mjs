#!/usr/bin/env node
// enseal compared with other libraries. From the repo root: `npm run build` (dist/ must be
// current), then `npm run bench:peers` (installs bench/peers/ from its own lockfile, then runs
// this file). Contenders and their configuration: bench/peers/README.md.
//
// 1. Round trips first: every contender decrypts its own output of each input (the stream input
//    and the 1 MiB and 1 KiB messages) back to the input, byte for byte, before anything is timed.
// 2. Streams: encrypt, then decrypt, STREAM MiB fed in 64 KiB pieces; MB/s from the median of
//    interleaved rounds, min–max over the rounds, and the ratio to the node:crypto raw loop
//    measured in the same round (median of the per-round ratios).
// 3. Messages of 1 MiB and 1 KiB: µs per message and messages/s (per-message overhead), batches
//    sized to last BATCH ms, interleaved rounds as above, ratio to one raw node:crypto GCM call.
// 4. Peak RSS: one child process per contender (bench/peers/rss.mjs) stream-encrypts RSS MiB of
//    generated data (not held in memory) and reports its own peak RSS (VmHWM).
// 5. One markdown table at the end.
// enseal runs on every backend of availableBackends(); its "with workers" rows are measured when
// the build has the `workers` option (feature-detected, contenders.mjs), else print n/a.
//
// Environment (all optional):
//   PEERS_QUICK=1        quick check: 8 MiB streams, 3 rounds, 20 ms batches, 64 MiB RSS stream
//   PEERS_STREAM_MIB=n   stream size in MiB (default 64)
//   PEERS_ROUNDS=n       timed rounds per measurement, after one warm-up round (default 9)
//   PEERS_BATCH_MS=n     target duration of one message batch (default 100)
//   PEERS_RSS_MIB=n      size of the peak-RSS stream in MiB (default 1024); PEERS_SKIP_RSS=1 skips it
//   PEERS_ONLY=a,b       only these contender ids (the node:crypto reference always runs)
//
// The machines here are shared and noisy: compare the ratios of one run, not MB/s across runs.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ensealBackends, registry, workersSupported } from './contenders.mjs';
import { collector, counter, piecesOf } from './io.mjs';
import { batchSize, interleaved, stats } from './measure.mjs';

const MiB = 1 << 20;
const quick = process.env.PEERS_QUICK === '1';
const envNum = (name, dflt) => {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!(n > 0)) throw new RangeError(`${name} expected a positive number, got ${JSON.stringify(v)}`);
  return n;
};
const STREAM = envNum('PEERS_STREAM_MIB', quick ? 8 : 64) * MiB;
const ROUNDS = Math.round(envNum('PEERS_ROUNDS', quick ? 3 : 9));
const BATCH_MS = envNum('PEERS_BATCH_MS', quick ? 20 : 100);
const RSS_MIB = envNum('PEERS_RSS_MIB', quick ? 64 : 1024);
const SKIP_RSS = process.env.PEERS_SKIP_RSS === '1';
const ONLY = process.env.PEERS_ONLY ? new Set(process.env.PEERS_ONLY.split(',').map((s) => s.trim())) : undefined;
const REF = 'node-raw';

// --- contenders -----------------------------------------------------------------------------------
const backends = await ensealBackends();
const pool = await workersSupported();
const reg = registry(backends, pool);
if (ONLY) for (const id of ONLY) if (!reg.has(id)) throw new RangeError(`PEERS_ONLY: unknown contender ${id} (known: ${[...reg.keys()].join(', ')})`);
const contenders = [];
for (const [id, make] of reg) if (!ONLY || ONLY.has(id) || id === REF) contenders.push({ id, ...(await make()) });
const live = contenders.filter((c) => c.na === undefined); // shrinks if a combination is unsupported
console.log(`node ${process.version}, ${new Date().toISOString()}; enseal backends: ${backends.join(', ')}; worker pool: ${pool ? 'yes' : 'not in this build'}`);
console.log(`streams ${STREAM / MiB} MiB, ${ROUNDS} timed rounds (+1 warm-up), message batches ~${BATCH_MS} ms, peak RSS over ${RSS_MIB} MiB\n`);

// --- 1. round trips before timing ---------------------------------------------------------------------
const input = randomBytes(STREAM);
const inputCopy = Buffer.from(input); // to notice a contender that mutates or detaches its input
const messages = { '1 MiB': randomBytes(MiB), '1 KiB': randomBytes(1024) };
const sealed = new Map(); // id -> { stream, '1 MiB', '1 KiB' } ciphertexts
for (const c of [...live]) {
  try {
    sealed.set(c.id, await roundTrips(c));
  } catch (e) {
    // A combination the library refuses as unsupported here (e.g. workers on one backend) is a
    // row of its own saying so; any other failure, and every mismatch, stops the run.
    if (e?.code !== 'ERR_UNSUPPORTED') throw e;
    c.na = `n/a (ERR_UNSUPPORTED: ${String(e.message).slice(0, 60)})`;
    live.splice(live.indexOf(c), 1);
    console.log(`unsupported here: ${c.id}: ${e.message}`);
  }
}
async function roundTrips(c) {
  const mine = {};
  if (c.stream) {
    const ct = collector();
    await c.stream.enc(piecesOf(input), ct.sink);
    mine.stream = ct.bytes();
    const pt = collector();
    await c.stream.dec(mine.stream, pt.sink);
    if (!pt.bytes().equals(inputCopy) || !input.equals(inputCopy)) throw new Error(`${c.id}: stream round trip failed`);
    mine.streamOut = mine.stream.length;
  }
  if (c.msg) {
    for (const [name, m] of Object.entries(messages)) {
      const ct = await c.msg.enc(m);
      const back = await c.msg.dec(ct);
      if (!Buffer.from(back).equals(m)) throw new Error(`${c.id}: ${name} message round trip failed`);
      mine[name] = ct;
    }
  }
  console.log(`round trip OK: ${c.id}${c.stream ? ` (stream ${mine.stream.length} bytes)` : ''}${c.msg ? `, messages ${mine['1 MiB'].length} / ${mine['1 KiB'].length} bytes` : ''}`);
  return mine;
}

// --- formatting ---------------------------------------------------------------------------------------
const fmt = (x, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }).replace(/,/g, ' ');
const usDigits = (us) => (us < 100 ? 1 : 0);
function cell(column, r) {
  if (column.endsWith('stream')) {
    const v = r.value;
    return `${fmt(v.median)} MB/s (${fmt(v.min)}–${fmt(v.max)}), ${r.ratio.median.toFixed(2)}×`;
  }
  const u = r.us;
  return `${fmt(u.median, usDigits(u.median))} µs (${fmt(u.min, usDigits(u.min))}–${fmt(u.max, usDigits(u.max))}), ${fmt(r.value.median)}/s, ${r.ratio.median < 0.01 ? r.ratio.median.toPrecision(1) : r.ratio.median.toFixed(2)}×`;
}

// --- 2, 3. timing -------------------------------------------------------------------------------------
const results = new Map(live.map((c) => [c.id, {}])); // id -> column -> { value stats, ratio }
function record(column, samples, toValue) {
  const ref = samples.get(REF);
  for (const [id, xs] of samples) {
    results.get(id)[column] = {
      value: stats(xs.map(toValue)),
      us: stats(xs.map((ms) => ms * 1000)),
      ratio: stats(xs.map((ms, r) => ref[r] / ms)), // > 1: faster than the raw reference
    };
  }
}
function show(column) {
  console.log(`\n${column}`);
  for (const c of live) {
    const r = results.get(c.id)[column];
    if (r) console.log(`  ${c.id.padEnd(26)} ${cell(column, r)}`);
  }
}

const streamers = live.filter((c) => c.stream);
for (const [column, dir] of [['encrypt stream', 'enc'], ['decrypt stream', 'dec']]) {
  const tasks = streamers.map((c) => ({
    id: c.id,
    fn: async () => {
      const out = counter();
      await (dir === 'enc' ? c.stream.enc(piecesOf(input), out.sink) : c.stream.dec(sealed.get(c.id).stream, out.sink));
      // Decryption must give exactly the input length; ciphertext length may vary by a byte or
      // two between runs (the AWS SDK's DER-encoded ECDSA signature), but never undercut the input.
      const ok = dir === 'enc' ? out.n > STREAM && Math.abs(out.n - sealed.get(c.id).streamOut) <= 8 : out.n === STREAM;
      if (!ok) throw new Error(`${c.id}: ${column} produced ${out.n} bytes (round-trip run: ${dir === 'enc' ? sealed.get(c.id).streamOut : STREAM})`);
    },
  }));
  record(column, await interleaved(tasks, ROUNDS), (ms) => STREAM / 1e6 / (ms / 1000));
  show(column);
}

const senders = live.filter((c) => c.msg);
for (const size of Object.keys(messages)) {
  for (const dir of ['enc', 'dec']) {
    const column = `${dir === 'enc' ? 'encrypt' : 'decrypt'} ${size}`;
    const tasks = [];
    for (const c of senders) {
      const arg = dir === 'enc' ? messages[size] : sealed.get(c.id)[size];
      const op = () => c.msg[dir](arg);
      const per = await batchSize(op, BATCH_MS);
      const fn = c.msg.sync
        ? () => {
            for (let i = 0; i < per; i++) op();
          }
        : async () => {
            for (let i = 0; i < per; i++) await op();
          };
      tasks.push({ id: c.id, fn, sync: c.msg.sync, per });
    }
    record(column, await interleaved(tasks, ROUNDS), (ms) => 1000 / ms); // messages per second
    show(column);
  }
}

// --- 4. peak RSS, a child process per contender --------------------------------------------------------
const rss = new Map();
if (!SKIP_RSS) {
  console.log(`\npeak RSS, ${RSS_MIB} MiB stream encryption of generated data, one process each`);
  const script = fileURLToPath(new URL('./rss.mjs', import.meta.url));
  for (const c of streamers) {
    const r = spawnSync(process.execPath, [script, c.id, String(RSS_MIB)], { encoding: 'utf8', timeout: 15 * 60_000 });
    const line = /^RSS (.*)$/m.exec(r.stdout ?? '');
    if (r.status !== 0 || !line) {
      rss.set(c.id, { failed: (r.error?.message ?? r.stderr.trim().split('\n').at(-1) ?? `status ${r.status}`).slice(0, 80) });
      console.log(`  ${c.id.padEnd(26)} failed: ${rss.get(c.id).failed}`);
      continue;
    }
    const m = JSON.parse(line[1]);
    if (!(m.bytesOut > RSS_MIB * MiB)) throw new Error(`${c.id}: RSS run wrote ${m.bytesOut} bytes for ${RSS_MIB} MiB`);
    rss.set(c.id, m);
    console.log(`  ${c.id.padEnd(26)} peak ${m.peakMiB.toFixed(1)} MiB (after start-up ${m.startMiB.toFixed(1)} MiB), ${(RSS_MIB * MiB / 1e6 / m.seconds).toFixed(0)} MB/s`);
  }
}

for (const c of contenders) await c.close?.(); // worker pools: no thread outlives the run

// --- 5. the table ---------------------------------------------------------------------------------------
const columns = ['encrypt stream', 'decrypt stream', 'encrypt 1 MiB', 'decrypt 1 MiB', 'encrypt 1 KiB', 'decrypt 1 KiB'];
const head = [
  'contender',
  'API used',
  `encrypt ${STREAM / MiB} MiB stream`,
  `decrypt ${STREAM / MiB} MiB stream`,
  'encrypt 1 MiB message',
  'decrypt 1 MiB message',
  'encrypt 1 KiB message',
  'decrypt 1 KiB message',
  `peak RSS, ${RSS_MIB >= 1024 ? `${RSS_MIB / 1024} GiB` : `${RSS_MIB} MiB`} stream`,
];
const rows = contenders.map((c) => {
  if (c.na !== undefined) return [c.label, '—', ...columns.map(() => c.na), c.na];
  const res = results.get(c.id);
  const m = rss.get(c.id);
  const rssCell = SKIP_RSS ? 'not run' : m === undefined ? '—' : m.failed ? `failed: ${m.failed}` : `${m.peakMiB.toFixed(0)} MiB (start-up ${m.startMiB.toFixed(0)})`;
  return [c.label, c.api, ...columns.map((k) => (res[k] ? cell(k, res[k]) : '—')), rssCell];
});
const esc = (s) => String(s).replace(/\|/g, '\\|');
console.log(`\n## Peer benchmark: node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ${STREAM / MiB} MiB streams in 64 KiB pieces, ${ROUNDS} interleaved rounds\n`);
console.log(`| ${head.join(' | ')} |`);
console.log(`|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`);
for (const r of rows) console.log(`| ${r.map(esc).join(' | ')} |`);
console.log(
  '\nMedian (min–max over the rounds); × = ratio to the node:crypto raw loop in the same round (median of per-round ratios, > 1 is faster). ' +
    'Streams in MB/s; messages in µs per message and messages per second. Peak RSS: VmHWM of a process that only ran that contender.',
);
