/**
 * The HTTP transport every cloud KMS client shares: `fetch` with a per-attempt timeout
 * (AbortSignal), bounded retries with exponential backoff and full jitter, and an overall
 * deadline. Only transient failures are retried — network errors, timeouts, HTTP 429 and 5xx,
 * and whatever the client's `judge` calls throttling; a denial (4xx) is returned at once.
 *
 * Safety:
 * - HTTPS only. An `http:` endpoint is refused unless its host is loopback (`localhost`,
 *   `127.0.0.0/8`, `[::1]`) **and** the caller set `allowInsecureHttp: true` (tests, local
 *   emulators). Redirects are never followed (they would carry signed requests or tokens
 *   elsewhere).
 * - Errors carry the operation, attempt count and a reason (a status, a provider error code, a
 *   network error code, a redacted server message), never credentials, tokens, request bodies
 *   or response bodies. Network errors are summarised rather than attached as `cause`.
 * - Responses are read up to {@link MAX_RESPONSE_BYTES}.
 *
 * Requests are rebuilt (so re-signed, with a fresh date and nonce) for every attempt.
 *
 * @module
 */
import { EnsealError } from '../errors.js';

/** Largest response body read, in bytes (KMS responses are a few hundred bytes). */
export const MAX_RESPONSE_BYTES = 1 << 20;

/** Transport options shared by every cloud KMS client. */
export interface KmsHttpOptions {
  /** The `fetch` to use (default: `globalThis.fetch`). */
  fetch?: typeof globalThis.fetch;
  /** Timeout of one attempt, in ms (default 10000). */
  timeoutMs?: number;
  /** Retries after the first attempt, for transient failures only (default 3; 0..10). */
  retries?: number;
  /** Overall deadline of one operation including retries and backoff, in ms (default 30000). */
  deadlineMs?: number;
  /** First backoff step, in ms (default 100); step `n` is up to `backoffBaseMs × 2^n`. */
  backoffBaseMs?: number;
  /** Largest backoff, in ms (default 5000). */
  backoffMaxMs?: number;
  /** Allow an `http:` endpoint on a loopback host (tests and local emulators only). */
  allowInsecureHttp?: boolean;
  /** Clock in ms since the epoch (default `Date.now`); also dates the request signatures. */
  now?: () => number;
  /** Sleep used between attempts (default `setTimeout`); tests inject a recorder. */
  sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1) (default `Math.random`; jitter needs no CSPRNG). */
  random?: () => number;
}

/** One HTTP request, as a client builds it for an attempt. */
export interface HttpRequest {
  readonly method: 'POST' | 'GET';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** A response as the transport hands it to the client's judge. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The body as text (UTF-8), at most {@link MAX_RESPONSE_BYTES}. */
  readonly body: string;
}

/** A client's reading of a response: a result, a transient failure to retry, or a final error. */
export type Verdict<T> = { readonly ok: T } | { readonly retry: string } | { readonly error: EnsealError };

/** The transport a client calls. */
export interface Transport {
  /** The clock (ms since the epoch) requests are signed with. */
  readonly now: () => number;
  /**
   * Runs one KMS operation with retries.
   * @param label - e.g. `AWS KMS Decrypt`, used in error messages
   * @param build - builds (and signs) the request for each attempt
   * @param judge - reads a response
   * @throws EnsealError `ERR_KMS_UNAVAILABLE` after the bounded retries or the deadline; the
   *   judge's own error for a final failure
   */
  call<T>(label: string, build: () => Promise<HttpRequest>, judge: (res: HttpResponse) => Verdict<T> | Promise<Verdict<T>>): Promise<T>;
}

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Parses and checks a KMS endpoint: `https:`, or `http:` on a loopback host with
 * `allowInsecureHttp`.
 *
 * @param endpoint - absolute URL
 * @param allowInsecureHttp - the caller's explicit opt-in for loopback `http:`
 * @param what - option name for messages
 * @returns the parsed URL
 * @throws TypeError for a malformed URL, another scheme, credentials in the URL, or an `http:`
 *   endpoint that is not loopback or not explicitly allowed
 * @example
 * ```ts
 * checkEndpoint('http://127.0.0.1:8200', true, '"address"'); // URL
 * checkEndpoint('http://vault.internal:8200', true, '"address"'); // throws TypeError
 * ```
 */
export function checkEndpoint(endpoint: unknown, allowInsecureHttp: boolean | undefined, what: string): URL {
  if (typeof endpoint !== 'string' && !(endpoint instanceof URL)) throw new TypeError(`${what} expected a URL string`);
  let url: URL;
  try {
    url = new URL(String(endpoint));
  } catch {
    throw new TypeError(`${what} expected an absolute URL`);
  }
  if (url.username !== '' || url.password !== '') throw new TypeError(`${what} must not contain credentials`);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:') {
    if (allowInsecureHttp === true && LOOPBACK.test(url.hostname)) return url;
    throw new TypeError(`${what} must be https: (http: is allowed only for a loopback host with allowInsecureHttp: true), got ${url.origin}`);
  }
  throw new TypeError(`${what} must be an https: URL, got ${url.protocol}`);
}

