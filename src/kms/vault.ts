/**
 * HashiCorp Vault Transit client (HTTP API v1); no Vault SDK.
 *
 * ```
 * POST /v1/<mount>/datakey/plaintext/<name>  {bits: 256, context?}                → data: {plaintext (base64), ciphertext "vault:vN:…"}
 * POST /v1/<mount>/encrypt/<name>            {plaintext (base64), context?, associated_data?} → data: {ciphertext}
 * POST /v1/<mount>/decrypt/<name>            {ciphertext, context?, associated_data?}         → data: {plaintext (base64)}
 * headers  X-Vault-Token, X-Vault-Namespace (optional), Content-Type: application/json
 * error    HTTP 4xx/5xx, {"errors": ["…"]}
 * ```
 *
 * **Key ids.** `keyId` is the Transit key name; the canonical id recorded in stanzas is
 * `<mount>/<name>` (e.g. `transit/backups`), and either form is accepted. A key name is
 * canonical (Vault has no aliases), so `resolveKeyId` needs no request. The key is always named
 * in the request path: a `decrypt` runs under the key the caller names, never one chosen by the
 * ciphertext. Vault's ciphertext (`vault:v3:…`, which names the key version) is stored as its
 * ASCII bytes.
 *
 * **Context binding — on every call.** The encryption context enseal hands the client (the
 * object's pairs plus `enseal:bound`, the digest of the header's bound part) is encoded with
 * `./context.ts` and sent, base64, with every `datakey`, `encrypt` and `decrypt`:
 * - as `associated_data` (the default; AEAD key types `aes128-gcm96`, `aes256-gcm96`,
 *   `chacha20-poly1305`): authenticated by the AEAD, so a wrong context cannot decrypt. The
 *   `datakey` endpoint takes no associated data, so `generateDataKey` draws the key from the
 *   backend's CSPRNG and wraps it with `encrypt`;
 * - as `context` with `derived: true` (keys created with `derived=true`): Vault derives a
 *   per-context key from it, so a wrong context cannot decrypt; generation uses the `datakey`
 *   endpoint. `associated_data` is then sent only with `associatedData: true` (derived AEAD keys
 *   take both).
 * A client that would bind nothing (`associatedData: false` without `derived`) is refused with a
 * TypeError: Vault would then ignore the context, so anyone allowed to decrypt with the key could
 * unwrap a stanza copied out of any object, and Vault policies could not depend on the context.
 *
 * **Errors.** HTTP 403 → `ERR_KMS_DENIED`; 404, or a 400 saying the key does not exist
 * ("encryption key not found") → `ERR_KMS_NOT_FOUND`; 400 whose message mentions a disabled key
 * or deletion → `ERR_KMS_DISABLED`; other 4xx ("cipher: message authentication failed" for a
 * wrong context or another key's ciphertext) → `ERR_KMS_DENIED`; 429, 5xx (including 503
 * sealed/standby) and network errors are retried, then `ERR_KMS_UNAVAILABLE`.
 *
 * @module
 */
import { escapeControl, fromBase64, fromUtf8, utf8, wipe, type Bytes, toBase64 } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { getBackend, type BackendChoice } from '../backends/select.js';
import { EnsealError, type ErrorCode } from '../errors.js';
import type { EncryptionContext } from '../format/header.js';
import type { KmsCiphertext, KmsClient, KmsDataKey } from '../keys/kms.js';
import { encodeKmsContext } from './context.js';

import { checkEndpoint, createTransport, isTransientStatus, type HttpRequest, type HttpResponse, type KmsHttpOptions, type Verdict, parseJsonObject } from './http.js';
import { redact } from './redact.js';

