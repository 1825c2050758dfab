#!/usr/bin/env node
// enseal throughput benchmark (tinybench). Run with `npm run bench` after `npm ci` (which builds dist/).
//
// 1. Checks first that every contender produces identical bytes: the raw node:crypto loop below
//    reproduces enseal/chunked's output exactly (same derived key, nonces and chunks).
// 2. Times encryption and decryption of 64 MiB: the raw loop, the one-shot API and the four stream
//    APIs (encryptStream, decryptStream: Web streams; createEncryptStream, createDecryptStream:
//    Node streams) fed 16 KiB, 64 KiB and 1 MiB writes, interleaved in the same run, and prints MB/s
//    (from the median), the ratio to the raw loop, and the same ratio from CPU time (this process's
//    user + system time, less sensitive to other processes on a shared machine).
//    The "bare" rows are the floors of the stream machinery itself: a bare TransformStream or Node
//    Transform that runs nothing but the raw loop over each write (for decryption with the one copy
//    of a chunk that straddles two writes), fed and read exactly as the enseal streams are. The
//    "pipeTo" rows feed and drain the Web streams the way applications do (pipeThrough + pipeTo).
//    Two raw references: "pieces" keeps node:crypto's output buffers as they come (what a stream
//    emits); "one buffer" copies them into one fresh contiguous buffer (what a one-shot API returns;
//    on these VMs the page faults of a fresh 64 MiB buffer halve throughput).
// 3. Spawns bench/rss.mjs: stream-encrypts 1 GiB of generated data and prints peak RSS.
//
// Machines here are shared and noisy: compare ratios, not absolute numbers.
// Environment: BENCH_MIB (default 64), BENCH_ROUNDS (15), BENCH_WRITES (16384,65536,1048576),
// BENCH_SKIP_RSS=1.
import { spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Bench } from 'tinybench';
import { aesKey, decrypt, decryptStream, encrypt, encryptStream } from '../dist/index.js';
import { open as chunkedOpen, seal as chunkedSeal } from '../dist/chunked.js';
import { createDecryptStream, createEncryptStream } from '../dist/node.js';

const MiB = 1 << 20;
const SIZE = Number(process.env.BENCH_MIB ?? 64) * MiB;
const CHUNK = 16384;
const SEALED = CHUNK + 16;
const WRITE = 64 * 1024; // write size of the output checks (Node's fs default highWaterMark)
const WRITES = (process.env.BENCH_WRITES ?? '16384,65536,1048576').split(',').map(Number);

const plaintext = randomBytes(SIZE);
const inputKey = randomBytes(32);
const salt = randomBytes(24);
const recipient = aesKey({ id: 'bench', key: randomBytes(32) });

// --- The raw primitive: node:crypto AES-256-GCM, a new cipher per 16 KiB chunk. -----------------
// Key and base nonce come from C2SP's HKDF-Expand so the output can be compared byte for byte.
function hkdfExpandSha512(prk, info, length) {
  const out = [];
  let t = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(out).length < length; i++) {
    t = createHmac('sha512', prk).update(Buffer.concat([t, info, Buffer.from([i])])).digest();
    out.push(t);
  }
  return Buffer.concat(out).subarray(0, length);
}
const okm = hkdfExpandSha512(inputKey, Buffer.concat([Buffer.from('c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM\0'), salt]), 76);
const aeadKey = okm.subarray(0, 32);
const baseNonce = okm.subarray(32, 44);
const commitment = okm.subarray(44);
function nonce(i) {
  const n = Buffer.from(baseNonce);
  n.writeUInt32BE((n.readUInt32BE(8) ^ i) >>> 0, 8); // i < 2^32 here
  return n;
}
const chunks = Math.floor(SIZE / CHUNK) + 1;

/** Raw encrypt; `sink(piece)` receives ct and tag pieces as node:crypto produces them. */
function rawSeal(sink) {
  for (let i = 0; i < chunks; i++) {
    const c = createCipheriv('aes-256-gcm', aeadKey, nonce(i));
    sink(c.update(plaintext.subarray(i * CHUNK, Math.min(SIZE, (i + 1) * CHUNK))));
    c.final();
    sink(c.getAuthTag());
  }
}
/** Raw decrypt of a payload (after the 56-byte preamble). */
function rawOpen(payload, sink) {
  const body = payload.subarray(56);
  for (let i = 0; i < chunks; i++) {
    const ct = body.subarray(i * SEALED, Math.min(body.length, (i + 1) * SEALED));
    const d = createDecipheriv('aes-256-gcm', aeadKey, nonce(i));
    d.setAuthTag(ct.subarray(ct.length - 16));
    const pt = d.update(ct.subarray(0, ct.length - 16));
    d.final();
    sink(pt);
  }
}
/** The same raw loop writing into one contiguous buffer, as any one-shot API must return. */
function intoOneBuffer(size, fill) {
  const out = new Uint8Array(size);
  let off = 0;
  fill((p) => {
    out.set(p, off);
    off += p.length;
  });
  return out;
}

