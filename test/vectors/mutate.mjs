// The mutations negative enseal-v1 vectors apply to a positive vector's ciphertext.
/**
 * @param {Uint8Array} ct - ciphertext (not modified)
 * @param {{op: string, byte?: number, bit?: number, length?: number, hex?: string, a?: number, b?: number}} m
 * @returns {Buffer} the mutated copy
 */
export function mutate(ct, m) {
  const b = Buffer.from(ct);
  switch (m.op) {
    case 'flip':
      b[m.byte] ^= 1 << m.bit;
      return b;
    case 'truncate':
      return b.subarray(0, m.length);
    case 'append':
      return Buffer.concat([b, Buffer.from(m.hex, 'hex')]);
    case 'swap': {
      const a = Buffer.from(b.subarray(m.a, m.a + m.length));
      b.copy(b, m.a, m.b, m.b + m.length);
      a.copy(b, m.b);
      return b;
    }
  }
  throw new Error(`unknown mutation ${m.op}`);
}