/** Options of {@link vaultTransit}. */
export interface VaultTransitOptions extends KmsHttpOptions {
  /** Vault address, e.g. `https://vault.example.com:8200`. */
  address: string;
  /** Vault token, or a function returning the current one (called for every request). */
  token: string | (() => string | Promise<string>);
  /** Vault Enterprise namespace (`X-Vault-Namespace`). */
  namespace?: string;
  /** Mount path of the Transit engine (default `transit`). */
  mount?: string;
  /** The keys were created with `derived=true`: bind the context through key derivation (`context`). */
  derived?: boolean;
  /**
   * Bind the context as AEAD associated data (`associated_data`; AEAD key types, Vault ≥ 1.13).
   * Default: true without `derived`, false with it. `false` without `derived` is a TypeError.
   */
  associatedData?: boolean;
  /** Backend for CSPRNG bytes in `associatedData` mode (default: the runtime's default). */
  backend?: BackendChoice;
}

const NAME_RE = /^\w(?:[\w.-]*\w)?$/;
const CIPHERTEXT_RE = /^vault:v\d+:[A-Za-z0-9+/=:._-]+$/;

/**
 * Creates a Vault Transit client (client type `vault`; stanzas `kms-vault`).
 *
 * @param opts - address, token, mount, binding mode and transport options
 * @returns a {@link KmsClient}
 * @throws TypeError/RangeError for a malformed address, mount, namespace, token or option
 * @example
 * ```ts
 * const client = vaultTransit({ address: 'https://vault:8200', token: process.env.VAULT_TOKEN!, derived: true });
 * const key = kms({ client, keyId: 'backups' });
 * ```
 */
