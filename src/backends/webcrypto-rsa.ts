/**
 * RSA keys for the WebCrypto backend. WebCrypto binds a key to one algorithm and hash
 * (`RSA-OAEP` + `SHA-256` cannot decrypt `SHA-1` OAEP), imports only SPKI, PKCS#8 and JWK, and
 * cannot derive a public key from a private one. So one enseal {@link RsaKey} handle keeps a
 * `CryptoKey` per OAEP hash, PKCS#1 PEM is re-wrapped (`rsa-der.ts`), and the public part
 * of a private key is read from its DER or JWK.
 *
 * Private key material is imported non-extractable, and copies made here are wiped (a private JWK
 * is the caller's object: its strings cannot be wiped by anyone). A non-extractable private
 * `CryptoKey` is used as is: it serves only its own OAEP hash, and its public key (hence a
 * derived key id) is unavailable.
 *
 * @module
 */
import { asBufferSource, type Bytes } from '../bytes.js';
import { EnsealError } from '../errors.js';
import { checkSpki, pemDecode, pkcs1FromPkcs8, pkcs8FromPkcs1, spkiFromPkcs1, spkiFromPrivatePkcs1 } from './rsa-der.js';
import { isCryptoKey, type RsaKeyInput, type RsaOaepHash } from './backend.js';

/** What the WebCrypto backend keeps behind one RSA handle. */
export interface WebRsaState {
  readonly modulusLengthInBits: number;
  /** SubjectPublicKeyInfo DER of the public part, when it can be known. */
  readonly spki: Bytes | undefined;
  /** The key to encrypt with under `hash`. @throws EnsealError `ERR_UNSUPPORTED` if unavailable */
  publicKey(hash: RsaOaepHash): Promise<CryptoKey>;
  /** The key to decrypt with under `hash`. @throws EnsealError `ERR_UNSUPPORTED` if unavailable */
  privateKey(hash: RsaOaepHash): Promise<CryptoKey>;
}

const HASHES: readonly RsaOaepHash[] = ['SHA-1', 'SHA-256'];
const RSA_ALGORITHMS = new Set(['RSA-OAEP', 'RSASSA-PKCS1-v1_5', 'RSA-PSS']);

type Source =
  | { kind: 'spki'; spki: Uint8Array }
  | { kind: 'pkcs8'; pkcs8: Uint8Array; owned: boolean }
  | { kind: 'jwk'; jwk: JsonWebKey }
  | { kind: 'cryptokey'; key: CryptoKey };

/** Reads what the caller gave into one of the shapes WebCrypto can import. */
function classify(input: RsaKeyInput, type: 'public' | 'private'): Source {
  if (typeof input === 'string') {
    const { label, der } = pemDecode(input);
    switch (label) {
      case 'PUBLIC KEY':
        return { kind: 'spki', spki: checkSpki(der) };
      case 'RSA PUBLIC KEY':
        return { kind: 'spki', spki: spkiFromPkcs1(der) };
      case 'PRIVATE KEY':
        return { kind: 'pkcs8', pkcs8: der, owned: true };
      case 'RSA PRIVATE KEY':
        try {
          return { kind: 'pkcs8', pkcs8: pkcs8FromPkcs1(der), owned: true };
        } finally {
          der.fill(0);
        }
      default:
        throw new TypeError(`RSA key: unsupported PEM label "${label}"`);
    }
  }
  if (input instanceof Uint8Array) {
    if (type === 'private') return { kind: 'pkcs8', pkcs8: input, owned: false };
    try {
      return { kind: 'spki', spki: checkSpki(input) };
    } catch {
      return { kind: 'pkcs8', pkcs8: input, owned: false }; // derive the public key
    }
  }
  if (isCryptoKey(input)) return { kind: 'cryptokey', key: input };
  if (typeof input === 'object' && input !== null && (input as JsonWebKey).kty === 'RSA') return { kind: 'jwk', jwk: input as JsonWebKey };
  throw new TypeError('RSA key: expected a PEM string, DER bytes, an RSA JWK or a CryptoKey');
}

const unsupported = (why: string): EnsealError => new EnsealError('ERR_UNSUPPORTED', why);

/**
 * Imports RSA key material for the WebCrypto backend.
 * @param subtle - `crypto.subtle`
 * @param input - PEM, DER, JWK or `CryptoKey`
 * @param type - the kind of handle wanted; `'public'` from private material derives it
 * @returns the state behind one {@link RsaKey} handle
 * @throws TypeError for material that is not an RSA key of the wanted kind
 * @throws EnsealError `ERR_UNSUPPORTED` for a `CryptoKey` this backend cannot use as asked
 * @example
 * ```ts
 * const state = await importWebRsa(crypto.subtle, pem, 'private');
 * const k = await state.privateKey('SHA-256');
 * ```
 */
