/**
 * The published package, as a consumer gets it: `npm pack` of the built tree (once), extracted
 * into a throw-away consumer project's node_modules without any network (hash-wasm and
 * @types/node are linked from this repository). Its declarations must compile for strict
 * consumers without `skipLibCheck` — Node (`lib: ["es2022"]`, `types: ["node"]`) and browser
 * (`lib: ["dom", …]`, no @types/node) — without `pkcs11js` installed (the other optional peers,
 * which a consumer of their subpath installs, are linked too); it must import and
 * round-trip in Node; and publint (strict) and are-the-types-wrong (esm-only profile) must be
 * clean on the same tarball.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
/**
 * Subpaths whose declarations need Node's types: enseal/node itself (its TSDoc says so), and the
 * storage adapters whose peer SDK's own declarations import `node:stream` and use `Buffer`.
 */
const NEEDS_NODE_TYPES = new Set(['./node', './storage/s3', './storage/oss']);
/**
 * The least a browser consumer's `lib` must hold besides "dom": es2018 (AsyncIterable, storage
 * listings) and esnext.disposable (`Symbol.asyncDispose` on the worker pool, src/pool/pool.ts);
 * the root entry alone needs es2015 (Symbol) instead of es2018.
 */
const DOM_LIB = ['dom', 'es2018', 'esnext.disposable'];
const ROOT_DOM_LIB = ['dom', 'es2015', 'esnext.disposable'];

let work = '';
let tarball = '';
let consumer = '';
let files: string[] = [];
let subpaths: string[] = [];
let exportsMap: Record<string, unknown> = {};

interface Run {
  status: number | null;
  out: string;
}

