/**
 * The passphrase prompt (`--passphrase`, `--add-passphrase`) against a fake terminal: raw mode
 * on while reading and restored on every path (Enter, Ctrl-C, end of input, errors, signals),
 * nothing typed ever written, line editing, confirmation; then `encrypt`/`decrypt`/`rewrap` run
 * in-process with the fake terminal, cross-checked by the spawned CLI with `--passphrase-env`.
 */
import { EventEmitter } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseArgs, type DecryptCommand, type EncryptCommand, type RewrapCommand } from '../src/cli/args.js';
import { CliError } from '../src/cli/cli-error.js';
import { decryptCommand } from '../src/cli/decrypt.js';
import { encryptCommand } from '../src/cli/encrypt.js';
import { MAX_SECRET_LINE_BYTES, promptPassphrase, readHiddenLine, type PromptIo, type SignalHost } from '../src/cli/prompt.js';
import { rewrapCommand } from '../src/cli/rewrap.js';
import { caught, pseudoRandom } from './helpers.js';
import { Sandbox, expectFailure, expectSuccess, recipientIds, requireBuild } from './cli-harness.js';

/** A terminal whose user types one queued entry each time the program starts reading. */
class FakeTty extends EventEmitter {
  readonly isTTY = true;
  isRaw: boolean;
  readonly rawCalls: boolean[] = [];
  readonly typed: (string | Uint8Array | 'EOF')[];
  reading = false;

  constructor(typed: (string | Uint8Array | 'EOF')[], initiallyRaw = false) {
    super();
    this.typed = [...typed];
    this.isRaw = initiallyRaw;
  }

  setRawMode(raw: boolean): this {
    this.rawCalls.push(raw);
    this.isRaw = raw;
    return this;
  }

