// Builds dist/: one ESM file per source module (tree-shakeable) for the package entries, with
// .d.ts files for the public entries (package.json `exports`) and what they reference only; plus a
// single-file minified browser bundle of the root entry (hash-wasm included, the node:crypto
// backend left out), whose gzipped size the build prints.
import { fileURLToPath } from 'node:url';
import nodeResolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

// Plugins of our own: what the package ships and what the browser bundle leaves out.
/** The `types` files of package.json `exports` (the public declarations), relative to dist/. */
function entryDeclarations(pkgPath) {
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  const out = new Set();
  const visit = (v) => {
    if (typeof v === 'string') return;
    for (const [k, w] of Object.entries(v ?? {})) {
      if (k === 'types' && typeof w === 'string' && w.startsWith('./dist/')) out.add(w.slice('./dist/'.length));
      else if (typeof w === 'object') visit(w);
    }
  };
  visit(pkg.exports);
  return out;
}

// Relative module specifiers in a declaration file: imports, re-exports, import() types, references.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|<reference\s+path=)["'](\.{1,2}\/[^"']+)["']/g;

/**
 * Keeps only the declarations reachable from the package's public entry points (package.json
 * `exports` → `types`): internal `.d.ts` files (the CLI, modules no public type mentions) are
 * not emitted, and stale ones left in dist/ by an earlier build are deleted.
 * @param {{ pkg: string, dir: string }} opts - package.json path and the output directory
 */
function publicDeclarationsOnly({ pkg, dir }) {
  let kept = new Set();
  return {
    name: 'public-declarations-only',
    generateBundle(_options, bundle) {
      const source = (f) => {
        const a = bundle[f];
        return a !== undefined && a.type === 'asset' ? String(a.source) : undefined;
      };
      kept = new Set();
      const todo = [...entryDeclarations(pkg)].filter((f) => source(f) !== undefined);
      while (todo.length > 0) {
        const f = todo.pop();
        if (kept.has(f)) continue;
        kept.add(f);
        for (const m of source(f).matchAll(SPECIFIER)) {
          const target = posix.normalize(posix.join(posix.dirname(f), m[1].replace(/\.(m?)js$/, '.d.$1ts')));
          if (!kept.has(target) && source(target) !== undefined) todo.push(target);
        }
      }
      for (const f of Object.keys(bundle)) if (f.endsWith('.d.ts') && !kept.has(f)) delete bundle[f];
    },
    writeBundle() {
      const root = resolve(dir);
      const walk = (d) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (e.name.endsWith('.d.ts') && !kept.has(posix.normalize(p.slice(root.length + 1).split('\\').join('/')))) rmSync(p);
        }
      };
      walk(root);
    },
  };
}

/**
 * Swaps a module for another in one build (the browser bundle takes `src/backends/node.browser.ts`
 * instead of `src/backends/node.ts`), and fails the build if the original is still bundled.
 * @param {string} from - absolute path of the module to replace
 * @param {string} to - absolute path of its replacement
 */
function replaceModule(from, to) {
  return {
    name: 'replace-module',
    async resolveId(source, importer, options) {
      if (importer === undefined || !source.startsWith('.')) return null;
      const r = await this.resolve(source, importer, { ...options, skipSelf: true });
      return r !== null && resolve(r.id) === from ? to : null;
    },
    generateBundle() {
      if ([...this.getModuleIds()].some((id) => resolve(id) === from)) this.error(`${from} must not be bundled`);
    },
  };
}

/**
 * Prints the size of each emitted chunk, raw and gzipped (level 9), once written.
 * @param {string} label - what is printed before the sizes
 */
function reportSize(label) {
  return {
    name: 'report-size',
    writeBundle(options, bundle) {
      for (const [file, out] of Object.entries(bundle)) {
        if (out.type !== 'chunk') continue;
        const bytes = Buffer.from(out.code);
        const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
        const where = join(options.dir ?? dirname(options.file ?? '.'), file);
        process.stderr.write(`${label}: ${where} ${kib(bytes.length)}, ${kib(gzipSync(bytes, { level: 9 }).length)} gzipped\n`);
      }
    },
  };
}

/**
 * Puts a minified chunk's final `export{…}` on a line of its own. Terser glues it to the previous
 * statement (`…}export{…}`), and linters that detect the module format by regex (publint) then
 * miss the ESM syntax and call the file CommonJS. Run after the minifier.
 */
function exportOnOwnLine() {
  return {
    name: 'export-on-own-line',
    renderChunk(code) {
      const m = /([^\n;])(export\s*\{[^{}]*\};?\s*)$/.exec(code);
      return m === null ? null : { code: `${code.slice(0, m.index + 1)}\n${m[2]}`, map: null };
    },
  };
}

const entries = [
  'src/index.ts',
  'src/chunked.ts',
  'src/node.ts',
  'src/kms.ts',
  'src/kms-local.ts',
  'src/pkcs11.ts',
  'src/storage.ts',
  'src/storage/memory.ts',
  'src/interop.ts',
  'src/storage/fs.ts',
  'src/storage/s3.ts',
  'src/storage/oss.ts',
  'src/storage/fetch.ts',
  'src/cli/main.ts',
];
// Dependencies stay imports in the package build (npm installs them); only the browser bundle inlines.
const external = (id) => id.startsWith('node:') || id === 'pkcs11js' || id === 'hash-wasm' || id === '@aws-sdk/client-s3' || id === 'ali-oss';

export default [
  {
    input: entries,
    external,
    output: { dir: 'dist', format: 'es', preserveModules: true, preserveModulesRoot: 'src', sourcemap: false },
    plugins: [
      typescript({ tsconfig: './tsconfig.json', outDir: 'dist', declaration: true, declarationDir: 'dist', noEmitOnError: true }),
      publicDeclarationsOnly({ pkg: here('./package.json'), dir: here('./dist') }),
    ],
  },
  {
    input: 'src/index.ts',
    // The browser bundle must not reference node: modules at all; fail the build if it does.
    external: (id) => {
      if (id.startsWith('node:')) throw new Error(`browser bundle imports ${id}`);
      return false;
    },
    output: { file: 'dist/enseal.browser.js', format: 'es', sourcemap: false },
    plugins: [
      // Browsers have no node:crypto: the bundle gets a stand-in that reports the node backend unavailable.
      replaceModule(here('./src/backends/node.ts'), here('./src/backends/node.browser.ts')),
      nodeResolve({ browser: true }),
      typescript({ tsconfig: './tsconfig.json', outDir: 'dist', declaration: false, declarationDir: undefined, noEmitOnError: true }),
      terser({ ecma: 2022, module: true, compress: { passes: 2 }, format: { comments: false } }),
      exportOnOwnLine(),
      reportSize('browser bundle'),
    ],
  },
];