function run(exe: string, args: string[], cwd: string, timeout = 90_000): Run {
  const r = spawnSync(exe, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { status: r.status, out: `${r.stdout ?? ''}\n${r.stderr ?? ''}${r.error ? `\n${String(r.error)}` : ''}` };
}

/** A consumer module importing each subpath (namespace imports: every declaration is checked). */
function importsOf(subs: readonly string[]): string {
  const names = subs.map((_, i) => `m${i}`);
  return `${subs.map((s, i) => `import * as m${i} from 'enseal${s.slice(1)}';`).join('\n')}\nexport { ${names.join(', ')} };\n`;
}

function tsconfig(name: string, lib: string[], types: string[], file: string): string {
  const compilerOptions = { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: false, lib, types };
  writeFileSync(join(consumer, name), JSON.stringify({ compilerOptions, files: [file] }, null, 2));
  return name;
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` (`npm test` does when needed)');
  work = mkdtempSync(join(tmpdir(), 'enseal-pack-'));
  const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const info = (JSON.parse(packed) as { filename: string; files: { path: string }[] }[])[0]!;
  tarball = join(work, info.filename);
  files = info.files.map((f) => f.path).sort();

  consumer = join(work, 'consumer');
  const pkgDir = join(consumer, 'node_modules', 'enseal');
  mkdirSync(pkgDir, { recursive: true });
  mkdirSync(join(consumer, 'node_modules', '@types'), { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1'], { timeout: 30_000 });
  symlinkSync(join(root, 'node_modules', 'hash-wasm'), join(consumer, 'node_modules', 'hash-wasm'), 'dir');
  symlinkSync(join(root, 'node_modules', '@types', 'node'), join(consumer, 'node_modules', '@types', 'node'), 'dir');
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; peerDependencies?: Record<string, string> };
  exportsMap = manifest.exports;
  // The optional peers a consumer of their subpath installs (with their @types), except pkcs11js:
  // enseal/pkcs11 must type-check and import without it.
  for (const peer of Object.keys(manifest.peerDependencies ?? {}).filter((p) => p !== 'pkcs11js')) {
    const typesName = `@types/${peer.startsWith('@') ? peer.slice(1).replace('/', '__') : peer}`;
    for (const name of [peer, typesName]) {
      if (!existsSync(join(root, 'node_modules', name))) continue;
      mkdirSync(dirname(join(consumer, 'node_modules', name)), { recursive: true });
      symlinkSync(join(root, 'node_modules', name), join(consumer, 'node_modules', name), 'dir');
    }
  }
  subpaths = Object.keys(exportsMap).filter((s) => s !== './package.json');
}, 120_000);

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds the entries, LICENSE and the published vectors, and no internal declarations', () => {
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'bin/enseal.js', 'dist/cli/main.js', 'dist/enseal.browser.js', 'test/vectors/enseal-v1.json']));
    expect(readFileSync(join(consumer, 'node_modules/enseal/LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004[\s\S]*Copyright 2026 The enseal authors/);
    expect(files.filter((f) => f.startsWith('dist/cli/') && f.endsWith('.d.ts'))).toEqual([]);
    // Every declaration shipped is an entry's or reachable from one (the same walk a compiler does).
    const entries = Object.values(exportsMap).flatMap((v) => (typeof v === 'object' && v !== null && 'types' in v ? [String((v as { types: string }).types).slice(2)] : []));
    for (const e of entries) expect(files, e).toContain(e);
    const reachable = new Set<string>();
    const todo = [...entries];
    while (todo.length > 0) {
      const f = todo.pop()!;
      if (reachable.has(f)) continue;
      reachable.add(f);
      const text = readFileSync(join(consumer, 'node_modules/enseal', f), 'utf8');
      for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
        todo.push(posix.normalize(posix.join(posix.dirname(f), m[1]!.replace(/\.js$/, '.d.ts'))));
      }
    }
    for (const r of reachable) expect(files, `${r} is referenced by a public declaration`).toContain(r);
    expect(files.filter((f) => f.endsWith('.d.ts') && !reachable.has(f))).toEqual([]);
  });

  it('declarations compile for a strict Node consumer (lib es2022, @types/node, no skipLibCheck, no pkcs11js), every subpath', () => {
    expect(existsSync(join(consumer, 'node_modules', 'pkcs11js'))).toBe(false);
    writeFileSync(join(consumer, 'node.ts'), importsOf(subpaths));
    const r = run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig('tsconfig.node.json', ['es2022'], ['node'], 'node.ts')], consumer);
    expect(r.out.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it(`declarations compile for a strict browser consumer (lib ${DOM_LIB.join(' + ')}, no @types/node, no skipLibCheck), every subpath but those needing Node's types`, () => {
    const subs = subpaths.filter((s) => !NEEDS_NODE_TYPES.has(s));
    expect(subs).toEqual(expect.arrayContaining(['.', './chunked', './browser']));
    writeFileSync(join(consumer, 'dom.ts'), importsOf(subs));
    const r = run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig('tsconfig.dom.json', DOM_LIB, [], 'dom.ts')], consumer);
    expect(r.out.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it(`the root entry, enseal/browser and enseal/chunked need no more than lib ${ROOT_DOM_LIB.join(' + ')}`, () => {
    writeFileSync(join(consumer, 'dom-root.ts'), importsOf(['.', './browser', './chunked']));
    const r = run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig('tsconfig.root.json', ROOT_DOM_LIB, [], 'dom-root.ts')], consumer);
    expect(r.out.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('imports in Node without pkcs11js (every subpath) and round-trips a message', () => {
    const script = `${subpaths.map((s, i) => `import * as m${i} from 'enseal${s.slice(1)}';`).join('\n')}
const all = [${subpaths.map((_, i) => `m${i}`).join(', ')}];
const { aesKey, encrypt, decrypt, availableBackends } = m${subpaths.indexOf('.')};
const browser = m${subpaths.indexOf('./browser')};
const bytes = crypto.getRandomValues(new Uint8Array(32));
const key = aesKey({ id: 'consumer', key: bytes });
const text = 'packed and round-tripped';
const sealed = await encrypt(new TextEncoder().encode(text), { recipients: [key], context: { app: 'consumer' } });
const back = new TextDecoder().decode(await decrypt(sealed, { keys: [key], context: { app: 'consumer' } }));
// The browser bundle runs in Node too (WebCrypto only) and reads what the package wrote.
const fromBrowser = new TextDecoder().decode(await browser.decrypt(sealed, { keys: [browser.aesKey({ id: 'consumer', key: bytes })], context: { app: 'consumer' } }));
const nodeInBrowser = await browser.encrypt(new Uint8Array(1), { recipients: [key], backend: 'node' }).then(() => 'ok', (e) => e.code);
console.log(JSON.stringify({ modules: all.map((m) => Object.keys(m).length), back, fromBrowser, nodeInBrowser, backends: availableBackends(), browserBackends: browser.availableBackends() }));
`;
    writeFileSync(join(consumer, 'roundtrip.mjs'), script);
    const r = run(process.execPath, ['roundtrip.mjs'], consumer);
    expect(r.status, r.out).toBe(0);
    const result = JSON.parse(r.out.trim().split('\n')[0]!) as { modules: number[]; back: string; fromBrowser: string; nodeInBrowser: string; backends: string[]; browserBackends: string[] };
    expect(result.back).toBe('packed and round-tripped');
    expect(result.fromBrowser).toBe('packed and round-tripped');
    expect(result.nodeInBrowser).toBe('ERR_UNSUPPORTED');
    expect(result.backends).toEqual(expect.arrayContaining(['node', 'webcrypto']));
    expect(result.browserBackends).toContain('webcrypto');
    expect(result.browserBackends).not.toContain('node');
    expect(result.modules).toHaveLength(subpaths.length); // each subpath loaded (a types-only one has no runtime exports)
  });

  it('publint --strict is clean', () => {
    const r = run(bin('publint'), ['run', tarball, '--strict'], work);
    expect(r.status, r.out).toBe(0);
    expect(r.out, r.out).toMatch(/All good!/);
    expect(r.out, r.out).not.toMatch(/warning|error|suggestion/i);
  });

  it('are-the-types-wrong (esm-only profile) is clean', () => {
    // The same tarball as `attw --pack` would create (one pack for the whole file). The esm-only
    // profile ignores node10 and CommonJS resolution; anything else is a problem.
    const r = run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'json'], work);
    expect(r.status, r.out).toBe(0);
    const report = JSON.parse(r.out.slice(r.out.indexOf('{'), r.out.lastIndexOf('}') + 1)) as {
      analysis: { entrypoints: Record<string, unknown>; problems: { kind: string; entrypoint?: string; resolutionKind?: string }[] };
    };
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual([...subpaths, './package.json'].sort());
    const problems = report.analysis.problems.filter((p) => p.resolutionKind !== 'node10' && p.resolutionKind !== 'node16-cjs');
    expect(problems).toEqual([]);
  });
});
