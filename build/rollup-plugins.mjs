// Rollup plugins of our own build (rollup.config.mjs): what the package ships and what the browser
// bundle leaves out.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

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
export function publicDeclarationsOnly({ pkg, dir }) {
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
export function replaceModule(from, to) {
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
export function reportSize(label) {
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
export function exportOnOwnLine() {
  return {
    name: 'export-on-own-line',
    renderChunk(code) {
      const m = /([^\n;])(export\s*\{[^{}]*\};?\s*)$/.exec(code);
      return m === null ? null : { code: `${code.slice(0, m.index + 1)}\n${m[2]}`, map: null };
    },
  };
}