async function pipe(ts, input, write) {
  const reader = ts.readable.getReader();
  let n = 0;
  const reading = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      n += value.length;
    }
  })();
  const writer = ts.writable.getWriter();
  for (let o = 0; o < input.length; o += write) await writer.write(input.subarray(o, o + write));
  await writer.close();
  await reading;
  return n;
}
async function pipeCollect(ts, input) {
  const parts = [];
  const reader = ts.readable.getReader();
  const reading = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parts.push(value);
    }
  })();
  const writer = ts.writable.getWriter();
  for (let o = 0; o < input.length; o += WRITE) await writer.write(input.subarray(o, o + WRITE));
  await writer.close();
  await reading;
  return Buffer.concat(parts);
}

// --- 1. Identical output before timing anything. ----------------------------------------------------
const payload = await chunkedSeal(inputKey, plaintext, { salt });
const raw = Buffer.concat([salt, commitment, intoOneBuffer(payload.length - 56, rawSeal)]);
if (!raw.equals(payload)) throw new Error('raw loop and enseal/chunked disagree');
if (!Buffer.from(await chunkedOpen(inputKey, payload)).equals(plaintext)) throw new Error('chunked open mismatch');
const sealed = await encrypt(plaintext, { recipients: [recipient] });
if (!Buffer.from(await decrypt(sealed, { keys: [recipient] })).equals(plaintext)) throw new Error('decrypt mismatch');
const streamed = await pipeCollect(encryptStream({ recipients: [recipient] }), plaintext);
if (!Buffer.from(await decrypt(streamed, { keys: [recipient] })).equals(plaintext)) throw new Error('stream output mismatch');
if (!(await pipeCollect(decryptStream({ keys: [recipient] }), sealed)).equals(plaintext)) throw new Error('decryptStream mismatch');
{
  const parts = [];
  const o = bareOpener();
  for (const piece of pieces(payload, WRITE + 1)) o.write(piece, (p) => parts.push(p)); // unaligned writes
  o.end((p) => parts.push(p));
  if (!Buffer.concat(parts).equals(plaintext)) throw new Error('bare open loop mismatch');
}
console.log(`outputs checked: raw loop == enseal/chunked (${payload.length} bytes); envelope one-shot and stream round trips OK`);

