// SHA-256, SHA-384 and SHA-512 (FIPS 180-4) and the HMAC (RFC 2104) steps enseal needs, for
// src/backends/wasm-sha2.ts: a separate small module from the AES core in wasm/ (it needs no SIMD).
// SHA-2 has no table lookup or branch indexed by data (the constants are read in round order),
// so it runs in constant time for a given length; lengths are public.
//
// Fixed layout of the linear memory (2 pages, never grown); nothing is allocated at run time:
//   KEYS   HMAC inner state || outer state (2 × 64 bytes), written by JS before a MAC whose
//          states are held in JS
//   SLOTS  SLOT_COUNT × 128 bytes: the two HMAC states of keys kept in the module (hmacSetup
//          writes them there; JS zeroes a slot when its key is disposed)
//   OUT    digest / MAC output (64 bytes), or the two HMAC states after hmacSetup (128 bytes)
//   H      the running state; BLOCK a partial block; INNER the inner hash of a MAC (or the last,
//          partial HKDF block); W the schedule; CTR the HKDF counter
//   IO     the input window (IO_SIZE bytes), written by JS
// Every call wipes H, BLOCK, INNER, W and KEYS before it returns; JS wipes IO and OUT after
// copying in and out. The MAC functions take the address of their states (KEYS or a slot).

export const KEYS: usize = 8192;
export const OUT: usize = 8320;
const H: usize = 8448;
const BLOCK: usize = 8512;
const INNER: usize = 8640;
const W: usize = 8704; // 80 × 8 bytes
const CTR: usize = 9344; // the HKDF block counter byte
const SCRATCH_END: usize = 9352;
export const SLOTS: usize = 9728;
export const SLOT_COUNT: usize = 52; // (IO - SLOTS) / 128
export const IO: usize = 16384;
export const IO_SIZE: usize = 65536;

