/**
 * Alibaba Cloud KMS client over its RPC API (version 2016-01-20), signed with the classic RPC
 * signature (`./alibaba-signature.ts`); no Alibaba Cloud SDK.
 *
 * ```
 * POST /   Content-Type: application/x-www-form-urlencoded
 *          body = signed parameters: Action, Version=2016-01-20, Format=JSON, AccessKeyId,
 *                 SignatureMethod=HMAC-SHA1, SignatureVersion=1.0, SignatureNonce (random),
 *                 Timestamp (ISO 8601 UTC), SecurityToken (STS only), Signature, and:
 * GenerateDataKey  KeyId, KeySpec=AES_256, EncryptionContext   → {KeyId, KeyVersionId, Plaintext, CiphertextBlob}
 * Encrypt          KeyId, Plaintext (base64), EncryptionContext → {KeyId, KeyVersionId, CiphertextBlob}
 * Decrypt          CiphertextBlob, EncryptionContext            → {KeyId, KeyVersionId, Plaintext (base64)}
 * DescribeKey      KeyId (id, alias or ARN)                     → {KeyMetadata: {KeyId, Arn, …}}
 * error            HTTP 4xx/5xx, {"Code": "Forbidden.KeyNotFound", "Message": "…", "RequestId": "…"}
 * ```
 *
 * **Key ids.** The canonical id is the `KeyId` KMS returns (stanzas record it). `resolveKeyId`
 * asks `DescribeKey` for an alias (`alias/…`) or an ARN (`acs:kms:…`; this needs permission to
 * call `DescribeKey`) and takes anything else as a key id already. `Decrypt` takes no key id (the blob names its key), so when the caller names
 * the key the blob must be decrypted under, the `KeyId` of the answer is compared with it and a
 * plaintext of any other key is wiped and refused (`ERR_KMS_DENIED`).
 *
 * **Context binding.** The encryption context is sent as `EncryptionContext`, a JSON object
 * string (keys sorted, for stable logs); Alibaba Cloud KMS binds it to the ciphertext, and
 * `Decrypt` with another context fails. The blob enseal stores is the `CiphertextBlob` text
 * exactly as returned (ASCII bytes; the blob names its key and key version); the stanza key id is
 * the `KeyId` KMS returns.
 *
 * **Errors.** `Throttling*`, `ServiceUnavailable*`, `InternalFailure`/`InternalError`, HTTP
 * 429/5xx and network errors are retried, then `ERR_KMS_UNAVAILABLE`; a code naming a disabled
 * key or pending deletion (`Rejected.Disabled`, `Forbidden.DisabledKey`, `…PendingDeletion`) →
 * `ERR_KMS_DISABLED`; no such key or alias (`Forbidden.KeyNotFound`, `Forbidden.AliasNotFound`,
 * `EntityNotExist.Key…`/`.Alias`) → `ERR_KMS_NOT_FOUND`; every other error
 * (`Forbidden.NoPermission`, `InvalidAccessKeyId.NotFound`, `SignatureDoesNotMatch`,
 * `InvalidCiphertext`, …) → `ERR_KMS_DENIED` (never retried). Key ids in messages are escaped.
 *
 * @module
 */
import { escapeControl, fromBase64, fromUtf8, utf8, wipe, type Bytes, toBase64, toHex } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { getBackend, type BackendChoice } from '../backends/select.js';
import { EnsealError, type ErrorCode } from '../errors.js';
import type { EncryptionContext } from '../format/header.js';
import type { KmsCiphertext, KmsClient, KmsDataKey } from '../keys/kms.js';
import { signAlibabaRpc } from './alibaba-signature.js';
import { percentEncode } from './encoding.js';

import { checkEndpoint, createTransport, isTransientStatus, type HttpRequest, type HttpResponse, type KmsHttpOptions, type Verdict, parseJsonObject } from './http.js';
import { redact } from './redact.js';

/** Alibaba Cloud AccessKey credentials (the secret and the STS token never appear in errors). */
export interface AlibabaCredentials {
  /** AccessKey ID. */
  readonly accessKeyId: string;
  /** AccessKey secret. */
  readonly accessKeySecret: string;
  /** STS security token, for temporary credentials. */
  readonly securityToken?: string;
}

/** Options of {@link alibabaKms}. */
export interface AlibabaKmsOptions extends KmsHttpOptions {
  /** Region id, e.g. `cn-hangzhou`. */
  regionId: string;
  /** Static credentials, or a function returning current ones (called for every request). */
  credentials: AlibabaCredentials | (() => AlibabaCredentials | Promise<AlibabaCredentials>);
  /** Endpoint (default `https://kms.<regionId>.aliyuncs.com`). */
  endpoint?: string;
  /** Backend for the signature nonce (default: the runtime's default backend). */
  backend?: BackendChoice;
}

