// Every contender of the peer benchmark, configured as bench/peers/README.md describes.
//
// A contender is { id, label, api, stream?, msg?, na?, close? }:
//   stream.enc(source, sink)  encrypts an iterable of 64 KiB plaintext pieces, output to sink(piece)
//   stream.dec(ct, sink)      decrypts its own stream output (a Buffer), plaintext to sink(piece)
//   msg.enc(pt) / msg.dec(ct) one whole message in memory (sync when msg.sync)
//   na                        the row is not available, and why (printed instead of numbers)
//   close()                   releases what the contender holds (a worker pool) at the end
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { nodeReadableFrom, nodeSink, piecesOf, readableFrom, webSink } from './io.mjs';

export const CHUNK = 16384; // the raw loops' chunk (enseal's chunk size)
const TAG = 16;
const IN_FLIGHT = 64; // WebCrypto calls kept in flight (as enseal's webcrypto backend pipelines)

/** 12-byte nonce: base XOR big-endian chunk counter in the last 4 bytes (counter < 2^32 here). */
function counterNonces(base) {
  return (i) => {
    const n = Buffer.from(base);
    n.writeUInt32BE((n.readUInt32BE(8) ^ i) >>> 0, 8);
    return n;
  };
}

/** The same 16 KiB-chunk loop for any synchronous AES-256-GCM `seal(nonce, chunk) -> ct||tag`. */
function chunkLoop(seal, open) {
  const nonce = counterNonces(randomBytes(12));
  return {
    enc(source, sink) {
      let i = 0;
      for (const p of source) for (let o = 0; o < p.length; o += CHUNK) sink(seal(nonce(i++), p.subarray(o, o + CHUNK)));
    },
    dec(ct, sink) {
      let i = 0;
      for (let o = 0; o < ct.length; o += CHUNK + TAG) sink(open(nonce(i++), ct.subarray(o, o + CHUNK + TAG)));
    },
  };
}

// --- references --------------------------------------------------------------------------------

async function nodeRaw() {
  const key = randomBytes(32);
  const sealPieces = (iv, pt, sink) => {
    const c = createCipheriv('aes-256-gcm', key, iv);
    sink(c.update(pt));
    c.final();
    sink(c.getAuthTag());
  };
  const open = (iv, ct) => {
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAuthTag(ct.subarray(ct.length - TAG));
    const pt = d.update(ct.subarray(0, ct.length - TAG));
    d.final(); // verified before the plaintext is handed on
    return pt;
  };
  const nonce = counterNonces(randomBytes(12));
  return {
    label: 'node:crypto AES-256-GCM, raw loop (reference)',
    api: '16 KiB chunk loop; message: one GCM call',
    stream: {
      // node:crypto's output buffers are passed on as they come ("pieces", as bench/run.mjs).
      enc(source, sink) {
        let i = 0;
        for (const p of source) for (let o = 0; o < p.length; o += CHUNK) sealPieces(nonce(i++), p.subarray(o, o + CHUNK), sink);
      },
      dec(ct, sink) {
        let i = 0;
        for (let o = 0; o < ct.length; o += CHUNK + TAG) sink(open(nonce(i++), ct.subarray(o, o + CHUNK + TAG)));
      },
    },
    msg: {
      sync: true,
      enc(pt) {
        const iv = randomBytes(12);
        const c = createCipheriv('aes-256-gcm', key, iv);
        const ct = c.update(pt);
        c.final();
        return Buffer.concat([iv, ct, c.getAuthTag()]);
      },
      dec: (m) => open(m.subarray(0, 12), m.subarray(12)),
    },
  };
}

async function webCrypto() {
  const subtle = globalThis.crypto.subtle;
  const key = await subtle.importKey('raw', crypto.getRandomValues(new Uint8Array(32)), 'AES-GCM', false, ['encrypt', 'decrypt']);
  const nonce = counterNonces(randomBytes(12));
  /** Runs `call(i, chunk)` over the chunks with IN_FLIGHT outstanding, results to sink in order. */
  async function windowed(chunks, call, sink) {
    const q = [];
    let i = 0;
    for (const c of chunks) {
      q.push(call(i++, c));
      if (q.length >= IN_FLIGHT) sink(new Uint8Array(await q.shift()));
    }
    while (q.length > 0) sink(new Uint8Array(await q.shift()));
  }
  function* split(source) {
    for (const p of source) for (let o = 0; o < p.length; o += CHUNK) yield p.subarray(o, o + CHUNK);
  }
  return {
    label: 'WebCrypto AES-256-GCM, raw loop (reference)',
    api: `16 KiB chunk loop, ${IN_FLIGHT} calls in flight; message: one call`,
    stream: {
      enc: (source, sink) => windowed(split(source), (i, c) => subtle.encrypt({ name: 'AES-GCM', iv: nonce(i) }, key, c), sink),
      dec: (ct, sink) => windowed(piecesOf(ct, CHUNK + TAG), (i, c) => subtle.decrypt({ name: 'AES-GCM', iv: nonce(i) }, key, c), sink),
    },
    msg: {
      async enc(pt) {
        const iv = crypto.getRandomValues(new Uint8Array(12));
        return Buffer.concat([iv, new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv }, key, pt))]);
      },
      dec: async (m) => new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: m.subarray(0, 12) }, key, m.subarray(12))),
    },
  };
}

