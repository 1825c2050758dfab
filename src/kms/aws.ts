/**
 * AWS KMS client over the KMS JSON protocol, signed with SigV4 (`./sigv4.ts`); no AWS SDK.
 *
 * ```
 * POST /   Content-Type: application/x-amz-json-1.1
 *          X-Amz-Target: TrentService.GenerateDataKey | TrentService.Encrypt | TrentService.Decrypt
 * GenerateDataKey  {KeyId, KeySpec: "AES_256", EncryptionContext}     → {KeyId, Plaintext, CiphertextBlob}
 * Encrypt          {KeyId, Plaintext (base64), EncryptionContext}     → {KeyId, CiphertextBlob}
 * Decrypt          {CiphertextBlob (base64), EncryptionContext, KeyId} → {KeyId, Plaintext}
 * DescribeKey      {KeyId}                                             → {KeyMetadata: {Arn, KeyId, …}}
 * error            HTTP 4xx/5xx, {"__type": "…#AccessDeniedException", "message": "…"}
 * ```
 *
 * **Key ids.** The canonical id is the key ARN (`arn:aws:kms:<region>:<account>:key/<id>`), which
 * `GenerateDataKey`/`Encrypt` return and stanzas record. `resolveKeyId` returns a key ARN as it
 * is and asks `DescribeKey` for anything else (a bare key id, an alias name or alias ARN; this
 * needs the `kms:DescribeKey` permission — configure readers with the key ARN to avoid it).
 * `Decrypt` always sends `KeyId` when the caller names a key, so KMS itself refuses a blob of
 * another key (`IncorrectKeyException`), and the answer's `KeyId` is checked again here.
 *
 * **Context binding.** The encryption context is sent as KMS's `EncryptionContext` map, which
 * AWS KMS binds to the ciphertext as additional authenticated data: `Decrypt` with any other
 * context fails with `InvalidCiphertextException`. The blob enseal stores is the raw
 * `CiphertextBlob` bytes (base64-decoded); the stanza key id is the key ARN KMS returns.
 *
 * **Errors.** `ThrottlingException`, `LimitExceededException`, `KMSInternalException`,
 * `KeyUnavailableException`, `DependencyTimeoutException`, HTTP 429/5xx and network errors are
 * retried, then `ERR_KMS_UNAVAILABLE`; `DisabledException`, `KMSInvalidStateException` →
 * `ERR_KMS_DISABLED`; `NotFoundException` (no such key or alias) → `ERR_KMS_NOT_FOUND`;
 * `AccessDeniedException`, `InvalidCiphertextException`, `IncorrectKeyException`,
 * `UnrecognizedClientException`, `InvalidSignatureException` and every other 4xx →
 * `ERR_KMS_DENIED` (never retried). Key ids in messages are escaped (`escapeControl`).
 *
 * @module
 */
import { escapeControl, fromBase64, wipe, type Bytes, toBase64 } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { getBackend, type BackendChoice } from '../backends/select.js';
import { EnsealError, type ErrorCode } from '../errors.js';
import type { EncryptionContext } from '../format/header.js';
import type { KmsCiphertext, KmsClient, KmsDataKey, KmsKeyScope } from '../keys/kms.js';

import { checkEndpoint, createTransport, isTransientStatus, type HttpRequest, type HttpResponse, type KmsHttpOptions, type Verdict, parseJsonObject } from './http.js';
import { redact } from './redact.js';
import { signSigV4, type AwsCredentials } from './sigv4.js';

export type { AwsCredentials } from './sigv4.js';

/** Options of {@link awsKms}. */
export interface AwsKmsOptions extends KmsHttpOptions {
  /** AWS region, e.g. `eu-west-1`. */
  region: string;
  /** Static credentials, or a function returning current ones (called for every request). */
  credentials: AwsCredentials | (() => AwsCredentials | Promise<AwsCredentials>);
  /** Endpoint (default `https://kms.<region>.amazonaws.com`, `.amazonaws.com.cn` in China). */
  endpoint?: string;
  /** Backend for SHA-256/HMAC (default: the runtime's default backend). */
  backend?: BackendChoice;
}

