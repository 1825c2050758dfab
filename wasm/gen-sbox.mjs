// Generates wasm/sbox.ts: one bitsliced AES round around an S-box circuit (AND/XOR only, no tables, no
// branches): the 113-gate straight-line program of Boyar and Peralta ("A new combinational logic
// minimization technique with applications to cryptology", SEA 2010, ePrint 2009/191; the same
// program BearSSL's aes_ct uses): 23 XOR of a top linear map, 32 AND and 30 XOR in GF(2^4)
// inversion, 30 XOR of a bottom linear map. Its 4 XNOR (the affine constant 0x63, bits 0, 1, 5
// and 6) are left out here: S(x) ⊕ 0x63 is computed, and the constant is folded into the round
// keys (aes8.ts expandPlanes), since ShiftRows permutes bytes and MixColumns maps a column of equal
// bytes c to itself (2 ⊕ 3 ⊕ 1 ⊕ 1 = 1), so 0x63 in every byte passes both unchanged.
// The circuit is checked against FIPS-197's S-box for all 256 inputs before anything is written.
// Run: node wasm/gen-sbox.mjs  (the output is committed; re-run only to change the circuit).
// With --check it writes nothing and fails unless wasm/sbox.ts is exactly its output (a test runs that).
import { readFileSync, writeFileSync } from 'node:fs';

const gmul8 = (a, b) => { let r = 0; for (; b; b >>= 1, a = (a << 1) ^ (a & 0x80 ? 0x11b : 0)) if (b & 1) r ^= a; return r; };
const inv8 = (a) => { for (let x = 1; x < 256; x++) if (gmul8(a, x) === 1) return x; return 0; };
const rotl8 = (x, n) => ((x << n) | (x >> (8 - n))) & 0xff;
const SBOX = Array.from({ length: 256 }, (_, x) => { const q = inv8(x); return q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63; });

// The program, in the paper's naming: inputs u0 (most significant bit) … u7, outputs s0 … s7
// likewise; u_i is plane 7 − i, and s_i goes to plane 7 − i.
const PROGRAM = `
y14 = u3 ^ u5
y13 = u0 ^ u6
y9 = u0 ^ u3
y8 = u0 ^ u5
t0 = u1 ^ u2
y1 = t0 ^ u7
y4 = y1 ^ u3
y12 = y13 ^ y14
y2 = y1 ^ u0
y5 = y1 ^ u6
y3 = y5 ^ y8
t1 = u4 ^ y12
y15 = t1 ^ u5
y20 = t1 ^ u1
y6 = y15 ^ u7
y10 = y15 ^ t0
y11 = y20 ^ y9
y7 = u7 ^ y11
y17 = y10 ^ y11
y19 = y10 ^ y8
y16 = t0 ^ y11
y21 = y13 ^ y16
y18 = u0 ^ y16
t2 = y12 & y15
t3 = y3 & y6
t4 = t3 ^ t2
t5 = y4 & u7
t6 = t5 ^ t2
t7 = y13 & y16
t8 = y5 & y1
t9 = t8 ^ t7
t10 = y2 & y7
t11 = t10 ^ t7
t12 = y9 & y11
t13 = y14 & y17
t14 = t13 ^ t12
t15 = y8 & y10
t16 = t15 ^ t12
t17 = t4 ^ t14
t18 = t6 ^ t16
t19 = t9 ^ t14
t20 = t11 ^ t16
t21 = t17 ^ y20
t22 = t18 ^ y19
t23 = t19 ^ y21
t24 = t20 ^ y18
t25 = t21 ^ t22
t26 = t21 & t23
t27 = t24 ^ t26
t28 = t25 & t27
t29 = t28 ^ t22
t30 = t23 ^ t24
t31 = t22 ^ t26
t32 = t31 & t30
t33 = t32 ^ t24
t34 = t23 ^ t33
t35 = t27 ^ t33
t36 = t24 & t35
t37 = t36 ^ t34
t38 = t27 ^ t36
t39 = t29 & t38
t40 = t25 ^ t39
t41 = t40 ^ t37
t42 = t29 ^ t33
t43 = t29 ^ t40
t44 = t33 ^ t37
t45 = t42 ^ t41
z0 = t44 & y15
z1 = t37 & y6
z2 = t33 & u7
z3 = t43 & y16
z4 = t40 & y1
z5 = t29 & y7
z6 = t42 & y11
z7 = t45 & y17
z8 = t41 & y10
z9 = t44 & y12
z10 = t37 & y3
z11 = t33 & y4
z12 = t43 & y13
z13 = t40 & y5
z14 = t29 & y2
z15 = t42 & y9
z16 = t45 & y14
z17 = t41 & y8
t46 = z15 ^ z16
t47 = z10 ^ z11
t48 = z5 ^ z13
t49 = z9 ^ z10
t50 = z2 ^ z12
t51 = z2 ^ z5
t52 = z7 ^ z8
t53 = z0 ^ z3
t54 = z6 ^ z7
t55 = z16 ^ z17
t56 = z12 ^ t48
t57 = t50 ^ t53
t58 = z4 ^ t46
t59 = z3 ^ t54
t60 = t46 ^ t57
t61 = z14 ^ t57
t62 = t52 ^ t58
t63 = t49 ^ t58
t64 = z4 ^ t59
t65 = t61 ^ t62
t66 = z1 ^ t63
s0 = t59 ^ t63
s6 = t56 ^ t62
s7 = t48 ^ t60
t67 = t64 ^ t65
s3 = t53 ^ t66
s4 = t51 ^ t66
s5 = t47 ^ t65
s1 = t64 ^ s3
s2 = t55 ^ t67
`;
// rot1 ∘ ShiftRows as one byte permutation: rot1(sr(x))[i] = x[SR[ROT1[i]]].
const SR = [0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11];
const ROT1 = [1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12];
const SR_ROT1 = ROT1.map((j) => SR[j]);
const ops = PROGRAM.trim().split('\n').map((line) => {
  const m = /^(\w+) = (\w+) ([&^]) (\w+)$/.exec(line);
  if (m === null) throw new Error(`bad line: ${line}`);
  const ren = (w) => (/^u\d$/.test(w) ? `x${7 - Number(w[1])}` : /^s\d$/.test(w) ? `o${w[1]}` : w); // o: s is taken below
  return [ren(m[1]), m[3] === '^' ? 'xor' : 'and', ren(m[2]), ren(m[4])];
});
const outs = Array.from({ length: 8 }, (_, j) => `o${7 - j}`); // plane j ← s_(7−j)
const x = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `x${i}`);