// FIPS 180-4 §4.2.2 and §4.2.3.
const K256: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const K512: usize = memory.data<u64>([
  0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538,
  0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe,
  0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2, 0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
  0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
  0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5, 0x983e5152ee66dfab,
  0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
  0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed,
  0x53380d139d95b3df, 0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
  0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
  0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8, 0x19a4c116b8d2d0c8, 0x1e376c085141ab53,
  0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373,
  0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
  0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c,
  0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6,
  0x113f9804bef90dae, 0x1b710b35131c471b, 0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
  0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
]);
// FIPS 180-4 §5.3.3, §5.3.4, §5.3.5: initial hash values.
const IV256: usize = memory.data<u32>([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const IV384: usize = memory.data<u64>([
  0xcbbb9d5dc1059ed8, 0x629a292a367cd507, 0x9159015a3070dd17, 0x152fecd8f70e5939,
  0x67332667ffc00b31, 0x8eb44a8768581511, 0xdb0c2e0d64f98fa7, 0x47b5481dbefa4fa4,
]);
const IV512: usize = memory.data<u64>([
  0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
  0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
]);

// The algorithm of the current call: 256, 384 or 512 (set by every exported function).
let alg: i32 = 512;
let blockSize: usize = 128;
let fill: usize = 0; // bytes waiting in BLOCK
let total: u64 = 0; // bytes absorbed so far
let keys: usize = KEYS; // the HMAC states of the MAC under way

function select(a: i32): void {
  alg = a;
  blockSize = a == 256 ? 64 : 128;
}

function digestLength(): usize {
  return alg == 256 ? 32 : alg == 384 ? 48 : 64;
}

function initState(): void {
  memory.copy(H, alg == 256 ? IV256 : alg == 384 ? IV384 : IV512, 64 >> (alg == 256 ? 1 : 0));
  fill = 0;
  total = 0;
}

// FIPS 180-4 §6.2.2: one SHA-256 block at p.
function compress256(p: usize): void {
  for (let t: usize = 0; t < 16; t++) store<u32>(W + (t << 2), bswap<u32>(load<u32>(p + (t << 2))));
  for (let t: usize = 16; t < 64; t++) {
    const w2 = load<u32>(W + ((t - 2) << 2));
    const w15 = load<u32>(W + ((t - 15) << 2));
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >> 10);
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >> 3);
    store<u32>(W + (t << 2), s1 + load<u32>(W + ((t - 7) << 2)) + s0 + load<u32>(W + ((t - 16) << 2)));
  }
  let a = load<u32>(H), b = load<u32>(H, 4), c = load<u32>(H, 8), d = load<u32>(H, 12);
  let e = load<u32>(H, 16), f = load<u32>(H, 20), g = load<u32>(H, 24), h = load<u32>(H, 28);
  // Eight rounds per iteration with the working variables renamed instead of shifted.
  let t1: u32;
  for (let t: usize = 0; t < 64; t += 8) {
    const k = K256 + (t << 2);
    const w = W + (t << 2);
    t1 = h + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + ((e & f) ^ (~e & g)) + load<u32>(k, 0) + load<u32>(w, 0);
    d += t1;
    h = t1 + (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    t1 = g + (rotr<u32>(d, 6) ^ rotr<u32>(d, 11) ^ rotr<u32>(d, 25)) + ((d & e) ^ (~d & f)) + load<u32>(k, 4) + load<u32>(w, 4);
    c += t1;
    g = t1 + (rotr<u32>(h, 2) ^ rotr<u32>(h, 13) ^ rotr<u32>(h, 22)) + ((h & a) ^ (h & b) ^ (a & b));
    t1 = f + (rotr<u32>(c, 6) ^ rotr<u32>(c, 11) ^ rotr<u32>(c, 25)) + ((c & d) ^ (~c & e)) + load<u32>(k, 8) + load<u32>(w, 8);
    b += t1;
    f = t1 + (rotr<u32>(g, 2) ^ rotr<u32>(g, 13) ^ rotr<u32>(g, 22)) + ((g & h) ^ (g & a) ^ (h & a));
    t1 = e + (rotr<u32>(b, 6) ^ rotr<u32>(b, 11) ^ rotr<u32>(b, 25)) + ((b & c) ^ (~b & d)) + load<u32>(k, 12) + load<u32>(w, 12);
    a += t1;
    e = t1 + (rotr<u32>(f, 2) ^ rotr<u32>(f, 13) ^ rotr<u32>(f, 22)) + ((f & g) ^ (f & h) ^ (g & h));
    t1 = d + (rotr<u32>(a, 6) ^ rotr<u32>(a, 11) ^ rotr<u32>(a, 25)) + ((a & b) ^ (~a & c)) + load<u32>(k, 16) + load<u32>(w, 16);
    h += t1;
    d = t1 + (rotr<u32>(e, 2) ^ rotr<u32>(e, 13) ^ rotr<u32>(e, 22)) + ((e & f) ^ (e & g) ^ (f & g));
    t1 = c + (rotr<u32>(h, 6) ^ rotr<u32>(h, 11) ^ rotr<u32>(h, 25)) + ((h & a) ^ (~h & b)) + load<u32>(k, 20) + load<u32>(w, 20);
    g += t1;
    c = t1 + (rotr<u32>(d, 2) ^ rotr<u32>(d, 13) ^ rotr<u32>(d, 22)) + ((d & e) ^ (d & f) ^ (e & f));
    t1 = b + (rotr<u32>(g, 6) ^ rotr<u32>(g, 11) ^ rotr<u32>(g, 25)) + ((g & h) ^ (~g & a)) + load<u32>(k, 24) + load<u32>(w, 24);
    f += t1;
    b = t1 + (rotr<u32>(c, 2) ^ rotr<u32>(c, 13) ^ rotr<u32>(c, 22)) + ((c & d) ^ (c & e) ^ (d & e));
    t1 = a + (rotr<u32>(f, 6) ^ rotr<u32>(f, 11) ^ rotr<u32>(f, 25)) + ((f & g) ^ (~f & h)) + load<u32>(k, 28) + load<u32>(w, 28);
    e += t1;
    a = t1 + (rotr<u32>(b, 2) ^ rotr<u32>(b, 13) ^ rotr<u32>(b, 22)) + ((b & c) ^ (b & d) ^ (c & d));
  }
  store<u32>(H, load<u32>(H) + a);
  store<u32>(H, load<u32>(H, 4) + b, 4);
  store<u32>(H, load<u32>(H, 8) + c, 8);
  store<u32>(H, load<u32>(H, 12) + d, 12);
  store<u32>(H, load<u32>(H, 16) + e, 16);
  store<u32>(H, load<u32>(H, 20) + f, 20);
  store<u32>(H, load<u32>(H, 24) + g, 24);
  store<u32>(H, load<u32>(H, 28) + h, 28);
}

// FIPS 180-4 §6.4.2: one SHA-512 (or SHA-384) block at p.
function compress512(p: usize): void {
  for (let t: usize = 0; t < 16; t++) store<u64>(W + (t << 3), bswap<u64>(load<u64>(p + (t << 3))));
  for (let t: usize = 16; t < 80; t++) {
    const w2 = load<u64>(W + ((t - 2) << 3));
    const w15 = load<u64>(W + ((t - 15) << 3));
    const s1 = rotr<u64>(w2, 19) ^ rotr<u64>(w2, 61) ^ (w2 >> 6);
    const s0 = rotr<u64>(w15, 1) ^ rotr<u64>(w15, 8) ^ (w15 >> 7);
    store<u64>(W + (t << 3), s1 + load<u64>(W + ((t - 7) << 3)) + s0 + load<u64>(W + ((t - 16) << 3)));
  }
  let a = load<u64>(H), b = load<u64>(H, 8), c = load<u64>(H, 16), d = load<u64>(H, 24);
  let e = load<u64>(H, 32), f = load<u64>(H, 40), g = load<u64>(H, 48), h = load<u64>(H, 56);
  // Eight rounds per iteration with the working variables renamed instead of shifted.
  let t1: u64;
  for (let t: usize = 0; t < 80; t += 8) {
    const k = K512 + (t << 3);
    const w = W + (t << 3);
    t1 = h + (rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41)) + ((e & f) ^ (~e & g)) + load<u64>(k, 0) + load<u64>(w, 0);
    d += t1;
    h = t1 + (rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39)) + ((a & b) ^ (a & c) ^ (b & c));
    t1 = g + (rotr<u64>(d, 14) ^ rotr<u64>(d, 18) ^ rotr<u64>(d, 41)) + ((d & e) ^ (~d & f)) + load<u64>(k, 8) + load<u64>(w, 8);
    c += t1;
    g = t1 + (rotr<u64>(h, 28) ^ rotr<u64>(h, 34) ^ rotr<u64>(h, 39)) + ((h & a) ^ (h & b) ^ (a & b));
    t1 = f + (rotr<u64>(c, 14) ^ rotr<u64>(c, 18) ^ rotr<u64>(c, 41)) + ((c & d) ^ (~c & e)) + load<u64>(k, 16) + load<u64>(w, 16);
    b += t1;
    f = t1 + (rotr<u64>(g, 28) ^ rotr<u64>(g, 34) ^ rotr<u64>(g, 39)) + ((g & h) ^ (g & a) ^ (h & a));
    t1 = e + (rotr<u64>(b, 14) ^ rotr<u64>(b, 18) ^ rotr<u64>(b, 41)) + ((b & c) ^ (~b & d)) + load<u64>(k, 24) + load<u64>(w, 24);
    a += t1;
    e = t1 + (rotr<u64>(f, 28) ^ rotr<u64>(f, 34) ^ rotr<u64>(f, 39)) + ((f & g) ^ (f & h) ^ (g & h));
    t1 = d + (rotr<u64>(a, 14) ^ rotr<u64>(a, 18) ^ rotr<u64>(a, 41)) + ((a & b) ^ (~a & c)) + load<u64>(k, 32) + load<u64>(w, 32);
    h += t1;
    d = t1 + (rotr<u64>(e, 28) ^ rotr<u64>(e, 34) ^ rotr<u64>(e, 39)) + ((e & f) ^ (e & g) ^ (f & g));
    t1 = c + (rotr<u64>(h, 14) ^ rotr<u64>(h, 18) ^ rotr<u64>(h, 41)) + ((h & a) ^ (~h & b)) + load<u64>(k, 40) + load<u64>(w, 40);
    g += t1;
    c = t1 + (rotr<u64>(d, 28) ^ rotr<u64>(d, 34) ^ rotr<u64>(d, 39)) + ((d & e) ^ (d & f) ^ (e & f));
    t1 = b + (rotr<u64>(g, 14) ^ rotr<u64>(g, 18) ^ rotr<u64>(g, 41)) + ((g & h) ^ (~g & a)) + load<u64>(k, 48) + load<u64>(w, 48);
    f += t1;
    b = t1 + (rotr<u64>(c, 28) ^ rotr<u64>(c, 34) ^ rotr<u64>(c, 39)) + ((c & d) ^ (c & e) ^ (d & e));
    t1 = a + (rotr<u64>(f, 14) ^ rotr<u64>(f, 18) ^ rotr<u64>(f, 41)) + ((f & g) ^ (~f & h)) + load<u64>(k, 56) + load<u64>(w, 56);
    e += t1;
    a = t1 + (rotr<u64>(b, 28) ^ rotr<u64>(b, 34) ^ rotr<u64>(b, 39)) + ((b & c) ^ (b & d) ^ (c & d));
  }
  store<u64>(H, load<u64>(H) + a);
  store<u64>(H, load<u64>(H, 8) + b, 8);
  store<u64>(H, load<u64>(H, 16) + c, 16);
  store<u64>(H, load<u64>(H, 24) + d, 24);
  store<u64>(H, load<u64>(H, 32) + e, 32);
  store<u64>(H, load<u64>(H, 40) + f, 40);
  store<u64>(H, load<u64>(H, 48) + g, 48);
  store<u64>(H, load<u64>(H, 56) + h, 56);
}

