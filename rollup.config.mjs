// Builds dist/: one ESM file per source module (tree-shakeable) for the package entries, with
// .d.ts files for the public entries (package.json `exports`) and what they reference only; plus a
// single-file minified browser bundle of the root entry (hash-wasm included, the node:crypto
// backend left out), whose gzipped size the build prints.
import { fileURLToPath } from 'node:url';
import nodeResolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';
import { exportOnOwnLine, publicDeclarationsOnly, replaceModule, reportSize } from './build/rollup-plugins.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

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
