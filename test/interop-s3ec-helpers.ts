/**
 * Helpers for the S3EC interop tests: a local AWS KMS stand-in (the KMS JSON protocol of
 * `awsKms`, on 127.0.0.1, over the FakeKms server and the node:crypto Keyring of the KMS tests)
 * that records every encryption context it was sent, and independent node:crypto builders of
 * S3EC objects (written from the documented algorithm, not with enseal code).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { awsKms } from '../src/kms.js';
import type { KmsClient } from '../src/keys/kms.js';
import { FakeKms, Keyring, sortedJson, type Reply, type SeenRequest } from './kms-helpers.js';

export const REGION = 'us-east-1';
export const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const OTHER_KEY_ID = '0987dcba-09fe-87dc-65ba-ab0987654321';
export const arn = (id: string): string => `arn:aws:kms:${REGION}:111122223333:key/${id}`;
const CREDS = { accessKeyId: 'AKIAFAKES3ECTEST0001', secretAccessKey: 'fake/Secret+Key0123456789abcdefghijS3EC' };

/** A fake AWS KMS: blob = 01 ‖ len ‖ key id ‖ AES-GCM(key, plaintext, aad = id|sortedJson(EC)). */
export class FakeAwsKms {
  readonly ring = new Keyring();
  /** Every (operation, EncryptionContext) the KMS was sent. */
  readonly contexts: { op: string; context: Record<string, string> }[] = [];
  readonly server: FakeKms;

  constructor() {
    this.server = new FakeKms(this.handle, () => ({ status: 500, body: { __type: 'KMSInternalException' } }));
  }

  seal(id: string, plaintext: Uint8Array, ctx: Record<string, string>): string {
    const idb = Buffer.from(id);
    return Buffer.concat([Buffer.of(1, idb.length), idb, this.ring.seal(id, plaintext, `${id}|${sortedJson(ctx)}`)]).toString('base64');
  }

  /** Independent decryption of a blob, for the known-answer tests. */
  open(blob: Uint8Array, ctx: Record<string, string>): Buffer | undefined {
    const b = Buffer.from(blob);
    const id = b.subarray(2, 2 + b[1]!).toString();
    return this.ring.open(id, b.subarray(2 + b[1]!), `${id}|${sortedJson(ctx)}`);
  }

  handle = (req: SeenRequest): Reply => {
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) return { status: 400, body: { __type: 'IncompleteSignatureException' } };
    const body = JSON.parse(req.body) as Record<string, any>;
    const target = String(req.headers['x-amz-target']);
    const err = (type: string): Reply => ({ status: 400, body: { __type: `com.amazonaws.kms#${type}`, message: type } });
    const idOf = (k: unknown): string | undefined => {
      const s = String(k);
      const m = /^arn:aws:kms:us-east-1:111122223333:key\/(.+)$/.exec(s);
      const id = m === null ? s : m[1]!;
      return id === KEY_ID || id === OTHER_KEY_ID ? id : undefined;
    };
    this.contexts.push({ op: target, context: body.EncryptionContext ?? {} });
    if (target === 'TrentService.Decrypt') {
      const blob = Buffer.from(String(body.CiphertextBlob), 'base64');
      if (blob[0] !== 1 || blob.length < 3) return err('InvalidCiphertextException');
      const id = blob.subarray(2, 2 + blob[1]!).toString();
      if (body.KeyId !== undefined && idOf(body.KeyId) !== id) return err('IncorrectKeyException');
      const pt = this.ring.open(id, blob.subarray(2 + blob[1]!), `${id}|${sortedJson(body.EncryptionContext)}`);
      if (pt === undefined) return err('InvalidCiphertextException');
      return { status: 200, body: { KeyId: arn(id), Plaintext: pt.toString('base64') } };
    }
    const id = idOf(body.KeyId);
    if (id === undefined) return err('NotFoundException');
    if (target === 'TrentService.DescribeKey') return { status: 200, body: { KeyMetadata: { KeyId: id, Arn: arn(id), KeyState: 'Enabled' } } };
    if (target === 'TrentService.Encrypt') {
      const pt = Buffer.from(String(body.Plaintext), 'base64');
      return { status: 200, body: { KeyId: arn(id), CiphertextBlob: this.seal(id, pt, body.EncryptionContext ?? {}) } };
    }
    if (target === 'TrentService.GenerateDataKey') {
      const pt = randomBytes(32);
      return { status: 200, body: { KeyId: arn(id), Plaintext: pt.toString('base64'), CiphertextBlob: this.seal(id, pt, body.EncryptionContext ?? {}) } };
    }
    return err('UnknownOperationException');
  };

  client(): KmsClient {
    return awsKms({ region: REGION, credentials: CREDS, endpoint: this.server.url, allowInsecureHttp: true, retries: 0 });
  }
}

export const SUITE = Buffer.of(0x00, 0x73);

/** HKDF-SHA-512 as the S3EC key-derivation spec says, with node:crypto's hkdfSync. */
export function nodeDeriveV3(dataKey: Uint8Array, messageId: Uint8Array): { key: Buffer; commitment: Buffer } {
  const key = Buffer.from(hkdfSync('sha512', dataKey, messageId, Buffer.concat([SUITE, Buffer.from('DERIVEKEY')]), 32));
  const commitment = Buffer.from(hkdfSync('sha512', dataKey, messageId, Buffer.concat([SUITE, Buffer.from('COMMITKEY')]), 28));
  return { key, commitment };
}

/** AES-256-GCM with node:crypto: ciphertext ‖ tag. */
export function nodeGcmSeal(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-gcm', key, iv);
  if (aad !== undefined) c.setAAD(aad);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** AES-256-GCM open with node:crypto (throws on a bad tag). */
export function nodeGcmOpen(key: Uint8Array, iv: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, iv);
  if (aad !== undefined) d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
}

/** The S3EC AES keyring's EDK: nonce ‖ GCM(wrap key, data key, AAD = cek string) ‖ tag. */
export function nodeAesGcmEdk(wrapKey: Uint8Array, dataKey: Uint8Array, aad: string): Buffer {
  const nonce = randomBytes(12);
  return Buffer.concat([nonce, nodeGcmSeal(wrapKey, nonce, dataKey, Buffer.from(aad))]);
}

/** Reads a whole web stream. */
export async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of s as unknown as AsyncIterable<Uint8Array>) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}
