/**
 * The source of the KDF worker thread, as a string run with `new Worker(source, { eval: true })`.
 * A string rather than a file: it needs no bundler configuration, works the same from `src/`
 * (tests) and from `dist/`, and cannot be left out of a build. It is plain JavaScript
 * (CommonJS, as Node runs `eval` workers), kept small, and exercised by the known-answer tests
 * through `deriveKey`.
 *
 * Protocol (one job per worker; `kdf-thread.ts` terminates the worker after the reply):
 *
 * ```
 * parent → worker  { hashWasm: <path of hash-wasm's CommonJS entry>, params, password: ArrayBuffer,
 *                    salt: ArrayBuffer, length }         (both buffers transferred, not copied)
 * worker → parent  { type: 'unavailable', message }      hash-wasm could not be loaded: the parent
 *                                                        runs the KDF on its own thread instead
 *                  { type: 'started' }                   hash-wasm loaded; the derivation begins
 *                  { type: 'key', key: ArrayBuffer }     the derived key (transferred)
 *                  { type: 'error', name, message }      the KDF refused its parameters
 * ```
 *
 * The worker wipes its copies of the password and salt, and hash-wasm's output, before it
 * replies; the WebAssembly memory (which held the KDF's state) goes away with the thread.
 *
 * @module
 */

/** JavaScript source of the KDF worker (see the module comment for its protocol). */
export const KDF_WORKER_SOURCE = String.raw`'use strict';
const builtin = (id) => (typeof require === 'function' ? require(id) : process.getBuiltinModule(id));
const { parentPort } = builtin('node:worker_threads');
parentPort.once('message', async (job) => {
  const password = new Uint8Array(job.password);
  const salt = new Uint8Array(job.salt);
  try {
    let hw;
    try {
      const load = typeof require === 'function' ? require : builtin('node:module').createRequire(job.hashWasm);
      hw = load(job.hashWasm);
      if (typeof hw.argon2id !== 'function') throw new Error('hash-wasm has no argon2id');
    } catch (e) {
      parentPort.postMessage({ type: 'unavailable', message: String(e && e.message) });
      return;
    }
    parentPort.postMessage({ type: 'started' });
    const p = job.params;
    let out;
    try {
      if (p.kdf === 'argon2id') {
        out = await hw.argon2id({ password, salt, memorySize: p.memoryKiB, iterations: p.iterations, parallelism: p.parallelism, hashLength: job.length, outputType: 'binary' });
      } else if (p.kdf === 'scrypt') {
        out = await hw.scrypt({ password, salt, costFactor: p.N, blockSize: p.r, parallelism: p.p, hashLength: job.length, outputType: 'binary' });
      } else if (p.kdf === 'pbkdf2-sha256') {
        out = await hw.pbkdf2({ password, salt, iterations: p.iterations, hashLength: job.length, hashFunction: hw.createSHA256(), outputType: 'binary' });
      } else {
        throw new TypeError('unknown kdf');
      }
    } catch (e) {
      parentPort.postMessage({ type: 'error', name: e && e.name, message: String(e && e.message) });
      return;
    }
    const key = new Uint8Array(new ArrayBuffer(out.length));
    key.set(out);
    out.fill(0);
    parentPort.postMessage({ type: 'key', key: key.buffer }, [key.buffer]);
  } finally {
    password.fill(0);
    salt.fill(0);
  }
});
`;
