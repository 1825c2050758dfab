/**
 * enseal's SHA-2 WebAssembly module (wasm/sha2.ts through src/backends/wasm-sha2.ts), the
 * keyed HMAC of the node and webcrypto backends: HMAC-SHA-256/384/512 and one-call HKDF-Expand
 * against node:crypto over lengths around every block and window boundary, and its hygiene —
 * after each call nothing but the public constants is left in the module's memory, and a keyed
 * HMAC's states (in a slot, or in JS once every slot is taken) are zeroed by `dispose()`.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hkdfExpandSync } from '../src/backends/hkdf.js';
import { wasmSha2Hmac, wasmSha2Memory } from '../src/backends/wasm-sha2.js';
import type { KeyedHmac } from '../src/backends/sync.js';
import { expectCode, pseudoRandom, toHex } from './helpers.js';

const HASHES = [
  ['SHA-256', 'sha256', 32, 64],
  ['SHA-384', 'sha384', 48, 128],
  ['SHA-512', 'sha512', 64, 128],
] as const;
/** Where the module's fixed layout starts (wasm/sha2.ts KEYS): below it, only constants. */
const LAYOUT = 8192;
const WINDOW = 65536;

const sha2 = wasmSha2Hmac();
const memory = wasmSha2Memory();
const clean = (): boolean => memory!.subarray(LAYOUT).every((b) => b === 0);

/** RFC 5869 §2.3 with node:crypto's HMAC. */
function expandRef(alg: string, prk: Uint8Array, info: Uint8Array, length: number): string {
  let t = Buffer.alloc(0);
  const out: Buffer[] = [];
  for (let i = 1; Buffer.concat(out).length < length; i++) {
    t = createHmac(alg, prk).update(Buffer.concat([t, info, Buffer.of(i)])).digest();
    out.push(t);
  }
  return Buffer.concat(out).subarray(0, length).toString('hex');
}

describe('SHA-2 module', () => {
  it('runs here', () => {
    expect(sha2).toBeTypeOf('function');
    expect(memory).toBeInstanceOf(Uint8Array);
  });

  it('HMAC agrees with node:crypto around every block, padding and window boundary, and leaves the memory clean', () => {
    for (const [name, alg, , block] of HASHES) {
      for (const kl of [0, 1, 32, block - 1, block, block + 1, 300, WINDOW + 5]) {
        const key = pseudoRandom(kl, kl + 3);
        const mac = sha2!(name, key);
        expect(clean(), `${name} key ${kl}: nothing left after keying but the slot`).toBe(false); // the states are in a slot
        for (const dl of [0, 1, block - 17, block - 16, block - 9, block - 8, block - 1, block, block + 1, 2 * block + 5, 1000, WINDOW, WINDOW + 1, 2 * WINDOW + 3]) {
          const data = pseudoRandom(dl, dl + 11);
          expect(toHex(mac.mac(data)), `${name} key ${kl} data ${dl}`).toBe(createHmac(alg, key).update(data).digest('hex'));
        }
        mac.dispose();
        expect(clean(), `${name} key ${kl}: memory after dispose`).toBe(true);
      }
    }
  });

  it('HKDF-Expand in one call agrees with RFC 5869 (node:crypto HMAC), also through the per-block fallback', () => {
    for (const [name, alg, hl] of HASHES) {
      const prk = pseudoRandom(hl, hl);
      const keyed = sha2!(name, prk);
      for (const il of [0, 20, 82, 300]) {
        const info = pseudoRandom(il, il + 5);
        for (const length of [1, 32, hl - 1, hl, hl + 1, 76, 200, 255 * hl]) {
          const want = expandRef(alg, prk, info, length);
          expect(toHex(keyed.expand!(info, length)!), `${name} info ${il} length ${length}`).toBe(want);
          expect(toHex(hkdfExpandSync(keyed, hl, info, length)), `${name} via hkdfExpandSync`).toBe(want);
        }
      }
      // An info string too long for the window: expand declines, hkdfExpandSync runs one MAC per block.
      const long = pseudoRandom(WINDOW, 9);
      expect(keyed.expand!(long, 100)).toBeUndefined();
      expect(toHex(hkdfExpandSync(keyed, hl, long, 100))).toBe(expandRef(alg, prk, long, 100));
      keyed.dispose();
      expect(clean()).toBe(true);
    }
  });

  it('expandWith hands the RFC 5869 output to its callback as a view wiped after it returns or throws; declines a too-long info', () => {
    for (const [name, alg, hl] of HASHES) {
      const prk = pseudoRandom(hl, hl + 1);
      const keyed = sha2!(name, prk);
      for (const [il, length] of [[0, 1], [82, 76], [20, 32], [300, 255 * hl]] as const) {
        const info = pseudoRandom(il, il + 2);
        let seen: Uint8Array | undefined;
        const got = keyed.expandWith!(info, length, (okm) => {
          seen = okm;
          return toHex(okm);
        });
        expect(got, `${name} info ${il} length ${length}`).toBe(expandRef(alg, prk, info, length));
        expect(seen!.every((b) => b === 0), 'the view is zeroed once the callback returned').toBe(true);
      }
      const boom = new Error('boom');
      expect(() =>
        keyed.expandWith!(pseudoRandom(10, 1), 40, () => {
          throw boom;
        }),
      ).toThrow(boom);
      let called = false;
      expect(keyed.expandWith!(pseudoRandom(WINDOW, 9), 100, () => (called = true))).toBeUndefined();
      expect(called).toBe(false);
      keyed.dispose();
      expect(clean(), `${name}: memory after a throwing callback and dispose`).toBe(true);
      expect(() => keyed.expandWith!(new Uint8Array(3), 10, () => 1)).toThrow(/disposed/);
    }
  });

  it('more live keys than slots: the rest keep their states in JS, all correct, all wiped by dispose', () => {
    const keys: KeyedHmac[] = [];
    for (let i = 0; i < 70; i++) keys.push(sha2!('SHA-512', pseudoRandom(32, 100 + i)));
    const data = pseudoRandom(150, 1);
    keys.forEach((k, i) => expect(toHex(k.mac(data)), `key ${i}`).toBe(createHmac('sha512', pseudoRandom(32, 100 + i)).update(data).digest('hex')));
    for (const k of keys) k.dispose();
    expect(clean()).toBe(true);
    // Freed slots are reused.
    const again = sha2!('SHA-256', pseudoRandom(16, 7));
    expect(toHex(again.mac(data))).toBe(createHmac('sha256', pseudoRandom(16, 7)).update(data).digest('hex'));
    again.dispose();
    expect(clean()).toBe(true);
  });

  it('a disposed key: mac and expand throw ERR_STATE; dispose is idempotent', async () => {
    const k = sha2!('SHA-512', pseudoRandom(32, 3));
    k.dispose();
    k.dispose();
    await expectCode(Promise.resolve().then(() => k.mac(new Uint8Array(3))), 'ERR_STATE');
    await expectCode(Promise.resolve().then(() => k.expand!(new Uint8Array(3), 10)), 'ERR_STATE');
    expect(() => sha2!('MD5' as never, new Uint8Array(1))).toThrow(TypeError);
  });
});