/** The RPC API version of Alibaba Cloud KMS. */
export const ALIBABA_KMS_API_VERSION = '2016-01-20';

const BLOB_RE = /^[A-Za-z0-9+/=_-]+$/;
const NOT_FOUND_RE = /^(?:Forbidden\.(?:KeyNotFound|AliasNotFound)|EntityNotExist\.(?:Key|Alias|CMK))/;

/** `EncryptionContext` parameter: a JSON object with sorted keys (absent when empty). */
function contextJson(context: EncryptionContext): string | undefined {
  if (typeof context !== 'object' || context === null) throw new TypeError('"context" expected a string map');
  const entries = Object.entries(context).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return entries.length === 0 ? undefined : JSON.stringify(Object.fromEntries(entries));
}

/** An Alibaba Cloud KMS client: a {@link KmsClient} that can also return a plaintext as text. */
export interface AlibabaKmsClient extends KmsClient {
  /**
   * Decrypts a blob whose plaintext was given to Encrypt as text (not base64), returning it as
   * that text: legacy OSS Python objects (`oss-wrap-alg: kms`) stored a decimal counter so.
   * @throws EnsealError as {@link KmsClient.decrypt}
   */
  decryptText(ciphertext: Uint8Array, context: EncryptionContext, keyId?: string): Promise<string>;
}

/**
 * Creates an Alibaba Cloud KMS client (client type `alibaba`; stanzas `kms-alibaba`).
 *
 * @param opts - region, credentials, optional endpoint and transport options
 * @returns an {@link AlibabaKmsClient}
 * @throws TypeError/RangeError for a malformed region, endpoint or option
 * @example
 * ```ts
 * const client = alibabaKms({ regionId: 'cn-hangzhou', credentials: { accessKeyId, accessKeySecret } });
 * const key = kms({ client, keyId: 'alias/backups' });
 * ```
 */