const RETRYABLE = new Set(['ThrottlingException', 'LimitExceededException', 'KMSInternalException', 'KeyUnavailableException', 'DependencyTimeoutException', 'ServiceUnavailableException', 'InternalFailure']);
const DISABLED = new Set(['DisabledException', 'KMSInvalidStateException']);
const NOT_FOUND = new Set(['NotFoundException']);

/** The short error type from `__type` or `x-amzn-ErrorType` (`com.amazonaws.kms#X`, `X:http://…`). */
function errorType(res: HttpResponse, body: Record<string, unknown> | undefined): string {
  const raw = String(body?.__type ?? body?.code ?? res.headers.get('x-amzn-errortype') ?? '');
  const t = raw.split('#').pop()!.split(':')[0]!;
  return /^[A-Za-z0-9.]{1,100}$/.test(t) ? t : '';
}

const KEY_ARN_RE = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/[A-Za-z0-9-]{1,100}$/;

/** The region and account of a key ARN (`arn:<partition>:kms:<region>:<account>:key/<id>`), else undefined. */
function keyArnScope(id: string): KmsKeyScope | undefined {
  const m = KEY_ARN_RE.exec(id);
  return m === null ? undefined : { region: m[1] as string, account: m[2] as string };
}

/**
 * Creates an AWS KMS client (client type `aws`; stanzas `kms-aws`).
 *
 * @param opts - region, credentials, optional endpoint and transport options
 * @returns a {@link KmsClient}
 * @throws TypeError/RangeError for a malformed region, endpoint or option
 * @example
 * ```ts
 * const client = awsKms({ region: 'eu-west-1', credentials: { accessKeyId, secretAccessKey, sessionToken } });
 * const key = kms({ client, keyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-…' });
 * ```
 */
