// Builds dist/: one ESM file per source module (tree-shakeable, with .d.ts) for the package
// entries, plus a single-file browser bundle of the root entry (hash-wasm included).
import nodeResolve from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';

const entries = [
  'src/index.ts',
  'src/chunked.ts',
  'src/node.ts',
  'src/kms.ts',
  'src/kms-local.ts',
  'src/pkcs11.ts',
  'src/cli/main.ts',
];
// Dependencies stay imports in the package build (npm installs them); only the browser bundle inlines.
const external = (id) => id.startsWith('node:') || id === 'pkcs11js' || id === 'hash-wasm';

export default [
  {
    input: entries,
    external,
    output: { dir: 'dist', format: 'es', preserveModules: true, preserveModulesRoot: 'src', sourcemap: false },
    plugins: [typescript({ tsconfig: './tsconfig.json', outDir: 'dist', declaration: true, declarationDir: 'dist', noEmitOnError: true })],
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
      nodeResolve({ browser: true }),
      typescript({ tsconfig: './tsconfig.json', outDir: 'dist', declaration: false, declarationDir: undefined, noEmitOnError: true }),
    ],
  },
];
