/**
 * What `backend: 'auto'` (the default) picks, per runtime: the backends in order of measured
 * AES-256-GCM throughput on 16 KiB chunks (the unit of every enseal payload), from
 * `node bench/backends.mjs` (Node, Bun, Deno and headless Chromium on the same machine; the
 * README's choice table). The first one available in the runtime is used.
 *
 * - Node and Bun: node:crypto (AES-NI) is faster than their WebCrypto (1.1–9× in our runs) and
 *   than the WASM core (6–16×).
 * - Deno: its WebCrypto beats its node:crypto compatibility layer by about 2× (up to 7×) on chunks.
 * - Browsers and workers: WebCrypto; the WASM core only where `crypto.subtle` is missing (pages
 *   over plain `http://`). A CSP that refuses WebAssembly therefore never breaks the default
 *   where WebCrypto exists.
 *
 * The WASM core wins none of these on throughput (no AES-NI from WebAssembly); it is the
 * constant-time fallback, and the only backend with a synchronous API.
 *
 * Small one-shot messages are measured too (1 KiB `encrypt` + `decrypt` per second; two runs on
 * the shared 2-core build VM, after the WASM speed-ups of issue 9): in Node node:crypto and wasm
 * are level (4773 / 4581 vs 3826 / 4757; WebCrypto 339 / 510), node:crypto leads in Bun (10101 /
 * 11135 vs wasm 6232 / 5609), wasm and WebCrypto are level in Chromium (4054 / 4011 vs 4032 /
 * 3958), and only in Deno does the WASM core clearly win (5627 / 4640 vs WebCrypto 901 / 831,
 * about 0.2 ms against 1.1 ms per message, which makes several WebCrypto calls: HKDF, key wrap,
 * GCM). With the same runs' chunk throughput in Deno (WebCrypto 342 / 302 MB/s, wasm 121 / 112)
 * a linear estimate puts the crossover near 85–90 KB. The order stays one list per runtime,
 * whatever the size: a size-aware `'auto'` would help only Deno's small one-shot messages, would
 * make the backend depend on each call's length, and would need the WASM core compiled first;
 * Deno callers with many small messages can pass `backend: 'wasm'`.
 *
 * @module
 */
import type { BackendName } from './backend.js';

/** The runtimes the choice table distinguishes (`'browser'`: browsers, workers, anything else). */
export type RuntimeName = 'node' | 'bun' | 'deno' | 'browser';

/** Backends per runtime, fastest first (bench/backends.mjs). */
export const AUTO_ORDER: Readonly<Record<RuntimeName, readonly BackendName[]>> = Object.freeze({
  node: Object.freeze(['node', 'webcrypto', 'wasm'] as const),
  bun: Object.freeze(['node', 'webcrypto', 'wasm'] as const),
  deno: Object.freeze(['webcrypto', 'node', 'wasm'] as const),
  browser: Object.freeze(['webcrypto', 'wasm', 'node'] as const),
});

/**
 * The runtime this code runs in.
 * @returns `'deno'`, `'bun'`, `'node'` or `'browser'` (browsers, workers and the rest)
 * @example
 * ```ts
 * AUTO_ORDER[detectRuntime()][0]; // the backend 'auto' tries first
 * ```
 */
export function detectRuntime(): RuntimeName {
  const g = globalThis as { Deno?: unknown; Bun?: unknown; process?: { versions?: { node?: unknown } } };
  if (typeof g.Deno === 'object' && g.Deno !== null) return 'deno';
  if (typeof g.Bun === 'object' && g.Bun !== null) return 'bun';
  if (typeof g.process?.versions?.node === 'string') return 'node';
  return 'browser';
}