function compress(p: usize): void {
  if (alg == 256) compress256(p);
  else compress512(p);
}

function absorb(p: usize, len: usize): void {
  total += <u64>len;
  if (fill > 0) {
    const take = min(blockSize - fill, len);
    memory.copy(BLOCK + fill, p, take);
    fill += take;
    p += take;
    len -= take;
    if (fill < blockSize) return;
    compress(BLOCK);
    fill = 0;
  }
  while (len >= blockSize) {
    compress(p);
    p += blockSize;
    len -= blockSize;
  }
  if (len > 0) {
    memory.copy(BLOCK, p, len);
    fill = len;
  }
}

// FIPS 180-4 §5.1: 0x80, zeros, then the bit length (64 bits for SHA-256, 128 for SHA-512;
// total < 2^61 bytes, so the high 64 bits of SHA-512's are zero). Writes the digest at out.
function finish(out: usize): void {
  const lenBytes: usize = alg == 256 ? 8 : 16;
  store<u8>(BLOCK + fill, 0x80);
  fill++;
  if (fill > blockSize - lenBytes) {
    memory.fill(BLOCK + fill, 0, blockSize - fill);
    compress(BLOCK);
    fill = 0;
  }
  memory.fill(BLOCK + fill, 0, blockSize - 8 - fill);
  store<u64>(BLOCK + blockSize - 8, bswap<u64>(total << 3));
  compress(BLOCK);
  const n = digestLength();
  if (alg == 256) {
    for (let i: usize = 0; i < 32; i += 4) store<u32>(out + i, bswap<u32>(load<u32>(H + i)));
  } else {
    for (let i: usize = 0; i < n; i += 8) store<u64>(out + i, bswap<u64>(load<u64>(H + i)));
  }
}