export async function importWebRsa(subtle: SubtleCrypto, input: RsaKeyInput, type: 'public' | 'private'): Promise<WebRsaState> {
  const src = classify(input, type);
  const pub = new Map<RsaOaepHash, CryptoKey>();
  const priv = new Map<RsaOaepHash, CryptoKey>();
  let spki: Bytes | undefined;
  let missing = 'this key';

  const importEach = async (into: Map<RsaOaepHash, CryptoKey>, format: 'spki' | 'pkcs8' | 'jwk', data: Uint8Array | JsonWebKey, usage: KeyUsage): Promise<void> => {
    for (const hash of HASHES) {
      const params: RsaHashedImportParams = { name: 'RSA-OAEP', hash };
      try {
        const k = format === 'jwk'
          ? await subtle.importKey('jwk', data as JsonWebKey, params, usage === 'encrypt', [usage])
          : await subtle.importKey(format, asBufferSource(data as Uint8Array), params, usage === 'encrypt', [usage]);
        into.set(hash, k);
      } catch (cause) {
        throw new TypeError(`RSA key: WebCrypto refused the ${usage === 'encrypt' ? 'public' : 'private'} key`, { cause });
      }
    }
  };
  const fromSpki = async (der: Uint8Array): Promise<void> => {
    await importEach(pub, 'spki', der, 'encrypt');
    spki = new Uint8Array(await subtle.exportKey('spki', pub.get('SHA-256')!)); // canonical DER
  };
  const fromJwk = async (jwk: JsonWebKey): Promise<void> => {
    if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') throw new TypeError('RSA key: JWK lacks "n" or "e"');
    await importEach(pub, 'jwk', { kty: 'RSA', n: jwk.n, e: jwk.e, ext: true }, 'encrypt');
    spki = new Uint8Array(await subtle.exportKey('spki', pub.get('SHA-256')!));
    if (type === 'private') {
      if (typeof jwk.d !== 'string') throw new TypeError('RSA key: expected a private key, got a public JWK');
      const { alg: _alg, key_ops: _ops, use: _use, ext: _ext, ...material } = jwk;
      await importEach(priv, 'jwk', material, 'decrypt');
    }
  };

  switch (src.kind) {
    case 'spki':
      if (type === 'private') throw new TypeError('RSA key: expected a private key, got a public key');
      await fromSpki(src.spki);
      break;
    case 'pkcs8':
      try {
        await fromSpki(spkiFromPrivatePkcs1(pkcs1FromPkcs8(src.pkcs8)));
        if (type === 'private') await importEach(priv, 'pkcs8', src.pkcs8, 'decrypt');
      } finally {
        if (src.owned) src.pkcs8.fill(0);
      }
      break;
    case 'jwk':
      await fromJwk(src.jwk);
      break;
    case 'cryptokey': {
      const key = src.key;
      if (!RSA_ALGORITHMS.has(key.algorithm.name)) throw new TypeError(`RSA key: expected an RSA CryptoKey, got ${key.algorithm.name}`);
      if (type === 'private' && key.type !== 'private') throw new TypeError('RSA key: expected a private key, got a public key');
      if (key.extractable) {
        // Re-import from its own material, so that it serves both OAEP hashes. A private key is
        // exported as PKCS#8 bytes (which are wiped), not as JWK strings (which cannot be).
        if (key.type === 'public') {
          await fromSpki(new Uint8Array(await subtle.exportKey('spki', key)));
          break;
        }
        const pkcs8 = new Uint8Array(await subtle.exportKey('pkcs8', key));
        try {
          await fromSpki(spkiFromPrivatePkcs1(pkcs1FromPkcs8(pkcs8)));
          if (type === 'private') await importEach(priv, 'pkcs8', pkcs8, 'decrypt');
        } finally {
          pkcs8.fill(0);
        }
        break;
      }
      const hash = (key.algorithm as RsaHashedKeyAlgorithm).hash?.name as RsaOaepHash;
      const usable = key.algorithm.name === 'RSA-OAEP' && HASHES.includes(hash);
      missing = `this non-extractable ${key.algorithm.name} CryptoKey${usable ? ` (bound to ${hash})` : ''}`;
      if (key.type === 'private') {
        if (type === 'public') throw unsupported('the public key of a non-extractable private CryptoKey cannot be derived; pass the public key');
        if (usable && key.usages.includes('decrypt')) priv.set(hash, key);
      } else if (usable && key.usages.includes('encrypt')) {
        pub.set(hash, key);
      }
      break;
    }
  }

  const any = pub.values().next().value ?? priv.values().next().value ?? (src.kind === 'cryptokey' ? src.key : undefined);
  const modulusLengthInBits = (any?.algorithm as RsaHashedKeyAlgorithm | undefined)?.modulusLength ?? 0;
  const pick = (m: Map<RsaOaepHash, CryptoKey>, hash: RsaOaepHash, use: string): Promise<CryptoKey> => {
    const k = m.get(hash);
    return k !== undefined ? Promise.resolve(k) : Promise.reject(unsupported(`${missing} cannot ${use} with RSA-OAEP ${hash} in WebCrypto`));
  };
  return {
    modulusLengthInBits,
    spki,
    publicKey: (hash) => pick(pub, hash, 'encrypt'),
    privateKey: (hash) => pick(priv, hash, 'decrypt'),
  };
}
