/**
 * The source of a pool worker, as a string: run by `new Worker(source, { eval: true })` under
 * `worker_threads` (Node, Bun, Deno), or from a `blob:` URL as a Web Worker (browsers). A string
 * rather than a file, like `src/keys/kdf-worker-source.ts`: it needs no bundler configuration,
 * works the same from `src/` and `dist/`, and cannot be left out of a build.
 *
 * It seals and opens batches of C2SP chunks (https://c2sp.org/chunked-encryption §"AEAD usage":
 * `nonce_i = base_nonce XOR uint96_be(i)`, empty AAD, 16-byte tag) with node:crypto where the
 * worker has it, else WebCrypto. Every chunk depends only on the message key, the base nonce and
 * its index, so batches of one message can run in any worker in any order.
 *
 * `fresh` jobs (the stream paths) write the result into a buffer allocated here, in the worker,
 * and hand the job's buffer back: the calling thread then refills buffers it already owns
 * (resident pages) instead of allocating and page-faulting 1 MiB per batch, and the result it
 * passes downstream is a buffer nobody else references. Under node:crypto that buffer comes from
 * `Buffer.allocUnsafeSlow` (not zero-filled: every byte is written before it leaves, and it is
 * wiped when a chunk fails).
 *
 * Protocol (the parent is `src/pool/thread.ts` / `src/pool/pool.ts`):
 *
 * ```
 * parent → worker  { op: 'key', s, key: ArrayBuffer }     key (16|32) || base nonce (12), transferred;
 *                                                          wiped here by 'drop'
 *                  { op: 'seal', s, j, first, count, last, buf, fresh }
 *                      buf (transferred, may be longer than used): count slots of 16400 bytes, the
 *                      last one `last` + 16;
 *                      slot i holds plaintext i in its first bytes; sealed in place, or, with
 *                      `fresh`, into a new buffer of exactly the sealed length
 *                  { op: 'open', s, j, first, count, last, buf, fresh }
 *                      buf (transferred): count sealed chunks back to back, the last one `last`
 *                      bytes; plaintext i is written at i × 16384 (in place, or with `fresh` into a
 *                      new buffer of exactly the plaintext length), released only after every
 *                      tag verified
 *                  { op: 'drop', s }                       wipe and forget session s's key
 *                  { op: 'stats', j }                      how many keys this worker holds
 * worker → parent  { ready: true }                         the script runs
 *                  { j, ok: true, buf, spare }             result, transferred; with `fresh`, `spare`
 *                                                          is the job's own buffer handed back for
 *                                                          reuse (the caller wipes it when done)
 *                  { j, ok: false, auth: true, chunk }     chunk `chunk` failed: the whole batch was
 *                                                          wiped, nothing is returned
 *                  { j, ok: false, message }               anything else (no secret in it)
 *                  { j, ok: true, keys }                   answer to 'stats'
 * ```
 *
 * @module
 */

