#!/usr/bin/env node
// `npm test`'s pretest: makes a fresh machine ready for the whole suite, and says what it does.
//
// 1. SoftHSM2 (the PKCS#11 tests): when it is missing and we are root with apt-get (a fresh Debian
//    machine, CI), runs `apt-get install -y softhsm2`, after one `apt-get update` if the first try
//    fails (empty package lists). Otherwise prints the exact command and lets the run go on: the
//    suites that need SoftHSM2 then fail at once in their set-up with that command, and every
//    other test still runs.
// 2. Chromium (the browser test) needs nothing here: it is the npm dev dependency
//    @sparticuz/chromium, extracted to /tmp/chromium by test/browser.test.ts (or CHROMIUM_PATH).
// 3. dist/: the CLI, runtime, package and browser tests run the built package, so when a file in
//    src/ or the build configuration is newer than dist/ (or dist/ is missing), runs `npm run build`.
//
// Exit status: non-zero only when the build fails (stale dist/ would make tests lie).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOFTHSM_INSTALL, softHsmMissing } from './softhsm.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (s) => process.stdout.write(`provision: ${s}\n`);

const onPath = (exe) => (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, exe)));

/** Runs a command with its output shown; returns whether it succeeded. */
function sh(exe, args) {
  say(`$ ${exe} ${args.join(' ')}`);
  const r = spawnSync(exe, args, { stdio: 'inherit', timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return r.status === 0;
}

function provisionSoftHsm() {
  const missing = softHsmMissing();
  if (missing === undefined) return say('SoftHSM2: installed');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    const how = !onPath('apt-get') ? 'no apt-get here' : 'not root';
    say(`SoftHSM2: ${missing}`);
    say(`SoftHSM2: cannot install it (${how}); run \`${isRoot ? '' : 'sudo '}${SOFTHSM_INSTALL}\` (or your system's softhsm2 package), then \`npm test\` again.`);
    say('SoftHSM2: continuing: the PKCS#11 suites will fail in their set-up; every other test runs.');
    return;
  }
  say(`SoftHSM2: missing; installing the Debian package softhsm2 (${SOFTHSM_INSTALL})`);
  const [exe, ...args] = SOFTHSM_INSTALL.split(' ');
  if (!sh(exe, args)) {
    say('SoftHSM2: install failed; updating the package lists once and retrying');
    if (sh('apt-get', ['update'])) sh(exe, args);
  }
  const still = softHsmMissing();
  if (still === undefined) say('SoftHSM2: installed');
  else say(`SoftHSM2: still missing after the install (${still}); the PKCS#11 suites will fail in their set-up.`);
}

/** Newest modification time (ms) of a file or of every file under a directory; 0 if absent. */
function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const e of readdirSync(path)) t = Math.max(t, newest(join(path, e)));
  return t;
}

/** The build inputs and the outputs the tests use (the oldest output decides). */
const INPUTS = ['src', 'wasm', 'rollup.config.mjs', 'tsconfig.json', 'package.json'];
const OUTPUTS = ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/enseal.browser.js'];

function buildIfStale() {
  const input = Math.max(...INPUTS.map((p) => newest(join(root, p))));
  const outputs = OUTPUTS.map((p) => join(root, p));
  const output = outputs.every((p) => existsSync(p)) ? Math.min(...outputs.map((p) => statSync(p).mtimeMs)) : 0;
  if (output !== 0 && output >= input) return say('dist/: up to date');
  say(output === 0 ? 'dist/: missing; building' : 'dist/: older than src/ or the build config; building');
  const npm = process.env.npm_execpath;
  const ok = npm !== undefined && npm.endsWith('.js') ? sh(process.execPath, [npm, 'run', 'build']) : sh('npm', ['run', 'build']);
  if (!ok) {
    say('dist/: the build failed (see above); not running the tests against a stale dist/');
    process.exit(1);
  }
}

provisionSoftHsm();
buildIfStale();