export function vaultTransit(opts: VaultTransitOptions): KmsClient {
  const base = checkEndpoint(opts?.address, opts?.allowInsecureHttp, '"address"');
  const mount = opts.mount ?? 'transit';
  if (typeof mount !== 'string' || !mount.split('/').every((s) => NAME_RE.test(s))) {
    throw new TypeError(`"mount" expected path segments of [A-Za-z0-9_.-], got ${JSON.stringify(mount)}`);
  }
  const token = opts.token;
  if (typeof token !== 'function' && (typeof token !== 'string' || token === '')) throw new TypeError('"token" expected a non-empty string or a function');
  const namespace = opts.namespace;
  if (namespace !== undefined && (typeof namespace !== 'string' || !/^[\w./-]+$/.test(namespace))) throw new TypeError('"namespace" expected a Vault namespace path');
  if (opts.derived !== undefined && typeof opts.derived !== 'boolean') throw new TypeError('"derived" expected a boolean');
  if (opts.associatedData !== undefined && typeof opts.associatedData !== 'boolean') throw new TypeError('"associatedData" expected a boolean');
  const derived = opts.derived === true;
  const aad = opts.associatedData ?? !derived;
  if (!derived && !aad) {
    throw new TypeError('"associatedData: false" binds nothing: Vault would ignore the encryption context; keep associated data (AEAD key types) or use derived: true (keys created with derived=true)');
  }
  const transport = createTransport(opts);
  const backend: CryptoBackend = getBackend(opts.backend);
  const prefix = `${mount}/`;

  /** The Transit key name of a key id (`name` or `<mount>/name`). */
  function nameOf(keyId: string): string {
    const name = keyId.startsWith(prefix) ? keyId.slice(prefix.length) : keyId;
    if (!NAME_RE.test(name)) throw new TypeError(`"keyId" expected a Vault Transit key name, got ${JSON.stringify(keyId)}`);
    return name;
  }

  function binding(context: EncryptionContext): Record<string, string> {
    const encoded = toBase64(encodeKmsContext(context));
    return { ...(derived ? { context: encoded } : {}), ...(aad ? { associated_data: encoded } : {}) };
  }

  async function call<T>(operation: 'datakey/plaintext' | 'encrypt' | 'decrypt', name: string, payload: object, read: (data: Record<string, unknown>) => T | undefined): Promise<T> {
    const label = `Vault Transit ${operation.split('/')[0]} (key "${escapeControl(`${prefix}${name}`)}")`;
    const url = new URL(`v1/${mount.split('/').map(encodeURIComponent).join('/')}/${operation}/${encodeURIComponent(name)}`, base.href.endsWith('/') ? base : `${base.href}/`);
    const body = JSON.stringify(payload);
    let secret = '';
    const build = async (): Promise<HttpRequest> => {
      const t = typeof token === 'function' ? await token() : token;
      if (typeof t !== 'string' || t === '') throw new TypeError('"token" returned something other than a non-empty string');
      secret = t;
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-vault-token': t, 'x-vault-request': 'true' };
      if (namespace !== undefined) headers['x-vault-namespace'] = namespace;
      return { method: 'POST', url, headers, body };
    };
    const judge = (res: HttpResponse): Verdict<T> => {
      const json = parseJsonObject(res.body);
      if (res.status === 200) {
        const data = json?.data;
        const out = typeof data === 'object' && data !== null ? read(data as Record<string, unknown>) : undefined;
        return out === undefined ? { error: new EnsealError('ERR_KMS_UNAVAILABLE', `${label}: malformed response`) } : { ok: out };
      }
      const errors = Array.isArray(json?.errors) ? json.errors.filter((e): e is string => typeof e === 'string') : [];
      const msg = redact(errors.join('; '), [secret]);
      const detail = `HTTP ${res.status}${msg === '' ? '' : `: ${msg}`}`;
      if (isTransientStatus(res.status)) return { retry: `HTTP ${res.status}` };
      const missing = res.status === 404 || (res.status === 400 && /\b(?:encryption )?key not found\b|no existing key/i.test(msg));
      const code: ErrorCode = missing ? 'ERR_KMS_NOT_FOUND' : res.status === 400 && /disabled|deleted|deletion/i.test(msg) ? 'ERR_KMS_DISABLED' : 'ERR_KMS_DENIED';
      return { error: new EnsealError(code, `${label}: ${detail}`) };
    };
    return transport.call(label, build, judge);
  }

  const cipher = (v: unknown): Bytes | undefined => (typeof v === 'string' && CIPHERTEXT_RE.test(v) ? utf8(v) : undefined);
  const b64 = (v: unknown): Bytes | undefined => {
    try {
      return typeof v === 'string' ? fromBase64(v) : undefined;
    } catch {
      return undefined;
    }
  };

  const encrypt = async (keyId: string, plaintext: Uint8Array, context: EncryptionContext): Promise<KmsCiphertext> => {
    const name = nameOf(keyId);
    return call('encrypt', name, { plaintext: toBase64(plaintext), ...binding(context) }, (d) => {
      const ciphertext = cipher(d.ciphertext);
      return ciphertext && { ciphertext, keyId: `${prefix}${name}` };
    });
  };

  return {
    type: 'vault',

    async generateDataKey(keyId: string, context: EncryptionContext): Promise<KmsDataKey> {
      const name = nameOf(keyId);
      if (aad) {
        // The datakey endpoint takes no associated_data: generate here, wrap with encrypt.
        const plaintext = backend.randomBytes(32);
        try {
          return { plaintext, ...(await encrypt(keyId, plaintext, context)) };
        } catch (e) {
          wipe(plaintext);
          throw e;
        }
      }
      return call('datakey/plaintext', name, { bits: 256, ...binding(context) }, (d) => {
        const plaintext = b64(d.plaintext);
        const ciphertext = cipher(d.ciphertext);
        return plaintext && ciphertext ? { plaintext, ciphertext, keyId: `${prefix}${name}` } : undefined;
      });
    },

    encrypt,

    async decrypt(ciphertext: Uint8Array, context: EncryptionContext, keyId?: string): Promise<Bytes> {
      if (keyId === undefined) throw new TypeError('"keyId" is required: Vault ciphertexts do not name their key');
      const name = nameOf(keyId);
      let text = '';
      try {
        text = fromUtf8(ciphertext);
      } catch {
        // not UTF-8: refused below
      }
      if (!CIPHERTEXT_RE.test(text)) throw new EnsealError('ERR_HEADER', 'not a Vault Transit ciphertext');
      return call('decrypt', name, { ciphertext: text, ...binding(context) }, (d) => b64(d.plaintext));
    },

    resolveKeyId(keyId: string): string {
      return `${prefix}${nameOf(keyId)}`;
    },

    ownsKeyId(canonical: string): boolean {
      return canonical.startsWith(prefix) && NAME_RE.test(canonical.slice(prefix.length));
    },
  };
}