// --- enseal (the repo's built dist/) --------------------------------------------------------------

const distUrl = new URL('../../dist/', import.meta.url);
let ensealModules;
async function enseal() {
  try {
    ensealModules ??= { core: await import(new URL('index.js', distUrl)), node: await import(new URL('node.js', distUrl)) };
  } catch (e) {
    throw new Error(`cannot load enseal from ${fileURLToPath(distUrl)} (run \`npm run build\` first): ${e.message}`);
  }
  return ensealModules;
}

/** Backends enseal supports in this runtime (`availableBackends()`). */
export async function ensealBackends() {
  return (await enseal()).core.availableBackends();
}

/**
 * Feature detection of the worker pool (issue 10 item 2): the `workers` option exists when an
 * invalid value is rejected as API misuse (TypeError/RangeError naming it); an option the library
 * does not know is silently ignored. Never assumed from the version number.
 */
export async function workersSupported() {
  const { core } = await enseal();
  const key = core.aesKey({ id: 'probe', key: new Uint8Array(32).fill(7) });
  try {
    await core.encrypt(new Uint8Array(1), { recipients: [key], workers: -1 });
    return false;
  } catch (e) {
    if ((e instanceof TypeError || e instanceof RangeError) && /worker/i.test(e.message)) return true;
    throw e;
  }
}

export const WORKERS = availableParallelism();

function ensealOn(backend, { workers } = {}) {
  return async () => {
    const { core } = await enseal();
    const key = core.aesKey({ id: 'bench', key: crypto.getRandomValues(new Uint8Array(32)) });
    // With workers: one pool for the whole run where the build has createPool() (what a
    // long-running service does; a bare thread count starts and stops threads on every call),
    // else the thread count. The pool is closed by close() at the end.
    let pool;
    let how = '';
    if (workers !== undefined) {
      pool = typeof core.createPool === 'function' ? core.createPool({ size: workers }) : undefined;
      how = pool ? `, workers: a shared pool of ${workers} (\`createPool\`)` : `, workers: ${workers}`;
    }
    const extra = workers === undefined ? {} : { workers: pool ?? workers };
    const eo = { recipients: [key], backend, ...extra };
    const dopt = { keys: [key], backend, ...extra };
    return {
      close: async () => pool?.close(),
      label: `enseal, ${backend} backend${how}`,
      api: '`encryptStream`/`decryptStream` (Web); message: `encrypt`/`decrypt`',
      stream: {
        enc: (source, sink) => readableFrom(source).pipeThrough(core.encryptStream(eo)).pipeTo(webSink(sink)),
        dec: (ct, sink) => readableFrom(piecesOf(ct)).pipeThrough(core.decryptStream(dopt)).pipeTo(webSink(sink)),
      },
      msg: { enc: (pt) => core.encrypt(pt, eo), dec: (ct) => core.decrypt(ct, dopt) },
    };
  };
}