// --- 2. Timing. ----------------------------------------------------------------------------------------
// Tasks are interleaved: each round runs every task once (tinybench, one iteration each, in a rotated
// order), so a machine that speeds up or slows down during the run affects all contenders alike.
// MB/s come from the median over the rounds.
const noop = () => {};
const nodeSink = () => new Writable({ write(_c, _e, cb) { cb(); }, writev(_c, cb) { cb(); } });
function* pieces(buf, write) {
  for (let o = 0; o < buf.length; o += write) yield buf.subarray(o, o + write);
}
const kib = (w) => (w >= MiB ? `${w / MiB} MiB` : `${w / 1024} KiB`);
const seal1 = { 'raw node:crypto seal (pieces)': () => rawSeal(noop) };
const open1 = { 'raw node:crypto open (pieces)': () => rawOpen(payload, noop) };
// The floor of Web streams themselves: a bare TransformStream that runs nothing but the raw loop
// over each write and enqueues node:crypto's buffers as they come.
function bareSeal(input, write) {
  return pipe(new TransformStream({ transform: (c, ctl) => sealWrite(c, (p) => ctl.enqueue(p)) }), input, write);
}
function sealWrite(data, sink) {
  // the benchmark's writes are whole chunks (16 KiB multiples), so each write seals its own chunks
  for (let o = 0, i = bareIndex; o < data.length; o += CHUNK, i++) {
    const c = createCipheriv('aes-256-gcm', aeadKey, nonce(i));
    sink(c.update(data.subarray(o, o + CHUNK)));
    c.final();
    sink(c.getAuthTag());
  }
  bareIndex += data.length / CHUNK;
}
let bareIndex = 0;
// The same floors for decryption: the raw open loop over writes that do not align with the
// 16400-byte sealed chunks, so a chunk that straddles two writes is copied into one buffer
// (nothing retained across writes), then opened; the final chunk is opened at the end.
function bareOpener() {
  const carry = new Uint8Array(SEALED);
  let fill = 0;
  let skip = 56; // the preamble (its commitment is checked by the one-time output check above)
  let i = 0;
  const open = (ct, sink) => {
    const d = createDecipheriv('aes-256-gcm', aeadKey, nonce(i++));
    d.setAuthTag(ct.subarray(ct.length - 16));
    const pt = d.update(ct.subarray(0, ct.length - 16));
    d.final();
    sink(pt);
  };
  return {
    write(data, sink) {
      let o = Math.min(skip, data.length);
      skip -= o;
      if (fill > 0) {
        const n = Math.min(SEALED - fill, data.length - o);
        carry.set(data.subarray(o, o + n), fill);
        fill += n;
        o += n;
        if (fill < SEALED) return;
        open(carry, sink);
        fill = 0;
      }
      for (; data.length - o >= SEALED; o += SEALED) open(data.subarray(o, o + SEALED), sink);
      carry.set(data.subarray(o), 0);
      fill = data.length - o;
    },
    end: (sink) => open(carry.subarray(0, fill), sink),
  };
}
function bareOpen(input, write) {
  const o = bareOpener();
  return pipe(new TransformStream({ transform: (c, ctl) => o.write(c, (p) => ctl.enqueue(p)), flush: (ctl) => o.end((p) => ctl.enqueue(p)) }), input, write);
}
/** A bare Node Transform around a raw loop (`write(data, push)`, `end(push)`), as enseal/node's adapter drives its machine. */
function bareNode(input, write, loop) {
  const t = new Transform({
    highWaterMark: 1 << 16,
    transform(c, _e, cb) {
      loop.write(c, (p) => this.push(p));
      cb();
    },
    flush(cb) {
      loop.end?.((p) => this.push(p));
      cb();
    },
  });
  return pipeline(Readable.from(pieces(input, write)), t, nodeSink());
}
for (const w of WRITES) {
  seal1[`bare TransformStream + raw loop (${kib(w)})`] = () => ((bareIndex = 0), bareSeal(plaintext, w));
  seal1[`encryptStream (web, ${kib(w)} writes)`] = () => pipe(encryptStream({ recipients: [recipient] }), plaintext, w);
  seal1[`bare node Transform + raw loop (${kib(w)})`] = () => ((bareIndex = 0), bareNode(plaintext, w, { write: sealWrite }));
  seal1[`createEncryptStream (node, ${kib(w)})`] = () => pipeline(Readable.from(pieces(plaintext, w)), createEncryptStream({ recipients: [recipient] }), nodeSink());
  open1[`bare TransformStream + raw loop (${kib(w)})`] = () => bareOpen(payload, w);
  open1[`decryptStream (web, ${kib(w)} writes)`] = () => pipe(decryptStream({ keys: [recipient] }), sealed, w);
  open1[`bare node Transform + raw loop (${kib(w)})`] = () => bareNode(payload, w, bareOpener());
  open1[`createDecryptStream (node, ${kib(w)})`] = () => pipeline(Readable.from(pieces(sealed, w)), createDecryptStream({ keys: [recipient] }), nodeSink());
}
// The way applications compose streams: `source.pipeThrough(ts).pipeTo(sink)` (each enqueue is a
// pipeTo write), 64 KiB writes, for enseal and for the bare floor. (Joining a step's pieces into
// one output per write, to save pipeTo writes, was measured in one process against the current
// code and lost at every write size but 64 KiB encryption, 0.69–1.06×: the copy costs more.)
const PIPE_W = 64 * 1024;
async function pipeToSink(ts, input) {
  let at = 0;
  let n = 0;
  const source = new ReadableStream({
    pull(c) {
      if (at >= input.length) return c.close();
      c.enqueue(input.subarray(at, at + PIPE_W));
      at += PIPE_W;
    },
  });
  await source.pipeThrough(ts).pipeTo(new WritableStream({ write(chunk) { n += chunk.length; } }));
  return n;
}
seal1['bare TransformStream + raw loop (pipeTo, 64 KiB)'] = () => ((bareIndex = 0), pipeToSink(new TransformStream({ transform: (c, ctl) => sealWrite(c, (p) => ctl.enqueue(p)) }), plaintext));
seal1['encryptStream (web, pipeTo, 64 KiB)'] = () => pipeToSink(encryptStream({ recipients: [recipient] }), plaintext);
open1['bare TransformStream + raw loop (pipeTo, 64 KiB)'] = () => {
  const o = bareOpener();
  return pipeToSink(new TransformStream({ transform: (c, ctl) => o.write(c, (p) => ctl.enqueue(p)), flush: (ctl) => o.end((p) => ctl.enqueue(p)) }), payload);
};
open1['decryptStream (web, pipeTo, 64 KiB)'] = () => pipeToSink(decryptStream({ keys: [recipient] }), sealed);
const seal2 = {
  'raw node:crypto seal (one buffer)': () => intoOneBuffer(payload.length - 56, rawSeal),
  'encrypt (one-shot)': () => encrypt(plaintext, { recipients: [recipient] }),
  'chunked seal (one-shot)': () => chunkedSeal(inputKey, plaintext, { salt }),
  'encrypt (one-shot, webcrypto)': () => encrypt(plaintext, { recipients: [recipient], backend: 'webcrypto' }),
};
const open2 = {
  'raw node:crypto open (one buffer)': () => intoOneBuffer(SIZE, (sink) => rawOpen(payload, sink)),
  'decrypt (one-shot)': () => decrypt(sealed, { keys: [recipient] }),
  'chunked open (one-shot)': () => chunkedOpen(inputKey, payload),
  'decrypt (one-shot, webcrypto)': () => decrypt(sealed, { keys: [recipient], backend: 'webcrypto' }),
};
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
/**
 * Times one group of tasks against its first task (the raw reference): ROUNDS interleaved rounds,
 * each running every task once (rotated order). No forced GC between tasks: a forced full GC
 * returns freed buffers to the OS, and every contender then pays page faults that a long-running
 * process does not (it measures a cold heap, not steady state).
 */
