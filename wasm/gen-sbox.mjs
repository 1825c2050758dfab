// Generates wasm/sbox.ts: one bitsliced AES round around an S-box circuit (AND/XOR/NOT only, no tables, no
// branches) by the tower-field method (Satoh et al., Canright): GF(2^8) is mapped linearly to
// GF(16)[Y]/(Y^2 + Y + λ), GF(16) = GF(2)[w]/(w^4 + w + 1); there
//   (aY + b)^-1 = (a·d)Y + (a + b)·d,  d = (λa^2 + ab + b^2)^-1,
// and the GF(16) inverse is written in algebraic normal form. The field isomorphism and the output
// map (inverse isomorphism followed by the FIPS-197 §5.1.1 affine map) are computed here, and
// the whole circuit is checked against the S-box for all 256 inputs before anything is written.
// Run: node wasm/gen-sbox.mjs  (the output is committed; re-run only to change the circuit).
import { writeFileSync } from 'node:fs';

const gmul8 = (a, b) => { let r = 0; for (; b; b >>= 1, a = (a << 1) ^ (a & 0x80 ? 0x11b : 0)) if (b & 1) r ^= a; return r; };
const gmul4 = (a, b) => { let r = 0; for (; b; b >>= 1, a = (a << 1) ^ (a & 0x8 ? 0x13 : 0)) if (b & 1) r ^= a; return r & 0xf; };
const inv4 = (a) => { for (let x = 1; x < 16; x++) if (gmul4(a, x) === 1) return x; return 0; };
const inv8 = (a) => { for (let x = 1; x < 256; x++) if (gmul8(a, x) === 1) return x; return 0; };
const rotl8 = (x, n) => ((x << n) | (x >> (8 - n))) & 0xff;
const SBOX = Array.from({ length: 256 }, (_, x) => { const q = inv8(x); return q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63; });

// λ such that Y^2 + Y + λ has no root in GF(16).
let lambda = -1;
for (let l = 1; l < 16 && lambda < 0; l++) if (![...Array(16).keys()].some((y) => (gmul4(y, y) ^ y ^ l) === 0)) lambda = l;
// Elements of the tower field as a·16 + b (a·Y + b).
const tmul = (x, y) => {
  const [a1, b1, a2, b2] = [x >> 4, x & 15, y >> 4, y & 15];
  const aa = gmul4(a1, a2);
  return ((aa ^ gmul4(a1, b2) ^ gmul4(a2, b1)) << 4) | (gmul4(b1, b2) ^ gmul4(lambda, aa));
};
const tpow = (x, n) => { let r = 1; for (let i = 0; i < n; i++) r = tmul(r, x); return r; };
// β: a root of the AES polynomial t^8 + t^4 + t^3 + t + 1 in the tower field.
let beta = -1;
for (let t = 2; t < 256 && beta < 0; t++) if ((tpow(t, 8) ^ tpow(t, 4) ^ tpow(t, 3) ^ t ^ 1) === 0) beta = t;
const M = Array.from({ length: 8 }, (_, i) => tpow(beta, i)); // column i = φ(x^i)
const apply = (cols, v) => { let r = 0; for (let i = 0; i < 8; i++) if ((v >> i) & 1) r ^= cols[i]; return r; };
const phi = (v) => apply(M, v);
for (let x = 0; x < 256; x++) for (const y of [3, 0x53, 0xca]) if (phi(gmul8(x, y)) !== tmul(phi(x), phi(y))) throw new Error('not an isomorphism');
const phiInv = Array(256); for (let v = 0; v < 256; v++) phiInv[phi(v)] = v;
// Output map O(u) = affine-linear(φ^-1(u)); its columns:
const affineLin = (q) => q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4);
const O = Array.from({ length: 8 }, (_, i) => affineLin(phiInv[1 << i]));
const Lam = Array.from({ length: 4 }, (_, i) => gmul4(lambda, gmul4(1 << i, 1 << i))); // a → λa² columns
// ANF of the GF(16) inverse, one polynomial per output bit (monomials as 4-bit masks).
const anf = [0, 1, 2, 3].map((bit) => {
  const f = Array.from({ length: 16 }, (_, x) => (inv4(x) >> bit) & 1);
  for (let i = 0; i < 4; i++) for (let x = 0; x < 16; x++) if (x & (1 << i)) f[x] ^= f[x ^ (1 << i)];
  return [...Array(16).keys()].filter((m) => f[m]);
});