  resume(): this {
    this.reading = true;
    const next = this.typed.shift();
    if (next !== undefined) {
      setImmediate(() => {
        if (next === 'EOF') this.emit('end');
        else for (const chunk of typeof next === 'string' ? next.split('|') : [next]) this.emit('data', typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      });
    }
    return this;
  }

  pause(): this {
    this.reading = false;
    return this;
  }
}

/** What the program wrote to the terminal. */
class FakeOut {
  readonly isTTY = true;
  text = '';
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

/** Signals a test can send; re-raised signals are recorded instead of killing the runner. */
class FakeSignals extends EventEmitter implements SignalHost {
  readonly raised: NodeJS.Signals[] = [];
  raise(signal: NodeJS.Signals): void {
    this.raised.push(signal);
  }
}

function terminal(typed: (string | Uint8Array | 'EOF')[], initiallyRaw = false): { io: PromptIo; tty: FakeTty; out: FakeOut; signals: FakeSignals } {
  const tty = new FakeTty(typed, initiallyRaw);
  const out = new FakeOut();
  const signals = new FakeSignals();
  return { io: { input: tty, output: out, signals }, tty, out, signals };
}

/** The terminal is back as it was, and nothing listens to it any more. */
function expectRestored(tty: FakeTty, signals: FakeSignals, wasRaw = false): void {
  expect(tty.isRaw).toBe(wasRaw);
  expect(tty.rawCalls.at(-1)).toBe(wasRaw);
  expect(tty.reading).toBe(false);
  expect(tty.listenerCount('data')).toBe(0);
  expect(tty.listenerCount('end')).toBe(0);
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) expect(signals.listenerCount(s)).toBe(0);
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('readHiddenLine', () => {
  it('reads a line in raw mode, writes only the prompt and a newline, and restores the mode', async () => {
    const { io, tty, out, signals } = terminal(['s3cr|et pä|ss\r']);
    const line = await readHiddenLine(io, 'Passphrase: ');
    expect(text(line)).toBe('s3cret päss');
    expect(tty.rawCalls).toEqual([true, false]);
    expect(out.text).toBe('Passphrase: \n');
    expectRestored(tty, signals);
  });

  it('keeps an already raw terminal raw', async () => {
    const { io, tty, signals } = terminal(['x\n'], true);
    expect(text(await readHiddenLine(io, '> '))).toBe('x');
    expectRestored(tty, signals, true);
  });

  it('edits: Backspace erases a whole UTF-8 character, Ctrl-U the line; escape sequences and control bytes are ignored', async () => {
    const { io, tty, signals } = terminal(['abé\x7f\x7fc\x08d|\x1b[A\x1bOB\x1b[1;5C\x01|junk\x15ok\x04']);
    expect(text(await readHiddenLine(io, ''))).toBe('ok');
    expectRestored(tty, signals);
    const again = terminal(['zz\x7f\x7f\x7fyes\r|typed after Enter']);
    expect(text(await readHiddenLine(again.io, ''))).toBe('yes');
    expect(again.out.text).not.toContain('typed after Enter');
  });

  it('Ctrl-C, Ctrl-D on an empty line and end of input cancel (ERR_CANCELLED) and restore the mode', async () => {
    for (const typed of ['abc\x03', '\x04', 'EOF'] as const) {
      const { io, tty, out, signals } = terminal([typed]);
      const e = await caught(readHiddenLine(io, 'Passphrase: '));
      expect(e).toBeInstanceOf(CliError);
      expect((e as CliError).code).toBe('ERR_CANCELLED');
      expect(out.text).toBe('Passphrase: \n');
      expectRestored(tty, signals);
    }
  });

  it('a signal while waiting restores the mode first, then re-raises the signal', async () => {
    const { io, tty, out, signals } = terminal([]);
    const pending = caught(readHiddenLine(io, 'Passphrase: '));
    await new Promise((r) => setImmediate(r));
    expect(tty.isRaw).toBe(true);
    signals.emit('SIGTERM');
    expect((await pending) as CliError).toMatchObject({ code: 'ERR_CANCELLED' });
    expect(signals.raised).toEqual(['SIGTERM']);
    expect(out.text).toBe('Passphrase: \n');
    expectRestored(tty, signals);
  });

  it('a line over the limit is ERR_USAGE, and the mode is restored', async () => {
    const { io, tty, signals } = terminal([`${'x'.repeat(MAX_SECRET_LINE_BYTES + 1)}\r`]);
    expect(await caught(readHiddenLine(io, ''))).toMatchObject({ code: 'ERR_USAGE' });
    expectRestored(tty, signals);
  });

  it('refuses what is not an interactive terminal, without touching it', async () => {
    const { tty, out } = terminal(['x\r']);
    for (const io of [
      { input: Object.assign(new EventEmitter(), { isTTY: false, resume: () => undefined, pause: () => undefined }), output: out },
      { input: tty, output: { isTTY: false, write: () => true } },
    ] as PromptIo[]) {
      expect(await caught(readHiddenLine(io, 'Passphrase: '))).toMatchObject({ code: 'ERR_USAGE' });
    }
    expect(tty.rawCalls).toEqual([]);
    expect(out.text).toBe('');
  });
});

describe('promptPassphrase', () => {
  it('asks twice when confirming and returns the passphrase when both match', async () => {
    const { io, tty, out, signals } = terminal(['pässword\r', 'pässword\r']);
    expect(await promptPassphrase(io, { label: 'New passphrase', confirm: true })).toBe('pässword');
    expect(out.text).toBe('New passphrase: \nConfirm new passphrase: \n');
    expect(tty.rawCalls).toEqual([true, false, true, false]);
    expectRestored(tty, signals);
  });

  it('a mismatch, an empty passphrase or invalid UTF-8 is ERR_USAGE', async () => {
    const cases: (string | Uint8Array)[][] = [['one\r', 'two\r'], ['\r'], [Uint8Array.of(0x66, 0xff, 0x0d)]];
    for (const typed of cases) {
      const { io, tty, out, signals } = terminal(typed);
      const e = await caught(promptPassphrase(io, { label: 'Passphrase', confirm: typed.length === 2 }));
      expect(e).toMatchObject({ code: 'ERR_USAGE' });
      expect(out.text).not.toMatch(/one|two/);
      expectRestored(tty, signals);
    }
  });

  it('asks once when not confirming', async () => {
    const { io, out } = terminal(['pw\r', 'never read\r']);
    expect(await promptPassphrase(io, { label: 'Passphrase', confirm: false })).toBe('pw');
    expect(out.text).toBe('Passphrase: \n');
  });
});

describe('--passphrase in the commands, with a fake terminal', () => {
  const PW = 'typed passphrase ✓';
  let sb: Sandbox;
  beforeAll(requireBuild);
  beforeEach(() => {
    sb = new Sandbox();
    sb.secret(PW);
  });
  afterEach(() => sb.cleanup());

  it('encrypt asks twice; the object decrypts with the same passphrase from the environment and from the prompt', async () => {
    const plain = Buffer.from(pseudoRandom(20_000, 1));
    writeFileSync(sb.at('plain'), plain);
    const { io, tty, out, signals } = terminal([`${PW}\r`, `${PW}\r`]);
    const cmd = parseArgs(['encrypt', '--passphrase', '--kdf-cost', 'm=8,t=1,p=1', sb.at('plain'), sb.at('sealed')]) as EncryptCommand;
    await encryptCommand(cmd, { terminal: io, env: {} });
    expect(out.text).toBe('Passphrase: \nConfirm passphrase: \n');
    expectRestored(tty, signals);
    const r = await sb.run(['decrypt', '--passphrase-env', 'PW', 'sealed', '-'], { env: { PW } });
    expectSuccess(r);
    expect(r.stdout.equals(plain)).toBe(true);

    const again = terminal([`${PW}\r`]);
    await decryptCommand(parseArgs(['decrypt', '--passphrase', sb.at('sealed'), sb.at('out')]) as DecryptCommand, { terminal: again.io, env: {} });
    expect(readFileSync(sb.at('out')).equals(plain)).toBe(true);
    expect(again.out.text).toBe('Passphrase: \n');
  });

  it('a mismatch on encrypt creates nothing; a wrong typed passphrase on decrypt is ERR_NO_KEY', async () => {
    writeFileSync(sb.at('plain'), 'x');
    const mismatch = terminal([`${PW}\r`, 'other\r']);
    const e = await caught(encryptCommand(parseArgs(['encrypt', '--passphrase', sb.at('plain'), sb.at('sealed')]) as EncryptCommand, { terminal: mismatch.io, env: {} }));
    expect(e).toMatchObject({ code: 'ERR_USAGE' });
    expect(sb.leftovers()).toEqual([]);
    expectSuccess(await sb.run(['encrypt', '--passphrase-env', 'PW', '--kdf-cost', 'm=8,t=1', 'plain', 'sealed'], { env: { PW } }));
    const wrong = terminal(['not it\r']);
    const e2 = await caught(decryptCommand(parseArgs(['decrypt', '--passphrase', sb.at('sealed'), sb.at('out')]) as DecryptCommand, { terminal: wrong.io, env: {} }));
    expect(e2).toMatchObject({ code: 'ERR_NO_KEY' });
    expectRestored(wrong.tty, wrong.signals);
  });

  it('rewrap asks for the unlocking passphrase once and the new one twice, after loading every key file', async () => {
    writeFileSync(sb.at('plain'), 'rewrapped by prompt');
    expectSuccess(await sb.run(['keygen', 'aes', '--out', 'k.json', '--id', 'k']));
    sb.secretBytes(Buffer.from(JSON.parse(readFileSync(sb.at('k.json'), 'utf8')).key, 'base64'));
    expectSuccess(await sb.run(['encrypt', '--passphrase-env', 'PW', '--kdf-cost', 'm=8,t=1', 'plain', 'sealed'], { env: { PW } }));
    const { io, out } = terminal([`${PW}\r`, 'new pw\r', 'new pw\r']);
    sb.secret('new pw');
    const args = ['rewrap', '--passphrase', '--add-key', sb.at('k.json'), '--add-passphrase', '--kdf-cost', 'm=8,t=1', sb.at('sealed'), sb.at('out')];
    await rewrapCommand(parseArgs(args) as RewrapCommand, { terminal: io, env: {} });
    expect(out.text).toBe('Passphrase: \nNew passphrase: \nConfirm new passphrase: \n');
    expect(await recipientIds(sb, 'out')).toEqual(['', 'k', '']);
    const r = await sb.run(['decrypt', '--passphrase-env', 'PW', 'out', '-'], { env: { PW: 'new pw' } });
    expectSuccess(r);
    expect(r.stdout.toString()).toBe('rewrapped by prompt');
    // A bad key file is reported before any prompt.
    const early = terminal([`${PW}\r`]);
    const bad = ['rewrap', '--passphrase', '--add-key', sb.at('missing.json'), sb.at('sealed'), sb.at('out2')];
    expect(await caught(rewrapCommand(parseArgs(bad) as RewrapCommand, { terminal: early.io, env: {} }))).toMatchObject({ code: 'ERR_KEYFILE' });
    expect(early.out.text).toBe('');
  });

  it('the spawned CLI has no terminal here: --passphrase is ERR_USAGE on every command', async () => {
    writeFileSync(sb.at('plain'), 'x');
    for (const args of [['encrypt', '--passphrase', 'plain', 'o'], ['decrypt', '--passphrase', 'plain', 'o'], ['rewrap', '--passphrase', '--remove', 'x', 'plain', 'o']]) {
      expectFailure(await sb.run(args), 'ERR_USAGE', 2);
    }
  });
});
