/**
 * The shared KMS transport: endpoint policy (https, loopback http only when allowed), backoff
 * and deadline arithmetic, no retry on final answers, redirects refused, bounded responses,
 * option checks, and message redaction. Uses an injected fetch (no network).
 */
import { describe, expect, it } from 'vitest';
import { checkEndpoint, createTransport, MAX_RESPONSE_BYTES, type HttpRequest } from '../src/kms/http.js';
import { redact } from '../src/kms/redact.js';
import { EnsealError } from '../src/errors.js';
import { expectCode } from './helpers.js';

const req: HttpRequest = { method: 'POST', url: new URL('https://kms.example.com/'), headers: {}, body: '{}' };
const build = async (): Promise<HttpRequest> => req;

function scripted(responses: (() => Response | Promise<Response>)[]) {
  let i = 0;
  const seen: RequestInit[] = [];
  const fetch = (async (_url: URL, init: RequestInit) => {
    seen.push(init);
    const r = responses[Math.min(i++, responses.length - 1)]!;
    return r();
  }) as unknown as typeof globalThis.fetch;
  return { fetch, seen, count: () => i };
}

describe('endpoint policy', () => {
  it('https always; http only for loopback hosts with allowInsecureHttp', () => {
    expect(checkEndpoint('https://kms.example.com', false, '"e"').host).toBe('kms.example.com');
    for (const ok of ['http://127.0.0.1:1', 'http://127.9.8.7', 'http://localhost:8200', 'http://[::1]:80']) {
      expect(checkEndpoint(ok, true, '"e"').protocol).toBe('http:');
      expect(() => checkEndpoint(ok, false, '"e"')).toThrow(TypeError);
      expect(() => checkEndpoint(ok, undefined, '"e"')).toThrow(TypeError);
    }
    for (const bad of ['http://127.0.0.1.example.com', 'http://10.0.0.1', 'http://localhost.evil', 'file:///etc/passwd', 'not a url', 'https://u:p@kms.example.com']) {
      expect(() => checkEndpoint(bad, true, '"e"')).toThrow(TypeError);
    }
    expect(() => checkEndpoint(42, true, '"e"')).toThrow(TypeError);
  });
});

describe('transport', () => {
  it('backoff: full jitter, doubling from backoffBaseMs, capped at backoffMaxMs', async () => {
    const f = scripted([() => new Response('busy', { status: 503 })]);
    const delays: number[] = [];
    const t = createTransport({ fetch: f.fetch, retries: 4, backoffBaseMs: 100, backoffMaxMs: 250, random: () => 0.5, sleep: async (ms) => void delays.push(ms) });
    const err = await expectCode(t.call('Op', build, (r) => (r.status === 503 ? { retry: `HTTP ${r.status}` } : { ok: 1 })), 'ERR_KMS_UNAVAILABLE');
    expect(err.message).toBe('Op: unavailable after 5 attempt(s) (HTTP 503)');
    expect(delays).toEqual([50, 100, 125, 125]);
    expect(f.count()).toBe(5);
    expect(f.seen.every((i) => i.redirect === 'manual' && i.signal instanceof AbortSignal)).toBe(true);
  });

  it('a final error or a result is returned at once, without retry', async () => {
    const f = scripted([() => new Response('{}', { status: 403 })]);
    const t = createTransport({ fetch: f.fetch, sleep: async () => undefined });
    const denied = new EnsealError('ERR_KMS_DENIED', 'denied');
    await expect(t.call('Op', build, () => ({ error: denied }))).rejects.toBe(denied);
    expect(f.count()).toBe(1);
    expect(await t.call('Op', build, (r) => ({ ok: r.status }))).toBe(403);
  });

  it('redirects are not followed', async () => {
    const f = scripted([() => new Response(null, { status: 307, headers: { location: 'https://elsewhere.example/' } })]);
    const t = createTransport({ fetch: f.fetch });
    const err = await expectCode(t.call('Op', build, () => ({ ok: 1 })), 'ERR_KMS_UNAVAILABLE');
    expect(err.message).toMatch(/unexpected redirect \(HTTP 307\)/);
    expect(f.count()).toBe(1);
  });

  it('responses are bounded', async () => {
    const big = new Uint8Array(MAX_RESPONSE_BYTES + 1);
    const f = scripted([() => new Response(big, { status: 200 })]);
    const err = await expectCode(createTransport({ fetch: f.fetch }).call('Op', build, () => ({ ok: 1 })), 'ERR_KMS_UNAVAILABLE');
    expect(err.message).toMatch(/larger than 1048576 bytes/);
  });

  it('network errors are retried and summarised by code only', async () => {
    const f = scripted([
      () => {
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET', message: 'socket hang up, Authorization: secret' } });
      },
      () => new Response('{"v":1}', { status: 200 }),
    ]);
    const t = createTransport({ fetch: f.fetch, sleep: async () => undefined });
    expect(await t.call('Op', build, (r) => ({ ok: JSON.parse(r.body).v }))).toBe(1);
    const g = scripted([
      () => {
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND', message: 'Authorization: secret' } });
      },
    ]);
    const err = await expectCode(createTransport({ fetch: g.fetch, retries: 0 }).call('Op', build, () => ({ ok: 1 })), 'ERR_KMS_UNAVAILABLE');
    expect(err.message).toBe('Op: unavailable after 1 attempt(s) (network error ENOTFOUND)');
    expect(err.cause).toBeUndefined();
  });

  it('option checks', () => {
    expect(() => createTransport({ timeoutMs: 0 })).toThrow(RangeError);
    expect(() => createTransport({ retries: 1.5 })).toThrow(RangeError);
    expect(() => createTransport({ retries: 11 })).toThrow(RangeError);
    expect(() => createTransport({ deadlineMs: Number.NaN })).toThrow(RangeError);
    expect(() => createTransport({ sleep: 5 as never })).toThrow(TypeError);
    expect(() => createTransport({ fetch: 'x' as never })).toThrow(TypeError);
    expect(typeof createTransport().now()).toBe('number');
  });
});

describe('redact', () => {
  it('removes known secrets, long base64/hex runs and control characters; bounds the length', () => {
    expect(redact('token hvs.ABC is bad', ['hvs.ABC'])).toBe('token [redacted] is bad');
    expect(redact(`key ${'ab12'.repeat(8)} / ${Buffer.alloc(32, 7).toString('base64')} end`)).toBe('key […] / […] end');
    expect(redact('InvalidCiphertextException\n\tmore')).toBe('InvalidCiphertextException more');
    expect(redact('x'.repeat(500))).toHaveLength(201);
    expect(redact(undefined)).toBe('');
    expect(redact({ message: 'x' })).toBe('');
    // A secret far into a long message is still removed (redaction happens before the cut).
    const long = `${`${'0f'.repeat(20)} `.repeat(40)}tok-SECRET-value`;
    expect(redact(long, ['tok-SECRET-value'])).not.toMatch(/SECRET|tok-S/);
    expect(redact(long, ['tok-SECRET-value'])).toContain('[redacted]');
  });
});
