/**
 * AWS Signature Version 4 (the "Create a signed AWS API request" procedure of the AWS IAM user
 * guide), on a backend's HMAC-SHA-256 and SHA-256, so no AWS SDK is needed and every backend
 * signs the same way. Checked against AWS's published test suite (`test/vectors/sigv4.json`).
 *
 * ```
 * CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n
 *                    SignedHeaders \n hex(SHA-256(body))
 *   CanonicalURI     each path segment decoded, then RFC 3986-encoded once ("/" if empty)
 *   CanonicalQuery   name=value pairs RFC 3986-encoded, sorted by name then value, joined by &
 *   CanonicalHeaders lowercase name ":" trimmed value (inner runs of spaces collapsed) \n,
 *                    sorted by name; always host and x-amz-date (+ x-amz-security-token)
 *   SignedHeaders    the lowercase names, sorted, joined by ;
 * StringToSign     = "AWS4-HMAC-SHA256" \n YYYYMMDDTHHMMSSZ \n Scope \n hex(SHA-256(CanonicalRequest))
 *   Scope            YYYYMMDD/region/service/aws4_request
 * SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" || secret, YYYYMMDD), region), service), "aws4_request")
 * Signature        = hex(HMAC(SigningKey, StringToSign))
 * Authorization    = "AWS4-HMAC-SHA256 Credential=" AccessKeyId "/" Scope ", SignedHeaders="
 *                    SignedHeaders ", Signature=" Signature
 * ```
 *
 * The derived signing key is wiped after use; the secret key never leaves this function.
 *
 * @module
 */
import { utf8, wipe, toHex } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { percentEncode } from './encoding.js';

/** AWS credentials. The secret and the session token are never put in errors or logs. */
export interface AwsCredentials {
  /** Access key id (e.g. `AKIA…`, `ASIA…`). */
  readonly accessKeyId: string;
  /** Secret access key. */
  readonly secretAccessKey: string;
  /** Session token of temporary (STS) credentials. */
  readonly sessionToken?: string;
}

/** What {@link signSigV4} signs. */
export interface SigV4Input {
  /** HTTP method, e.g. `POST`. */
  readonly method: string;
  /** The full request URL (its host and port are signed as `host`). */
  readonly url: URL;
  /** Headers to sign and send besides the ones the signer adds (names case-insensitive). */
  readonly headers: Readonly<Record<string, string>>;
  /** The request body (empty for none). */
  readonly body: Uint8Array | string;
  /** Region of the credential scope, e.g. `us-east-1`. */
  readonly region: string;
  /** Service of the credential scope, e.g. `kms`. */
  readonly service: string;
  /** Credentials. */
  readonly credentials: AwsCredentials;
  /** Signing time (ms since the epoch, or a Date). */
  readonly date: number | Date;
  /** Also send and sign `x-amz-content-sha256` (S3 style; KMS does not need it). */
  readonly signPayloadHeader?: boolean;
}

/** A signed request's parts; `headers` are what to send (without `host`, which fetch sets). */
export interface SigV4Result {
  readonly headers: Record<string, string>;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signature: string;
  readonly authorization: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

/**
 * The SigV4 timestamp of a time.
 * @param date - ms since the epoch, or a Date
 * @returns `YYYYMMDDTHHMMSSZ` (UTC)
 * @example
 * ```ts
 * amzDate(Date.UTC(2015, 7, 30, 12, 36)); // "20150830T123600Z"
 * ```
 */
export function amzDate(date: number | Date): string {
  return new Date(date).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function canonicalUri(url: URL): string {
  const path = url.pathname === '' ? '/' : url.pathname;
  return path
    .split('/')
    .map((seg) => percentEncode(decodeURIComponent(seg)))
    .join('/');
}

function canonicalQuery(url: URL): string {
  const raw = url.search.startsWith('?') ? url.search.slice(1) : url.search;
  if (raw === '') return '';
  const pairs = raw
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const k = eq < 0 ? p : p.slice(0, eq);
      const v = eq < 0 ? '' : p.slice(eq + 1);
      return [percentEncode(decodeURIComponent(k)), percentEncode(decodeURIComponent(v))] as const;
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function checkPart(v: unknown, name: string): asserts v is string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9._-]+$/.test(v)) throw new TypeError(`"${name}" expected [A-Za-z0-9._-]+`);
}