function ensealNodeStreams(backend, { workers } = {}) {
  return async () => {
    const { core, node } = await enseal();
    const key = core.aesKey({ id: 'bench', key: crypto.getRandomValues(new Uint8Array(32)) });
    // With workers: one createPool() pool for the whole run, as ensealOn does.
    const pool = workers !== undefined ? core.createPool({ size: workers }) : undefined;
    const extra = pool ? { workers: pool } : {};
    return {
      close: async () => pool?.close(),
      label: `enseal, ${backend} backend, Node streams${pool ? `, workers: a shared pool of ${workers} (\`createPool\`)` : ''}`,
      api: '`createEncryptStream`/`createDecryptStream` (enseal/node) in `pipeline()`',
      stream: {
        enc: (source, sink) => pipeline(nodeReadableFrom(source), node.createEncryptStream({ recipients: [key], backend, ...extra }), nodeSink(sink)),
        dec: (ct, sink) => pipeline(nodeReadableFrom(piecesOf(ct)), node.createDecryptStream({ keys: [key], backend, ...extra }), nodeSink(sink)),
      },
    };
  };
}

// --- peers --------------------------------------------------------------------------------------------

async function awsSdk() {
  const aws = await import('@aws-crypto/client-node');
  // The SDK's default commitment policy, spelled out; the default (committing, signed) suite.
  const { encrypt, decrypt, encryptStream, decryptStream } = aws.buildClient(aws.CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const keyring = new aws.RawAesKeyringNode({
    keyNamespace: 'bench',
    keyName: 'aes-256',
    unencryptedMasterKey: crypto.getRandomValues(new Uint8Array(32)),
    wrappingSuite: aws.RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
  return {
    label: 'AWS Encryption SDK (@aws-crypto/client-node)',
    api: '`encryptStream`/`decryptStream` (Node); message: `encrypt`/`decrypt` (buffer)',
    stream: {
      enc: (source, sink) => pipeline(nodeReadableFrom(source), encryptStream(keyring), nodeSink(sink)),
      dec: (ct, sink) => pipeline(nodeReadableFrom(piecesOf(ct)), decryptStream(keyring), nodeSink(sink)),
    },
    msg: { enc: async (pt) => (await encrypt(keyring, pt)).result, dec: async (ct) => (await decrypt(keyring, ct)).plaintext },
  };
}

async function age() {
  const age = await import('age-encryption');
  const identity = await age.generateIdentity();
  const e = new age.Encrypter();
  e.addRecipient(await age.identityToRecipient(identity));
  const d = new age.Decrypter();
  d.addIdentity(identity);
  return {
    label: 'age (age-encryption, typage)',
    api: '`Encrypter`/`Decrypter` on a ReadableStream; message: on a Uint8Array',
    stream: {
      enc: async (source, sink) => (await e.encrypt(readableFrom(source))).pipeTo(webSink(sink)),
      dec: async (ct, sink) => (await d.decrypt(readableFrom(piecesOf(ct)))).pipeTo(webSink(sink)),
    },
    msg: { enc: (pt) => e.encrypt(pt), dec: (ct) => d.decrypt(ct) },
  };
}

async function noble() {
  const { gcm } = await import('@noble/ciphers/aes.js');
  const key = crypto.getRandomValues(new Uint8Array(32));
  return {
    label: '@noble/ciphers `gcm` (pure JS)',
    api: '16 KiB chunk loop (no stream API); message: one `gcm` call',
    stream: chunkLoop((iv, pt) => gcm(key, iv).encrypt(pt), (iv, ct) => gcm(key, iv).decrypt(ct)),
    msg: {
      sync: true,
      enc(pt) {
        const iv = crypto.getRandomValues(new Uint8Array(12));
        return Buffer.concat([iv, gcm(key, iv).encrypt(pt)]);
      },
      dec: (m) => gcm(key, m.subarray(0, 12)).decrypt(m.subarray(12)),
    },
  };
}

async function transcend() {
  const lib = await import('@transcend-io/encrypt-web-streams');
  // Its init() fetches the .wasm by URL, which Node's fetch cannot do for file: URLs; initialise
  // the same glue module (same URL, so the same instance) from the file's bytes first.
  const glue = new URL('../wasm/aes_gcm_stream_wasm.js', import.meta.resolve('@transcend-io/encrypt-web-streams'));
  const { default: initWasm } = await import(glue);
  await initWasm({ module_or_path: readFileSync(new URL('aes_gcm_stream_wasm_bg.wasm', glue)) });
  await lib.init();
  const key = crypto.getRandomValues(new Uint8Array(32));
  // One GCM message per stream: a fresh random IV each, sent in front of the ciphertext.
  async function enc(source, sink) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    sink(iv);
    await readableFrom(source).pipeThrough(lib.createEncryptionStream(key, iv)).pipeTo(webSink(sink));
  }
  const dec = (ct, sink) => readableFrom(piecesOf(ct.subarray(12))).pipeThrough(lib.createDecryptionStream(key, ct.subarray(0, 12))).pipeTo(webSink(sink));
  const whole = async (run, input) => {
    const parts = [];
    await run(input, (p) => parts.push(p));
    return Buffer.concat(parts);
  };
  return {
    label: '@transcend-io/encrypt-web-streams (Rust aes-gcm in WASM)',
    api: '`createEncryptionStream`/`createDecryptionStream` (Web); message: the same, one write',
    stream: { enc, dec },
    msg: { enc: (pt) => whole(enc, [pt]), dec: (ct) => whole(dec, Buffer.from(ct)) },
  };
}

/**
 * Builds the list of contender factories, in table order.
 * @param backends - enseal backends available here
 * @param pool - whether enseal has the `workers` option
 */
export function registry(backends, pool) {
  const r = [
    ['node-raw', nodeRaw],
    ['webcrypto-raw', webCrypto],
    ...backends.map((b) => [`enseal-${b}`, ensealOn(b)]),
    [`enseal-node-streams`, ensealNodeStreams(backends.includes('node') ? 'node' : backends[0])],
    [
      `enseal-node-streams-workers`,
      pool
        ? ensealNodeStreams(backends.includes('node') ? 'node' : backends[0], { workers: WORKERS })
        : async () => ({ label: 'enseal, Node streams, with workers', na: 'n/a (no worker pool yet)' }),
    ],
    ...backends.map((b) => [
      `enseal-workers-${b}`,
      pool ? ensealOn(b, { workers: WORKERS }) : async () => ({ label: `enseal, ${b} backend, with workers`, na: 'n/a (no worker pool yet)' }),
    ]),
    ['aws-encryption-sdk', awsSdk],
    ['age', age],
    ['noble-gcm', noble],
    ['transcend-web-streams', transcend],
  ];
  return new Map(r);
}