function wipeScratch(): void {
  memory.fill(KEYS, 0, 128);
  keys = KEYS;
  memory.fill(H, 0, SCRATCH_END - H);
  fill = 0;
  total = 0;
}

/** Starts a digest (then {@link update}, {@link digestEnd}). */
export function digestBegin(a: i32): void {
  select(a);
  initState();
}

/** Ends a digest: its value into OUT. */
export function digestEnd(): void {
  finish(OUT);
  wipeScratch();
}

/** The digest of IO[0..len) into OUT. */
export function digest(a: i32, len: usize): void {
  select(a);
  initState();
  absorb(IO, len);
  finish(OUT);
  wipeScratch();
}

/**
 * RFC 2104 §2 steps (1)–(2) and the first compression of (3) and (6): with the key K0 at
 * IO[0..keyLen) (keyLen ≤ the block size; a longer key is hashed by the caller), writes the
 * state after the block K0 ⊕ ipad, then the state after K0 ⊕ opad, at `to` (OUT or a slot:
 * 2 × 64 bytes).
 */
export function hmacSetup(a: i32, keyLen: usize, to: usize): void {
  select(a);
  const stateLen: usize = 64;
  for (let pass = 0; pass < 2; pass++) {
    const pad: u8 = pass == 0 ? 0x36 : 0x5c;
    for (let i: usize = 0; i < blockSize; i++) store<u8>(BLOCK + i, (i < keyLen ? load<u8>(IO + i) : 0) ^ pad);
    initState();
    compress(BLOCK);
    memory.copy(to + <usize>pass * stateLen, H, stateLen);
  }
  wipeScratch();
}