function numberOption(v: unknown, name: string, def: number, min: number, max: number, integer = false): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new RangeError(`"${name}" expected ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got ${String(v)}`);
  }
  return v;
}

function fnOption<F>(v: unknown, name: string, def: F): F {
  if (v === undefined) return def;
  if (typeof v !== 'function') throw new TypeError(`"${name}" expected a function`);
  return v as F;
}

/** Why a fetch failed, without anything from the request. */
function networkReason(e: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `timed out after ${Math.round(timeoutMs)} ms`;
  const code = (e as { cause?: { code?: unknown } })?.cause?.code ?? (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) ? `network error ${code}` : 'network error';
}

class TooLarge extends Error {}

async function readBounded(res: Response): Promise<string> {
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new TooLarge();
    }
    parts.push(value);
  }
  const all = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return new TextDecoder().decode(all);
}

/**
 * Creates a transport from the client's options.
 *
 * @param opts - transport options (validated here)
 * @returns the transport
 * @throws TypeError/RangeError for invalid options (no `fetch` available, a timeout ≤ 0…)
 * @example
 * ```ts
 * const t = createTransport({ retries: 2 });
 * const out = await t.call('Vault encrypt', async () => req, (res) => res.status === 200 ? { ok: res.body } : { retry: `HTTP ${res.status}` });
 * ```
 */
export function createTransport(opts: KmsHttpOptions = {}): Transport {
  const fetchFn = fnOption<typeof globalThis.fetch | undefined>(opts.fetch, 'fetch', globalThis.fetch?.bind(globalThis));
  if (typeof fetchFn !== 'function') throw new TypeError('"fetch" expected a function (this runtime has no global fetch)');
  const timeoutMs = numberOption(opts.timeoutMs, 'timeoutMs', 10_000, 1, 600_000);
  const retries = numberOption(opts.retries, 'retries', 3, 0, 10, true);
  const deadlineMs = numberOption(opts.deadlineMs, 'deadlineMs', 30_000, 1, 3_600_000);
  const baseMs = numberOption(opts.backoffBaseMs, 'backoffBaseMs', 100, 0, 60_000);
  const maxMs = numberOption(opts.backoffMaxMs, 'backoffMaxMs', 5_000, 0, 600_000);
  const now = fnOption(opts.now, 'now', Date.now);
  const sleep = fnOption(opts.sleep, 'sleep', (ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = fnOption(opts.random, 'random', Math.random);

  return {
    now,
    async call<T>(label: string, build: () => Promise<HttpRequest>, judge: (res: HttpResponse) => Verdict<T> | Promise<Verdict<T>>): Promise<T> {
      const deadline = now() + deadlineMs;
      let reason = 'deadline reached before the first attempt';
      let attempts = 0;
      for (let attempt = 0; attempt <= retries; attempt++) {
        const remaining = deadline - now();
        if (remaining <= 0) break;
        const req = await build();
        attempts++;
        const limit = Math.min(timeoutMs, remaining);
        const ac = new AbortController();
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          ac.abort();
        }, limit);
        let res: HttpResponse | undefined;
        try {
          const r = await fetchFn(req.url, { method: req.method, headers: req.headers, body: req.body, signal: ac.signal, redirect: 'manual' });
          res = { status: r.status, headers: r.headers, body: await readBounded(r) };
        } catch (e) {
          if (e instanceof TooLarge) throw new EnsealError('ERR_KMS_UNAVAILABLE', `${label}: response larger than ${MAX_RESPONSE_BYTES} bytes`);
          reason = networkReason(e, timedOut, limit);
        } finally {
          clearTimeout(timer);
        }
        if (res !== undefined) {
          if (res.status === 0 || (res.status >= 300 && res.status < 400)) {
            throw new EnsealError('ERR_KMS_UNAVAILABLE', `${label}: unexpected redirect (HTTP ${res.status}); redirects are not followed`);
          }
          const v = await judge(res);
          if ('ok' in v) return v.ok;
          if ('error' in v) throw v.error;
          reason = v.retry;
        }
        if (attempt === retries) break;
        const delay = random() * Math.min(maxMs, baseMs * 2 ** attempt);
        if (now() + delay >= deadline) {
          reason += '; deadline reached';
          break;
        }
        await sleep(delay);
      }
      throw new EnsealError('ERR_KMS_UNAVAILABLE', `${label}: unavailable after ${attempts} attempt(s) (${reason})`);
    },
  };
}

/**
 * Whether an HTTP status is transient (retried): 429 and every 5xx.
 * @param status - HTTP status code
 * @returns true for 429 and 500..599
 * @example
 * ```ts
 * isTransientStatus(503); // true
 * isTransientStatus(403); // false
 * ```
 */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Parses a KMS response body that should be a JSON object.
 * @param text - the body
 * @returns the object, or `undefined` for anything else (invalid JSON, an array, a scalar)
 */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