// ---- check on all 256 inputs (each wire a 256-bit integer: bit z = value for input z) --------
const val = new Map();
for (let i = 0; i < 8; i++) { let m = 0n; for (let z = 0; z < 256; z++) if ((z >> i) & 1) m |= 1n << BigInt(z); val.set(`x${i}`, m); }
for (const [dst, op, p, q] of ops) {
  if (!val.has(p) || !val.has(q) || val.has(dst)) throw new Error(`wire order: ${dst}`);
  val.set(dst, op === 'xor' ? val.get(p) ^ val.get(q) : val.get(p) & val.get(q));
}
for (let z = 0; z < 256; z++) {
  let y = 0;
  for (let j = 0; j < 8; j++) if ((val.get(outs[j]) >> BigInt(z)) & 1n) y |= 1 << j;
  if (y !== (SBOX[z] ^ 0x63)) throw new Error(`S(${z}) ^ 0x63 = ${y}, expected ${SBOX[z] ^ 0x63}`);
}
const count = (o) => ops.filter((e) => e[1] === o).length;
const lines = ops.map(([dst, op, p, q]) => `  const ${dst} = v128.${op}(${p}, ${q});`);
// One AES round on the planes, all in locals: SubBytes (the circuit), ShiftRows, MixColumns
// (unless `mix` is false: the last round), AddRoundKey with the plane-form round key at k.
const linearText = `
  let s0 = sr(${outs[0]}), s1 = sr(${outs[1]}), s2 = sr(${outs[2]}), s3 = sr(${outs[3]});
  let s4 = sr(${outs[4]}), s5 = sr(${outs[5]}), s6 = sr(${outs[6]}), s7 = sr(${outs[7]});
  if (mix) {
    // out = x ⊕ t ⊕ xtime(b), b = x ⊕ rot1(x), t = b ⊕ rot2(b) (FIPS-197 §5.1.3), computed as
    // rot1(x) ⊕ rot2(b) ⊕ xtime(b) (x ⊕ b = rot1(x)), with rot1(x) = rot1(sr(·)) as one swizzle
    // of the S-box output; xtime on planes: bit j ← bit j−1, and bit 7 goes into bits 0, 1, 3, 4 (0x1b).
    const r0 = srRot1(${outs[0]}), r1 = srRot1(${outs[1]}), r2 = srRot1(${outs[2]}), r3 = srRot1(${outs[3]});
    const r4 = srRot1(${outs[4]}), r5 = srRot1(${outs[5]}), r6 = srRot1(${outs[6]}), r7 = srRot1(${outs[7]});
    const b0 = v128.xor(s0, r0), b1 = v128.xor(s1, r1), b2 = v128.xor(s2, r2), b3 = v128.xor(s3, r3);
    const b4 = v128.xor(s4, r4), b5 = v128.xor(s5, r5), b6 = v128.xor(s6, r6), b7 = v128.xor(s7, r7);
    s0 = v128.xor(v128.xor(r0, rot2(b0)), b7);
    s1 = v128.xor(v128.xor(r1, rot2(b1)), v128.xor(b0, b7));
    s2 = v128.xor(v128.xor(r2, rot2(b2)), b1);
    s3 = v128.xor(v128.xor(r3, rot2(b3)), v128.xor(b2, b7));
    s4 = v128.xor(v128.xor(r4, rot2(b4)), v128.xor(b3, b7));
    s5 = v128.xor(v128.xor(r5, rot2(b5)), b4);
    s6 = v128.xor(v128.xor(r6, rot2(b6)), b5);
    s7 = v128.xor(v128.xor(r7, rot2(b7)), b6);
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
// FIPS-197 §5.1.2 ShiftRows and the column rotations of MixColumns, as byte shuffles of a plane
// (srRot1: the rotation by one byte after ShiftRows, as one permutation). All three are swizzles by constants rather than \`i8x16.shuffle\`: V8 (x64) rebuilds a generic
// shuffle's mask at every use but keeps a constant in a register, and lowers rot2 as a shuffle to
// two instructions (pshuflw + pshufhw) where the swizzle is one pshufb (CTR 1% faster).
@inline function sr(x: v128): v128 {
  return v128.swizzle(x, i8x16(${SR.join(', ')}));
}
@inline function srRot1(x: v128): v128 {
  return v128.swizzle(x, i8x16(${SR_ROT1.join(', ')}));
}
@inline function rot2(x: v128): v128 {
  return v128.swizzle(x, i8x16(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
}
`;
// One full round on the locals x0…x7 (key at k, then k advances), as a block of its own.
const roundBody = (ind) =>
  `${ind.slice(2)}{\n` +
  lines.map((l) => ind.slice(2) + l).join('\n') + '\n' +
  linearText
    .replace('  if (mix) {', '  {')
    .replace(/  v128\.store\(PLANES, v128\.xor\((s\d), v128\.load\(k, (\d+)\)\), \d+\);/g, (_, sv, off) => `  x${sv.slice(1)} = v128.xor(${sv}, v128.load(k, ${off}));`)
    .split('\n').map((l) => (l === '' ? l : ind.slice(2) + l)).join('\n') +
  `${ind}k += 128;\n${ind.slice(2)}}\n`;