export function alibabaKms(opts: AlibabaKmsOptions): AlibabaKmsClient {
  if (typeof opts?.regionId !== 'string' || !/^[a-z]{2}(?:-[a-z0-9]+)+$/.test(opts.regionId)) {
    throw new TypeError(`"regionId" expected an Alibaba Cloud region such as cn-hangzhou, got ${JSON.stringify(opts?.regionId)}`);
  }
  const cred = opts.credentials;
  if (typeof cred !== 'function' && (typeof cred?.accessKeyId !== 'string' || typeof cred?.accessKeySecret !== 'string')) {
    throw new TypeError('"credentials" expected { accessKeyId, accessKeySecret, securityToken? } or a function returning them');
  }
  const endpoint = checkEndpoint(opts.endpoint ?? `https://kms.${opts.regionId}.aliyuncs.com/`, opts.allowInsecureHttp, '"endpoint"');
  const transport = createTransport(opts);
  const backend: CryptoBackend = getBackend(opts.backend);

  async function credentials(): Promise<AlibabaCredentials> {
    const c = typeof cred === 'function' ? await cred() : cred;
    if (typeof c?.accessKeyId !== 'string' || c.accessKeyId === '' || typeof c.accessKeySecret !== 'string' || c.accessKeySecret === '') {
      throw new TypeError('"credentials" returned something other than { accessKeyId, accessKeySecret }');
    }
    return c;
  }

  async function call<T>(action: string, keyId: string | undefined, params: Record<string, string | undefined>, read: (body: Record<string, unknown>) => T | undefined): Promise<T> {
    const label = `Alibaba Cloud KMS ${action}${keyId === undefined ? '' : ` (key "${escapeControl(keyId)}")`}`;
    let secrets: (string | undefined)[] = [];
    const build = async (): Promise<HttpRequest> => {
      const c = await credentials();
      secrets = [c.accessKeySecret, c.securityToken];
      const all: Record<string, string> = Object.fromEntries(
        Object.entries({
          ...params,
          Action: action,
          Version: ALIBABA_KMS_API_VERSION,
          Format: 'JSON',
          AccessKeyId: c.accessKeyId,
          SignatureMethod: 'HMAC-SHA1',
          SignatureVersion: '1.0',
          SignatureNonce: toHex(backend.randomBytes(16)),
          Timestamp: new Date(transport.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          SecurityToken: c.securityToken === '' ? undefined : c.securityToken,
        }).filter((e): e is [string, string] => e[1] !== undefined),
      );
      const signed = await signAlibabaRpc('POST', all, c.accessKeySecret);
      const body = `${signed.canonicalQuery}&Signature=${percentEncode(signed.signature)}`;
      return { method: 'POST', url: endpoint, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body };
    };
    const judge = (res: HttpResponse): Verdict<T> => {
      const json = parseJsonObject(res.body);
      if (res.status === 200) {
        const out = json === undefined ? undefined : read(json);
        return out === undefined ? { error: new EnsealError('ERR_KMS_UNAVAILABLE', `${label}: malformed response`) } : { ok: out };
      }
      const raw = typeof json?.Code === 'string' ? json.Code : '';
      const codeName = /^[A-Za-z0-9.]{1,100}$/.test(raw) ? raw : '';
      const detail = `${codeName || 'error'} (HTTP ${res.status})`;
      if (isTransientStatus(res.status) || /^(?:Throttling|ServiceUnavailable|InternalFailure|InternalError)/.test(codeName)) return { retry: detail };
      const msg = redact(json?.Message, secrets);
      const code: ErrorCode = /Disabled|PendingDeletion/.test(codeName) ? 'ERR_KMS_DISABLED' : NOT_FOUND_RE.test(codeName) ? 'ERR_KMS_NOT_FOUND' : 'ERR_KMS_DENIED';
      return { error: new EnsealError(code, `${label}: ${detail}${msg === '' ? '' : `: ${msg}`}`) };
    };
    return transport.call(label, build, judge);
  }

  const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const blob = (v: unknown): Bytes | undefined => (typeof v === 'string' && BLOB_RE.test(v) ? utf8(v) : undefined);
  const b64 = (v: unknown): Bytes | undefined => {
    try {
      return typeof v === 'string' ? fromBase64(v) : undefined;
    } catch {
      return undefined;
    }
  };

  /** Decrypt, then check which key the answer names (Decrypt takes no key id). */
  async function decryptAs<T extends Uint8Array | string>(
    ciphertext: Uint8Array,
    context: EncryptionContext,
    keyId: string | undefined,
    take: (body: Record<string, unknown>) => T | undefined,
  ): Promise<T> {
    let text: string;
    try {
      text = fromUtf8(ciphertext);
    } catch {
      text = '';
    }
    if (!BLOB_RE.test(text)) throw new EnsealError('ERR_HEADER', 'not an Alibaba Cloud KMS ciphertext blob');
    const r = await call('Decrypt', keyId, { CiphertextBlob: text, EncryptionContext: contextJson(context) }, (body) => {
      const plaintext = take(body);
      return plaintext !== undefined ? { plaintext, keyId: str(body.KeyId) } : undefined;
    });
    if (keyId !== undefined && r.keyId !== keyId) {
      if (r.plaintext instanceof Uint8Array) wipe(r.plaintext);
      throw new EnsealError('ERR_KMS_DENIED', `Alibaba Cloud KMS Decrypt (key "${escapeControl(keyId)}"): the ciphertext was made under another key ("${escapeControl(r.keyId ?? '')}")`);
    }
    return r.plaintext;
  }

  return {
    type: 'alibaba',

    async generateDataKey(keyId: string, context: EncryptionContext): Promise<KmsDataKey> {
      return call('GenerateDataKey', keyId, { KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: contextJson(context) }, (r) => {
        const plaintext = b64(r.Plaintext);
        const ciphertext = blob(r.CiphertextBlob);
        const id = str(r.KeyId);
        return plaintext && ciphertext && id ? { plaintext, ciphertext, keyId: id } : undefined;
      });
    },

    async encrypt(keyId: string, plaintext: Uint8Array, context: EncryptionContext): Promise<KmsCiphertext> {
      return call('Encrypt', keyId, { KeyId: keyId, Plaintext: toBase64(plaintext), EncryptionContext: contextJson(context) }, (r) => {
        const ciphertext = blob(r.CiphertextBlob);
        const id = str(r.KeyId);
        return ciphertext && id ? { ciphertext, keyId: id } : undefined;
      });
    },

    async decrypt(ciphertext: Uint8Array, context: EncryptionContext, keyId?: string): Promise<Bytes> {
      return decryptAs(ciphertext, context, keyId, (body) => b64(body.Plaintext));
    },

    /**
     * Like `decrypt`, but returns the KMS's `Plaintext` field as the text it is, not base64-decoded:
     * legacy OSS Python objects (`oss-wrap-alg: kms`) encrypted a decimal counter given as text.
     */
    async decryptText(ciphertext: Uint8Array, context: EncryptionContext, keyId?: string): Promise<string> {
      return decryptAs(ciphertext, context, keyId, (body) => (typeof body.Plaintext === 'string' ? body.Plaintext : undefined));
    },

    async resolveKeyId(keyId: string): Promise<string> {
      if (typeof keyId !== 'string' || keyId === '') throw new TypeError('"keyId" expected a non-empty string');
      if (!keyId.startsWith('alias/') && !keyId.startsWith('acs:')) return keyId; // already a key id
      return call('DescribeKey', keyId, { KeyId: keyId }, (r) => {
        const meta = r.KeyMetadata as Record<string, unknown> | undefined;
        return typeof meta === 'object' && meta !== null ? str(meta.KeyId) : undefined;
      });
    },
  };
}
