/**
 * The wasm backend where WebAssembly is refused (as under a Content-Security-Policy without
 * 'wasm-unsafe-eval'), and the runtime default: WebCrypto wherever it exists, so a refusal never
 * breaks it; the WASM core only where neither node:crypto nor crypto.subtle exists.
 * Its own file: the compiled module is cached per module graph, and these tests need it absent.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { getBackend } from '../src/backends/select.js';
import { ready, wasmSync } from '../src/backends/wasm.js';
import { aesKey, decrypt, encrypt } from '../src/index.js';
import { expectCode, toHex } from './helpers.js';

const realInstantiate = WebAssembly.instantiate;

afterEach(() => {
  WebAssembly.instantiate = realInstantiate;
  vi.unstubAllGlobals();
});

/** What a browser's CSP does: compilation throws (Chromium: CompileError; others: EvalError). */
function refuseWasm(): void {
  const refuse = (): Promise<never> =>
    Promise.reject(new WebAssembly.CompileError("WebAssembly.instantiate(): Refused to compile or instantiate WebAssembly module because 'unsafe-eval' is not an allowed source of script"));
  WebAssembly.instantiate = refuse as unknown as typeof WebAssembly.instantiate;
}

it('a refused module is ERR_UNSUPPORTED for ready(), the sync API and every backend operation', async () => {
  refuseWasm();
  await expectCode(ready(), 'ERR_UNSUPPORTED');
  await expectCode(getBackend('wasm').aesGcm(new Uint8Array(32)), 'ERR_UNSUPPORTED');
  await expectCode(getBackend('wasm').aesBlock(new Uint8Array(32)), 'ERR_UNSUPPORTED');
  await expectCode(getBackend('wasm').aesCtr(new Uint8Array(32), new Uint8Array(16), new Uint8Array(1)), 'ERR_UNSUPPORTED');
  const key = aesKey({ id: 'k', key: new Uint8Array(32) });
  await expectCode(encrypt(new Uint8Array(1), { recipients: [key], backend: 'wasm' }), 'ERR_UNSUPPORTED');
  expect(() => wasmSync().gcmSeal(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0))).toThrow(/ready/);
  // The default (node:crypto here) is not affected.
  const sealed = await encrypt(Uint8Array.of(7), { recipients: [key] });
  expect(Array.from(await decrypt(sealed, { keys: [key] }))).toEqual([7]);
});

it('a refusal is not cached: once WebAssembly is allowed, the core compiles', async () => {
  refuseWasm();
  await expectCode(ready(), 'ERR_UNSUPPORTED');
  WebAssembly.instantiate = realInstantiate;
  await ready();
  expect(toHex(wasmSync().gcmSeal(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0)))).toBe('530f8afbc74536b9a963b4f1c4cb738b');
});

it('default backend: WebCrypto without node:crypto, the WASM core without crypto.subtle either', () => {
  const proc = globalThis.process as { getBuiltinModule?: unknown };
  const saved = proc.getBuiltinModule;
  try {
    proc.getBuiltinModule = undefined; // a runtime without node:crypto
    expect(getBackend().name).toBe('webcrypto');
    const rng = { getRandomValues: <T extends ArrayBufferView>(a: T): T => globalThis.crypto.getRandomValues(a as never) };
    vi.stubGlobal('crypto', rng); // a page over plain http://: getRandomValues, no subtle
    expect(getBackend().name).toBe('wasm');
    expect(getBackend().randomBytes(16)).toHaveLength(16);
  } finally {
    proc.getBuiltinModule = saved;
  }
  vi.unstubAllGlobals();
  expect(getBackend().name).toBe('node');
});

it("'auto' (the default) follows the measured order per runtime: node:crypto in Node and Bun, WebCrypto in Deno and browsers", async () => {
  const { AUTO_ORDER, detectRuntime } = await import('../src/backends/auto-order.js');
  expect(detectRuntime()).toBe('node');
  expect(getBackend('auto')).toBe(getBackend());
  expect(getBackend('auto').name).toBe(AUTO_ORDER.node[0]);
  vi.stubGlobal('Bun', { version: 'x' });
  expect(detectRuntime()).toBe('bun');
  expect(getBackend().name).toBe('node');
  vi.unstubAllGlobals();
  vi.stubGlobal('Deno', { version: {} });
  expect(detectRuntime()).toBe('deno');
  expect(getBackend().name).toBe('webcrypto'); // Deno's WebCrypto beats its node:crypto layer
  vi.unstubAllGlobals();
  // A browser: no process.versions.node. WebCrypto, even where the WASM core is refused.
  const versions = globalThis.process.versions as { node?: string };
  const node = versions.node;
  try {
    Object.defineProperty(versions, 'node', { value: undefined, configurable: true });
    expect(detectRuntime()).toBe('browser');
    refuseWasm();
    expect(getBackend().name).toBe('webcrypto');
    const key = aesKey({ id: 'k', key: new Uint8Array(32).fill(1) });
    const sealed = await encrypt(Uint8Array.of(1, 2, 3), { recipients: [key] });
    expect(Array.from(await decrypt(sealed, { keys: [key], backend: 'auto' }))).toEqual([1, 2, 3]);
  } finally {
    Object.defineProperty(versions, 'node', { value: node, configurable: true, writable: true, enumerable: true });
  }
  expect(detectRuntime()).toBe('node');
  expect(() => getBackend('fast' as 'auto')).toThrow(TypeError);
});