// ---- circuit as a list of operations on named wires ------------------------------------------
const ops = []; // [dst, op, a, b]
let n = 0;
const wire = () => `t${n++}`;
const xor = (a, b) => { if (a === '0') return b; if (b === '0') return a; const d = wire(); ops.push([d, 'xor', a, b]); return d; };
const and = (a, b) => { const d = wire(); ops.push([d, 'and', a, b]); return d; };
const not = (a) => { const d = wire(); ops.push([d, 'not', a]); return d; };
const xorAll = (ws) => ws.reduce((acc, w) => xor(acc, w), '0');
const linear = (cols, inp, outBits) => Array.from({ length: outBits }, (_, j) => xorAll(inp.filter((_, i) => (cols[i] >> j) & 1)));
const mul4 = (a, b) => {
  const p = Array.from({ length: 7 }, () => []);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) p[i + j].push(and(a[i], b[j]));
  const q = p.map(xorAll);
  return [xor(q[0], q[4]), xorAll([q[1], q[4], q[5]]), xorAll([q[2], q[5], q[6]]), xor(q[3], q[6])]; // w^4 = w + 1
};
const sq4 = (a) => [xor(a[0], a[2]), a[2], xor(a[1], a[3]), a[3]];
const inv4c = (a) => {
  const mono = new Map([[0, null]]);
  const get = (m) => {
    if (mono.has(m) && mono.get(m) !== null) return mono.get(m);
    const bits = [0, 1, 2, 3].filter((i) => m & (1 << i));
    const w = bits.length === 1 ? a[bits[0]] : and(get(m & ~(1 << bits.at(-1))), a[bits.at(-1)]);
    mono.set(m, w);
    return w;
  };
  return anf.map((ms) => { if (ms.includes(0)) throw new Error('constant term'); return xorAll(ms.map(get)); });
};
const x = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `x${i}`);
const u = linear(M, x, 8);
const b = u.slice(0, 4), a = u.slice(4, 8);
const [la2, ab, b2] = [linear(Lam, a, 4), mul4(a, b), sq4(b)];
const delta = [0, 1, 2, 3].map((i) => xorAll([la2[i], ab[i], b2[i]]));
const d = inv4c(delta);
const outA = mul4(a, d);
const outB = mul4([0, 1, 2, 3].map((i) => xor(a[i], b[i])), d);
const v = [...outB, ...outA];
const outs = linear(O, v, 8).map((w, j) => ((0x63 >> j) & 1 ? not(w) : w));

