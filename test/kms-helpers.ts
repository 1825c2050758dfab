/**
 * Helpers for the KMS tests: a local `node:http` server with fault injection, an in-memory
 * AES-256-GCM keyring for the fake KMSs (written with node:crypto, independently of enseal's
 * backends), a recording sleep, a scan of errors for secrets, and objects with forged stanzas.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { inspect } from 'node:util';
import { expect } from 'vitest';
import { encrypt, type Stanza } from '../src/index.js';

/** A request as the fake KMS sees it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** What a handler answers. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Faults a test can queue; each is consumed by one request. */
export type Fault = 'throttle' | 'server-error' | 'hang' | 'deny' | 'disabled';

/** A local HTTP server standing in for a KMS. */
export class FakeKms {
  readonly faults: Fault[] = [];
  /** Fault applied to every request while set (after the queue is empty). */
  always: Fault | undefined;
  requests = 0;
  readonly seen: SeenRequest[] = [];
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(
    readonly handle: (req: SeenRequest) => Reply | Promise<Reply>,
    readonly faultReply: (fault: Exclude<Fault, 'hang'>) => Reply,
  ) {}

  get url(): string {
    const a = this.#server!.address() as AddressInfo;
    return `http://127.0.0.1:${a.port}`;
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#serve(req, res));
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    return this;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const seen: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    this.requests++;
    this.seen.push(seen);
    const fault = this.faults.shift() ?? this.always;
    if (fault === 'hang') return; // never answer; the socket is destroyed on close()
    let reply: Reply;
    try {
      reply = fault !== undefined ? this.faultReply(fault) : await this.handle(seen);
    } catch (e) {
      reply = { status: 500, body: { error: String(e) } };
    }
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(text);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server?.close(() => r()) ?? r());
  }
}

/** A port on which nothing listens (bound, then closed). */
export async function refusedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** AES-256-GCM under in-memory keys, as a fake KMS holds them. Blob: nonce || ct || tag. */
export class Keyring {
  readonly #keys = new Map<string, Buffer>();

  key(id: string): Buffer {
    let k = this.#keys.get(id);
    if (k === undefined) {
      k = randomBytes(32);
      this.#keys.set(id, k);
    }
    return k;
  }

  seal(id: string, plaintext: Uint8Array, aad: string): Buffer {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key(id), nonce);
    c.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([nonce, ct, c.getAuthTag()]);
  }

  /** Returns the plaintext, or undefined when authentication fails. */
  open(id: string, blob: Uint8Array, aad: string): Buffer | undefined {
    if (blob.length < 28) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key(id), blob.subarray(0, 12));
      d.setAAD(Buffer.from(aad, 'utf8'));
      d.setAuthTag(blob.subarray(blob.length - 16));
      return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
    } catch {
      return undefined;
    }
  }
}

/** JSON with sorted keys (the fake KMSs' canonical form of an encryption context). */
export function sortedJson(o: Record<string, string> | undefined): string {
  return JSON.stringify(Object.fromEntries(Object.entries(o ?? {}).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))));
}

/** A sleep that records its delays and returns at once. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

/** Everything an error exposes (message, stack, causes, aggregated errors), as text. */
export function errorText(e: unknown): string {
  return inspect(e, { depth: 20, showHidden: false }) + String((e as Error)?.message);
}

/** Asserts no secret appears anywhere in the errors. */
export function expectNoSecrets(errors: readonly unknown[], secrets: readonly string[]): void {
  expect(errors.length).toBeGreaterThan(0);
  for (const e of errors) {
    const text = errorText(e);
    for (const s of secrets) expect(text.includes(s), `secret leaked in: ${text.slice(0, 300)}`).toBe(false);
  }
}

/** Hex and base64 forms of bytes, for secret scans. */
export function forms(b: Uint8Array): string[] {
  const buf = Buffer.from(b);
  return [buf.toString('hex'), buf.toString('base64'), buf.toString('base64url')];
}

/**
 * An object whose only recipient is `stanza`, as an attacker who edits headers can make: the
 * header MAC is checked only after a provider unwrapped the data key, so a forged stanza (another
 * key id, rewritten params) reaches the providers, and the test sees what they do with it.
 */
export function forgedObject(plaintext: Uint8Array, stanza: Stanza, context: Record<string, string>): Promise<Uint8Array> {
  return encrypt(plaintext, { recipients: [{ description: 'forger', wrap: async () => stanza, unwrap: async () => null }], context });
}