export function awsKms(opts: AwsKmsOptions): KmsClient {
  if (typeof opts?.region !== 'string' || !/^[a-z]{2}(?:-[a-z0-9]+)+$/.test(opts.region)) {
    throw new TypeError(`"region" expected an AWS region such as us-east-1, got ${JSON.stringify(opts?.region)}`);
  }
  const region = opts.region;
  const cred = opts.credentials;
  if (typeof cred !== 'function' && (typeof cred?.accessKeyId !== 'string' || typeof cred?.secretAccessKey !== 'string')) {
    throw new TypeError('"credentials" expected { accessKeyId, secretAccessKey, sessionToken? } or a function returning them');
  }
  const endpoint = checkEndpoint(opts.endpoint ?? `https://kms.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}/`, opts.allowInsecureHttp, '"endpoint"');
  const transport = createTransport(opts);
  const backend: CryptoBackend = getBackend(opts.backend);

  async function credentials(): Promise<AwsCredentials> {
    const c = typeof cred === 'function' ? await cred() : cred;
    if (typeof c?.accessKeyId !== 'string' || c.accessKeyId === '' || typeof c.secretAccessKey !== 'string' || c.secretAccessKey === '') {
      throw new TypeError('"credentials" returned something other than { accessKeyId, secretAccessKey }');
    }
    return c;
  }

  async function call<T>(operation: string, keyId: string | undefined, payload: object, read: (body: Record<string, unknown>) => T | undefined): Promise<T> {
    const label = `AWS KMS ${operation}${keyId === undefined ? '' : ` (key "${escapeControl(keyId)}")`}`;
    const body = JSON.stringify(payload);
    let secrets: (string | undefined)[] = [];
    const build = async (): Promise<HttpRequest> => {
      const c = await credentials();
      secrets = [c.secretAccessKey, c.sessionToken];
      const signed = await signSigV4(backend, {
        method: 'POST',
        url: endpoint,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${operation}` },
        body,
        region,
        service: 'kms',
        credentials: c,
        date: transport.now(),
      });
      return { method: 'POST', url: endpoint, headers: signed.headers, body };
    };
    const judge = (res: HttpResponse): Verdict<T> => {
      const json = parseJsonObject(res.body);
      if (res.status === 200) {
        const out = json === undefined ? undefined : read(json);
        return out === undefined ? { error: new EnsealError('ERR_KMS_UNAVAILABLE', `${label}: malformed response`) } : { ok: out };
      }
      const type = errorType(res, json);
      const detail = `${type || 'error'} (HTTP ${res.status})`;
      if (RETRYABLE.has(type) || isTransientStatus(res.status)) return { retry: detail };
      const msg = redact(json?.message ?? json?.Message, secrets);
      const code: ErrorCode = DISABLED.has(type) ? 'ERR_KMS_DISABLED' : NOT_FOUND.has(type) ? 'ERR_KMS_NOT_FOUND' : 'ERR_KMS_DENIED';
      return { error: new EnsealError(code, `${label}: ${detail}${msg === '' ? '' : `: ${msg}`}`) };
    };
    return transport.call(label, build, judge);
  }

  const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const b64 = (v: unknown): Bytes | undefined => {
    try {
      return typeof v === 'string' ? fromBase64(v) : undefined;
    } catch {
      return undefined;
    }
  };
  const checkContext = (context: EncryptionContext): EncryptionContext => {
    if (typeof context !== 'object' || context === null) throw new TypeError('"context" expected a string map');
    return context;
  };

  return {
    type: 'aws',

    async generateDataKey(keyId: string, context: EncryptionContext): Promise<KmsDataKey> {
      const payload = { KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: checkContext(context) };
      return call('GenerateDataKey', keyId, payload, (r) => {
        const plaintext = b64(r.Plaintext);
        const ciphertext = b64(r.CiphertextBlob);
        const id = str(r.KeyId);
        return plaintext && ciphertext && id ? { plaintext, ciphertext, keyId: id } : undefined;
      });
    },

    async encrypt(keyId: string, plaintext: Uint8Array, context: EncryptionContext): Promise<KmsCiphertext> {
      const payload = { KeyId: keyId, Plaintext: toBase64(plaintext), EncryptionContext: checkContext(context) };
      return call('Encrypt', keyId, payload, (r) => {
        const ciphertext = b64(r.CiphertextBlob);
        const id = str(r.KeyId);
        return ciphertext && id ? { ciphertext, keyId: id } : undefined;
      });
    },

    async decrypt(ciphertext: Uint8Array, context: EncryptionContext, keyId?: string): Promise<Bytes> {
      const payload = { CiphertextBlob: toBase64(ciphertext), EncryptionContext: checkContext(context), ...(keyId === undefined ? {} : { KeyId: keyId }) };
      const r = await call('Decrypt', keyId, payload, (body) => {
        const plaintext = b64(body.Plaintext);
        return plaintext && { plaintext, keyId: str(body.KeyId) };
      });
      // KMS already refused another key (IncorrectKeyException); a key ARN asked for must also be
      // the one that answered.
      if (keyId !== undefined && keyArnScope(keyId) !== undefined && r.keyId !== keyId) {
        wipe(r.plaintext);
        throw new EnsealError('ERR_KMS_DENIED', `AWS KMS Decrypt (key "${escapeControl(keyId)}"): the ciphertext was decrypted under another key ("${escapeControl(r.keyId ?? '')}")`);
      }
      return r.plaintext;
    },

    async resolveKeyId(keyId: string): Promise<string> {
      if (typeof keyId !== 'string' || keyId === '') throw new TypeError('"keyId" expected a non-empty string');
      if (keyArnScope(keyId) !== undefined) return keyId; // a key ARN is canonical
      return call('DescribeKey', keyId, { KeyId: keyId }, (r) => {
        const meta = r.KeyMetadata as Record<string, unknown> | undefined;
        const arn = typeof meta === 'object' && meta !== null ? str(meta.Arn) : undefined;
        return arn !== undefined && keyArnScope(arn) !== undefined ? arn : undefined;
      });
    },

    ownsKeyId(canonical: string): boolean {
      // KMS keys are regional: a key ARN of another region is not this client's.
      return keyArnScope(canonical)?.region === region;
    },

    keyScope(canonical: string): KmsKeyScope | undefined {
      return keyArnScope(canonical);
    },
  };
}