const text =
  `// Generated by wasm/gen-sbox.mjs (Boyar–Peralta S-box circuit); do not edit.\n` +
  `// S(x) ⊕ 0x63 as a Boolean circuit of ${count('and')} AND and ${count('xor')} XOR on bit planes: plane j holds bit j of 128\n` +
  `// state bytes, so one call substitutes 128 bytes with no table and no branch (the constant 0x63\n` +
  `// is in the plane-form round keys, see aes8.ts). Checked against FIPS-197's S-box for all 256\n` +
  `// inputs by the generator.\n\n` +
  `import { PLANES } from './layout';\n` + helpers + `\n` +
  `/** One round on the 8 planes at PLANES, in place: SubBytes, ShiftRows, MixColumns (if \`mix\`), AddRoundKey (planes at k). */\n` +
  `export function roundPlanes(k: usize, mix: bool): void {\n` +
  x.map((w, i) => `  const ${w} = v128.load(PLANES, ${16 * i});`).join('\n') + '\n' +
  lines.join('\n') + '\n' + linearText + '}\n' +
  `\n/**\n * \`n\` full rounds (as roundPlanes with \`mix\`) on the 8 planes at PLANES, in place, with the\n` +
  ` * plane-form round keys at k, k + 128, …; the planes stay in locals from one round to the next, and\n` +
  ` * the loop runs two rounds per turn (7.5% faster than one).\n */\n` +
  `export function roundsPlanes(k: usize, n: i32): void {\n` +
  x.map((w, i) => `  let ${w} = v128.load(PLANES, ${16 * i});`).join('\n') + '\n' +
  `  for (; n >= 2; n -= 2) {\n` + roundBody('    ') + roundBody('    ') + `  }\n` +
  `  if (n > 0) {\n` + roundBody('    ') + `  }\n` +
  x.map((w, i) => `  v128.store(PLANES, ${w}, ${16 * i});`).join('\n') + '\n}\n';
const target = new URL('./sbox.ts', import.meta.url);
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== text) throw new Error('wasm/sbox.ts is not the output of wasm/gen-sbox.mjs');
} else {
  writeFileSync(target, text);
}
console.log(`sbox.ts: Boyar–Peralta, AND ${count('and')} XOR ${count('xor')}`);