/** JavaScript source of the pool worker (see the module comment for its protocol). */
export const POOL_WORKER_SOURCE = String.raw`'use strict';
const CHUNK = 16384, SEALED = 16400, TAG = 16;
const gb = (id) => {
  try {
    if (typeof require === 'function') return require(id);
    const p = globalThis.process;
    return p && typeof p.getBuiltinModule === 'function' ? p.getBuiltinModule(id) : undefined;
  } catch (e) { return undefined; }
};
const wt = gb('node:worker_threads');
const port = wt && wt.parentPort ? wt.parentPort : undefined;
const nc = port ? gb('node:crypto') : undefined;
const useNode = !!(nc && typeof nc.createCipheriv === 'function');
const post = port ? (m, t) => port.postMessage(m, t || []) : (m, t) => self.postMessage(m, t || []);
const keys = new Map();
function nonceOf(base, index, n) {
  n.set(base);
  const hi = Math.floor(index / 4294967296), lo = index >>> 0;
  n[7] ^= hi; n[8] ^= lo >>> 24; n[9] ^= (lo >>> 16) & 255; n[10] ^= (lo >>> 8) & 255; n[11] ^= lo & 255;
  return n;
}
function checkJob(m) {
  const ok = Number.isSafeInteger(m.first) && m.first >= 0 && Number.isInteger(m.count) && m.count >= 1 && m.count <= 1024
    && Number.isInteger(m.last) && m.last >= 0 && m.last <= (m.op === 'seal' ? CHUNK : SEALED) && m.buf instanceof ArrayBuffer;
  if (!ok) throw new Error('malformed job');
  const want = m.op === 'seal' ? (m.count - 1) * SEALED + m.last + TAG : (m.count - 1) * SEALED + m.last;
  if (m.buf.byteLength < want) throw new Error('job buffer too small');
  if (m.op === 'open' && m.last < TAG) throw new Error('sealed chunk shorter than a tag');
}
async function importKey(raw) {
  const kl = raw.length - 12;
  if (kl !== 16 && kl !== 32) throw new Error('bad key length');
  const base = raw.slice(kl);
  if (useNode) return { alg: kl === 32 ? 'aes-256-gcm' : 'aes-128-gcm', key: Buffer.from(raw.subarray(0, kl)), base, nonce: new Uint8Array(12) };
  const ck = await crypto.subtle.importKey('raw', raw.subarray(0, kl), 'AES-GCM', false, ['encrypt', 'decrypt']);
  return { ck, base };
}
function wipeKey(k) {
  if (k.key) k.key.fill(0);
  k.base.fill(0);
  if (k.nonce) k.nonce.fill(0);
}
const alloc = (n) => (useNode ? Buffer.allocUnsafeSlow(n) : new Uint8Array(n));
async function seal(k, m) {
  const u = new Uint8Array(m.buf);
  const o = m.fresh ? alloc((m.count - 1) * SEALED + m.last + TAG) : u;
  if (useNode) {
    for (let i = 0; i < m.count; i++) {
      const len = i === m.count - 1 ? m.last : CHUNK;
      const at = i * SEALED;
      const c = nc.createCipheriv(k.alg, k.key, nonceOf(k.base, m.first + i, k.nonce), { authTagLength: TAG });
      const ct = c.update(u.subarray(at, at + len));
      c.final();
      o.set(ct, at);
      o.set(c.getAuthTag(), at + len);
    }
    return o;
  }
  const outs = [];
  for (let i = 0; i < m.count; i++) {
    const len = i === m.count - 1 ? m.last : CHUNK;
    outs.push(crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonceOf(k.base, m.first + i, new Uint8Array(12)), tagLength: 128 }, k.ck, u.subarray(i * SEALED, i * SEALED + len)));
  }
  const done = await Promise.all(outs);
  done.forEach((b, i) => o.set(new Uint8Array(b), i * SEALED));
  return o;
}
async function open(k, m) {
  const u = new Uint8Array(m.buf);
  const o = m.fresh ? alloc((m.count - 1) * CHUNK + m.last - TAG) : u;
  if (useNode) {
    for (let i = 0; i < m.count; i++) {
      const len = i === m.count - 1 ? m.last : SEALED;
      const at = i * SEALED;
      const d = nc.createDecipheriv(k.alg, k.key, nonceOf(k.base, m.first + i, k.nonce), { authTagLength: TAG });
      d.setAuthTag(u.subarray(at + len - TAG, at + len));
      const pt = d.update(u.subarray(at, at + len - TAG));
      try { d.final(); } catch (e) { pt.fill(0); o.fill(0); u.fill(0); return i; }
      o.set(pt, i * CHUNK); // in place, never reaches a later chunk's bytes: i × 16384 + 16384 ≤ (i + 1) × 16400
      pt.fill(0);
    }
    return o;
  }
  const outs = [];
  for (let i = 0; i < m.count; i++) {
    const len = i === m.count - 1 ? m.last : SEALED;
    outs.push(crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonceOf(k.base, m.first + i, new Uint8Array(12)), tagLength: 128 }, k.ck, u.subarray(i * SEALED, i * SEALED + len)).then((b) => new Uint8Array(b), () => undefined));
  }
  const done = await Promise.all(outs);
  const bad = done.findIndex((p) => p === undefined);
  if (bad >= 0) {
    for (const p of done) if (p) p.fill(0);
    u.fill(0);
    return bad;
  }
  done.forEach((p, i) => { o.set(p, i * CHUNK); p.fill(0); });
  return o;
}
async function handle(m) {
  if (m.op === 'key') {
    const raw = new Uint8Array(m.key);
    try { keys.set(m.s, importKey(raw)); } finally { if (useNode) raw.fill(0); }
    if (!useNode) keys.get(m.s).finally(() => raw.fill(0)).catch(() => undefined);
    return;
  }
  if (m.op === 'drop') {
    const k = keys.get(m.s);
    keys.delete(m.s);
    if (k) k.then(wipeKey, () => undefined);
    return;
  }
  if (m.op === 'stats') { post({ j: m.j, ok: true, keys: keys.size }); return; }
  try {
    checkJob(m);
    const kp = keys.get(m.s);
    if (!kp) throw new Error('no key for this message');
    const k = await kp;
    if (keys.get(m.s) !== kp) throw new Error('the message was closed');
    const r = m.op === 'seal' ? await seal(k, m) : await open(k, m);
    if (typeof r === 'number') post({ j: m.j, ok: false, auth: true, chunk: m.first + r });
    else if (r.buffer === m.buf) post({ j: m.j, ok: true, buf: r.buffer }, [r.buffer]);
    else post({ j: m.j, ok: true, buf: r.buffer, spare: m.buf }, [r.buffer, m.buf]); // the caller wipes spares it drops
  } catch (e) {
    if (m.buf instanceof ArrayBuffer && m.buf.byteLength > 0) new Uint8Array(m.buf).fill(0);
    post({ j: m.j, ok: false, message: String(e && e.message).slice(0, 200) });
  }
}
if (port) port.on('message', handle); else self.onmessage = (e) => { handle(e.data); };
post({ ready: true });
`;