// ---- check on all 256 inputs (each wire a 256-bit integer: bit x = value for input x) --------
const val = new Map();
for (let i = 0; i < 8; i++) { let m = 0n; for (let z = 0; z < 256; z++) if ((z >> i) & 1) m |= 1n << BigInt(z); val.set(`x${i}`, m); }
const ALL = (1n << 256n) - 1n;
for (const [dst, op, p, q] of ops) val.set(dst, op === 'xor' ? val.get(p) ^ val.get(q) : op === 'and' ? val.get(p) & val.get(q) : ALL ^ val.get(p));
for (let z = 0; z < 256; z++) {
  let y = 0;
  for (let j = 0; j < 8; j++) if ((val.get(outs[j]) >> BigInt(z)) & 1n) y |= 1 << j;
  if (y !== SBOX[z]) throw new Error(`S(${z}) = ${y}, expected ${SBOX[z]}`);
}
const count = (o) => ops.filter((e) => e[1] === o).length;
const lines = ops.map(([dst, op, p, q]) => (op === 'not' ? `  const ${dst} = v128.not(${p});` : `  const ${dst} = v128.${op}(${p}, ${q});`));
// One AES round on the planes, all in locals: SubBytes (the circuit), ShiftRows, MixColumns
// (unless `mix` is false: the last round), AddRoundKey with the plane-form round key at k.
const linearText = `
  let s0 = sr(${outs[0]}), s1 = sr(${outs[1]}), s2 = sr(${outs[2]}), s3 = sr(${outs[3]});
  let s4 = sr(${outs[4]}), s5 = sr(${outs[5]}), s6 = sr(${outs[6]}), s7 = sr(${outs[7]});
  if (mix) {
    // out = x ⊕ t ⊕ xtime(b), b = x ⊕ rot1(x), t = b ⊕ rot2(b) (FIPS-197 §5.1.3); xtime on planes:
    // bit j ← bit j−1, and bit 7 goes into bits 0, 1, 3, 4 (0x1b).
    const b0 = v128.xor(s0, rot1(s0)), b1 = v128.xor(s1, rot1(s1)), b2 = v128.xor(s2, rot1(s2)), b3 = v128.xor(s3, rot1(s3));
    const b4 = v128.xor(s4, rot1(s4)), b5 = v128.xor(s5, rot1(s5)), b6 = v128.xor(s6, rot1(s6)), b7 = v128.xor(s7, rot1(s7));
    s0 = v128.xor(v128.xor(s0, v128.xor(b0, rot2(b0))), b7);
    s1 = v128.xor(v128.xor(s1, v128.xor(b1, rot2(b1))), v128.xor(b0, b7));
    s2 = v128.xor(v128.xor(s2, v128.xor(b2, rot2(b2))), b1);
    s3 = v128.xor(v128.xor(s3, v128.xor(b3, rot2(b3))), v128.xor(b2, b7));
    s4 = v128.xor(v128.xor(s4, v128.xor(b4, rot2(b4))), v128.xor(b3, b7));
    s5 = v128.xor(v128.xor(s5, v128.xor(b5, rot2(b5))), b4);
    s6 = v128.xor(v128.xor(s6, v128.xor(b6, rot2(b6))), b5);
    s7 = v128.xor(v128.xor(s7, v128.xor(b7, rot2(b7))), b6);
  }
  v128.store(PLANES, v128.xor(s0, v128.load(k, 0)), 0);
  v128.store(PLANES, v128.xor(s1, v128.load(k, 16)), 16);
  v128.store(PLANES, v128.xor(s2, v128.load(k, 32)), 32);
  v128.store(PLANES, v128.xor(s3, v128.load(k, 48)), 48);
  v128.store(PLANES, v128.xor(s4, v128.load(k, 64)), 64);
  v128.store(PLANES, v128.xor(s5, v128.load(k, 80)), 80);
  v128.store(PLANES, v128.xor(s6, v128.load(k, 96)), 96);
  v128.store(PLANES, v128.xor(s7, v128.load(k, 112)), 112);
`;
const helpers = `
// FIPS-197 §5.1.2 ShiftRows and the column rotations of MixColumns, as byte shuffles of a plane.
@inline function sr(x: v128): v128 {
  return i8x16.shuffle(x, x, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
}
@inline function rot1(x: v128): v128 {
  return i8x16.shuffle(x, x, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
}
@inline function rot2(x: v128): v128 {
  return i8x16.shuffle(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
}
`;
writeFileSync(
  new URL('./sbox.ts', import.meta.url),
  `// Generated by wasm/gen-sbox.mjs (tower field, λ = ${lambda}, β = 0x${beta.toString(16)}); do not edit.\n` +
    `// The AES S-box as a Boolean circuit of ${count('and')} AND, ${count('xor')} XOR and ${count('not')} NOT on bit planes: plane j holds\n` +
    `// bit j of 128 state bytes, so one call substitutes 128 bytes with no table and no branch.\n` +
    `// Checked against FIPS-197's S-box for all 256 inputs by the generator.\n\n` +
    `import { PLANES } from './layout';\n` + helpers + `\n` +
    `/** One round on the 8 planes at PLANES, in place: SubBytes, ShiftRows, MixColumns (if \`mix\`), AddRoundKey (planes at k). */\n` +
    `export function roundPlanes(k: usize, mix: bool): void {\n` +
    x.map((w, i) => `  const ${w} = v128.load(PLANES, ${16 * i});`).join('\n') + '\n' +
    lines.join('\n') + '\n' + linearText + '}\n',
);
console.log(`sbox.ts: λ=${lambda} β=0x${beta.toString(16)} AND ${count('and')} XOR ${count('xor')} NOT ${count('not')}`);