async function group(title, tasks) {
  const names = Object.keys(tasks);
  const samples = Object.fromEntries(names.map((k) => [k, []]));
  const cpu = Object.fromEntries(names.map((k) => [k, []]));
  const timed = (name) => async () => {
    const c0 = process.cpuUsage();
    await tasks[name]();
    const c = process.cpuUsage(c0);
    cpu[name].push(c.user + c.system);
  };
  for (let r = 0; r < ROUNDS + 2; r++) {
    const bench = new Bench({ iterations: 1, time: 0, warmup: false, throws: true });
    // `async` is given explicitly: otherwise tinybench probes a function by calling it once, and an
    // un-awaited probe of a 64 MiB stream would overlap the timed run.
    for (const name of names.slice(r % names.length).concat(names.slice(0, r % names.length))) {
      bench.add(name, timed(name), { async: true });
    }
    await bench.run();
    if (r < 2) {
      for (const name of names) cpu[name].length = 0; // warm-up rounds
      continue;
    }
    for (const t of bench.tasks) samples[t.name].push(t.result.latency.mean);
  }
  const mbps = (name) => SIZE / 1e6 / (median(samples[name]) / 1000);
  const cpuRatio = (name) => median(cpu[names[0]]) / median(cpu[name]);
  console.log(`\n${title}`);
  for (const name of names) {
    console.log(
      `  ${name.padEnd(40)} ${mbps(name).toFixed(0).padStart(6)} MB/s  ${(mbps(name) / mbps(names[0])).toFixed(2)}× ${names[0].replace('node:crypto ', '')}` +
        `  (CPU time: ${cpuRatio(name).toFixed(2)}×)`,
    );
  }
}

console.log(`\n${SIZE / MiB} MiB, 16 KiB chunks, node ${process.version}, node backend unless noted; MB/s from the median of ${ROUNDS} interleaved rounds; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log('Two raw references: "pieces" keeps node:crypto\'s output buffers as they come (what a stream emits);');
console.log('"one buffer" copies them into one fresh contiguous buffer (what a one-shot API must return).');
await group('Encrypt, streaming', seal1);
await group('Encrypt, one-shot', seal2);
await group('Decrypt, streaming', open1);
await group('Decrypt, one-shot', open2);

// --- 3. Peak RSS of a 1 GiB stream encryption, in a fresh process. ------------------------------------
if (process.env.BENCH_SKIP_RSS !== '1') {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('./rss.mjs', import.meta.url))], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