/** Starts a MAC: the running state becomes the inner state at `at` (KEYS or a slot). */
export function hmacBegin(a: i32, at: usize): void {
  select(a);
  keys = at;
  begin();
}

function begin(): void {
  memory.copy(H, keys, 64);
  fill = 0;
  total = <u64>blockSize;
}

/** The outer hash of a MAC whose inner part was absorbed: its value at out. */
function end(out: usize): void {
  finish(INNER);
  memory.copy(H, keys + 64, 64);
  fill = 0;
  total = <u64>blockSize;
  absorb(INNER, digestLength());
  finish(out);
}

/** Absorbs IO[0..len) into the MAC (or digest) under way. */
export function update(len: usize): void {
  absorb(IO, len);
}

/** Ends a MAC: H(K0 ⊕ opad || H(K0 ⊕ ipad || text)) into OUT (RFC 2104 §2 steps (4)–(7)). */
export function hmacEnd(): void {
  end(OUT);
  wipeScratch();
}

/** A whole MAC of IO[0..len) under the states at `at`: {@link hmacBegin}, {@link update}, {@link hmacEnd}. */
export function hmac(a: i32, len: usize, at: usize): void {
  hmacBegin(a, at);
  absorb(IO, len);
  hmacEnd();
}

/**
 * HKDF-Expand (RFC 5869 §2.3) under the HMAC states at `at` (KEYS or a slot): info at IO[0..infoLen), the output
 * T(1) || T(2) || … cut to outLen bytes written right after it, at IO + infoLen (the caller
 * keeps infoLen + outLen + 64 ≤ IO_SIZE and outLen ≤ 255 × HashLen).
 * T(i) = HMAC(PRK, T(i-1) || info || i), T(0) empty.
 */
export function hkdfExpand(a: i32, infoLen: usize, outLen: usize, at: usize): void {
  select(a);
  keys = at;
  const hl = digestLength();
  const out = IO + infoLen;
  let i: u32 = 1;
  for (let off: usize = 0; off < outLen; off += hl) {
    begin();
    if (off > 0) absorb(out + off - hl, hl);
    absorb(IO, infoLen);
    store<u8>(CTR, <u8>i);
    absorb(CTR, 1);
    if (off + hl <= outLen) {
      end(out + off);
    } else {
      end(INNER);
      memory.copy(out + off, INNER, outLen - off);
    }
    i++;
  }
  wipeScratch();
}
