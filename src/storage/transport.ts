/**
 * The in-transit rule of every HTTP adapter (`s3`, `oss`, `fetch`; issue 7 item 6): requests go
 * over HTTPS. A plain `http:` URL is refused with `ERR_INSECURE_TRANSPORT` unless its host is
 * loopback (`localhost`, `127.0.0.0/8`, `[::1]`) **and** the caller passed
 * `allowInsecureHttp: true` — meant for tests and local emulators. The check is made on the URL
 * a request is about to use, before anything is sent.
 *
 * @module
 */
import { escapeControl } from '../bytes.js';
import { EnsealError } from '../errors.js';

const IPV4_LOOPBACK = /^127\.(?:25[0-5]|2[0-4]\d|1?\d?\d)\.(?:25[0-5]|2[0-4]\d|1?\d?\d)\.(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/**
 * Whether a URL host name is loopback. The WHATWG URL parser has already normalised it
 * (`127.1` → `127.0.0.1`, IPv6 in brackets, lower case).
 *
 * @param hostname - `URL.hostname` (IPv6 with or without brackets)
 * @returns true for `localhost`, `127.0.0.0/8` and `::1`
 * @example
 * ```ts
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('10.0.0.1'); // false
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h === '[::1]' || h === '::1' || IPV4_LOOPBACK.test(h);
}

/**
 * Checks the URL a request is about to use.
 *
 * @param url - absolute URL (string or `URL`)
 * @param allowInsecureHttp - the caller's explicit opt-in for loopback `http:`
 * @param what - what the URL is for, in messages (e.g. `s3 endpoint`)
 * @returns the parsed URL (whole: path, query and port kept)
 * @throws TypeError for a malformed URL, credentials in it, or a scheme other than http/https
 * @throws EnsealError `ERR_INSECURE_TRANSPORT` for `http:` unless loopback and allowed
 * @example
 * ```ts
 * checkTransport('https://b.oss-cn-hangzhou.aliyuncs.com', false, 'oss endpoint'); // URL
 * checkTransport('http://127.0.0.1:9000', true, 's3 endpoint'); // URL
 * checkTransport('http://minio.lan:9000', true, 's3 endpoint'); // throws ERR_INSECURE_TRANSPORT
 * ```
 */
export function checkTransport(url: string | URL, allowInsecureHttp: boolean | undefined, what: string): URL {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    throw new TypeError(`${what} expected an absolute URL`);
  }
  if (u.username !== '' || u.password !== '') throw new TypeError(`${what} must not contain credentials`);
  checkProtocol(u.protocol, u.hostname, allowInsecureHttp, what);
  return u;
}

/**
 * The same rule for an already split request (SDK middleware sees protocol and host apart).
 *
 * @param protocol - `https:` or `http:` (a trailing colon is optional)
 * @param hostname - the host the request goes to
 * @param allowInsecureHttp - the caller's opt-in
 * @param what - what the request is for, in messages
 * @returns a URL of `protocol//hostname`
 * @throws TypeError for another scheme
 * @throws EnsealError `ERR_INSECURE_TRANSPORT` for `http:` unless loopback and allowed
 * @example
 * ```ts
 * checkProtocol('https', 's3.amazonaws.com', false, 's3 request'); // URL
 * ```
 */
export function checkProtocol(protocol: string, hostname: string, allowInsecureHttp: boolean | undefined, what: string): URL {
  const p = protocol.toLowerCase().replace(/:?$/, ':');
  const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
  if (p === 'https:') return new URL(`https://${host}`);
  if (p !== 'http:') throw new TypeError(`${what} must use https:, got ${escapeControl(p, 20)}`);
  if (allowInsecureHttp === true && isLoopbackHost(host)) return new URL(`http://${host}`);
  const why = isLoopbackHost(host) ? 'pass allowInsecureHttp: true to allow http: on loopback' : 'http: is allowed only to a loopback host with allowInsecureHttp: true';
  throw new EnsealError('ERR_INSECURE_TRANSPORT', `${what} refused: plain http://${escapeControl(host, 100)} (${why})`);
}