/**
 * Signs a request with AWS Signature Version 4 (see the module comment).
 *
 * @param backend - supplies HMAC-SHA-256 and SHA-256
 * @param input - the request, scope, credentials and time
 * @returns the headers to send (input headers, `x-amz-date`, `x-amz-security-token`,
 *   `authorization`) and the intermediate strings (for tests; they hold no secret)
 * @throws TypeError for missing credentials, a malformed region/service, or duplicate headers
 * @example
 * ```ts
 * const { headers } = await signSigV4(getBackend(), {
 *   method: 'POST', url: new URL('https://kms.us-east-1.amazonaws.com/'), body,
 *   headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.Decrypt' },
 *   region: 'us-east-1', service: 'kms', credentials, date: Date.now(),
 * });
 * ```
 */
export async function signSigV4(backend: CryptoBackend, input: SigV4Input): Promise<SigV4Result> {
  const { credentials: c } = input;
  if (typeof c?.accessKeyId !== 'string' || c.accessKeyId === '' || typeof c.secretAccessKey !== 'string' || c.secretAccessKey === '') {
    throw new TypeError('"credentials" expected { accessKeyId, secretAccessKey } as non-empty strings');
  }
  if (c.sessionToken !== undefined && typeof c.sessionToken !== 'string') throw new TypeError('"credentials.sessionToken" expected a string');
  checkPart(input.region, 'region');
  checkPart(input.service, 'service');
  const when = amzDate(input.date);
  const day = when.slice(0, 8);
  const body = typeof input.body === 'string' ? utf8(input.body) : input.body;
  const payloadHash = toHex(await backend.digest('SHA-256', body));

  const send: Record<string, string> = {};
  const canon = new Map<string, string>();
  const add = (name: string, value: string): void => {
    const lower = name.toLowerCase();
    if (lower === 'host' || lower === 'authorization') return; // host comes from the URL; authorization is ours
    if (canon.has(lower)) throw new TypeError(`header "${lower}" given twice`);
    canon.set(lower, value.trim().replace(/ +/g, ' '));
    send[lower] = value;
  };
  for (const [k, v] of Object.entries(input.headers)) add(k, v);
  add('x-amz-date', when);
  if (c.sessionToken !== undefined && c.sessionToken !== '') add('x-amz-security-token', c.sessionToken);
  if (input.signPayloadHeader === true) add('x-amz-content-sha256', payloadHash);
  canon.set('host', input.url.host.toLowerCase());

  const names = [...canon.keys()].sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalUri(input.url),
    canonicalQuery(input.url),
    names.map((n) => `${n}:${canon.get(n)}\n`).join(''),
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = [ALGORITHM, when, scope, toHex(await backend.digest('SHA-256', utf8(canonicalRequest)))].join('\n');

  const secret = utf8(`AWS4${c.secretAccessKey}`);
  const kDate = await backend.hmac('SHA-256', secret, utf8(day));
  const kRegion = await backend.hmac('SHA-256', kDate, utf8(input.region));
  const kService = await backend.hmac('SHA-256', kRegion, utf8(input.service));
  const kSigning = await backend.hmac('SHA-256', kService, utf8('aws4_request'));
  const signature = toHex(await backend.hmac('SHA-256', kSigning, utf8(stringToSign)));
  wipe(secret, kDate, kRegion, kService, kSigning);

  const authorization = `${ALGORITHM} Credential=${c.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  send.authorization = authorization;
  return { headers: send, canonicalRequest, stringToSign, signature, authorization };
}
