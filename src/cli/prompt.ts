/**
 * Reading a passphrase from the terminal without echo: the terminal is put in raw mode (so
 * nothing typed is echoed and Ctrl-C arrives as a byte), the line is collected into a buffer
 * this module owns, and the mode is restored on every path — Enter, Ctrl-C, end of input, an
 * error, or a signal while waiting (which is then re-raised).
 *
 * Keys: Enter (CR or LF) ends the line; Backspace/DEL erases the last character; Ctrl-U erases
 * the line; Ctrl-C cancels; Ctrl-D cancels on an empty line and ends it otherwise; escape
 * sequences (arrow keys…) and other control characters are ignored. Nothing typed is ever
 * written to the output: only the prompt and a final newline.
 *
 * The streams and the signal source are injectable so tests can drive a fake terminal.
 *
 * @module
 */
import { constantTimeEqual, fromUtf8, wipe } from '../bytes.js';
import { CliError, usageError } from './cli-error.js';

/** Longest line accepted, in bytes. */
export const MAX_SECRET_LINE_BYTES = 4096;

type DataListener = (chunk: Uint8Array | string) => void;
type EndListener = () => void;

/** The input side of a terminal (what `process.stdin` offers when it is a TTY). */
export interface PromptInput {
  readonly isTTY?: boolean;
  readonly isRaw?: boolean;
  setRawMode?(raw: boolean): unknown;
  on(event: 'data', listener: DataListener): unknown;
  on(event: 'end', listener: EndListener): unknown;
  removeListener(event: 'data', listener: DataListener): unknown;
  removeListener(event: 'end', listener: EndListener): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** The output side (what `process.stderr` offers). */
export interface PromptOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** Where signals come from, and how one is re-raised after the terminal was restored. */
export interface SignalHost {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: () => void): unknown;
  /** Re-raises `signal` (default: `process.kill(process.pid, signal)`). */
  raise(signal: NodeJS.Signals): void;
}

/** A terminal to prompt on. */
export interface PromptIo {
  readonly input: PromptInput;
  readonly output: PromptOutput;
  /** Default: the process's own signals. */
  readonly signals?: SignalHost;
}

/** Signals that would otherwise leave the terminal in raw mode. */
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const PROCESS_SIGNALS: SignalHost = {
  on: (signal, listener) => process.on(signal, listener),
  removeListener: (signal, listener) => process.removeListener(signal, listener),
  raise: (signal) => process.kill(process.pid, signal),
};

/**
 * The process's own terminal: stdin for input, stderr for the prompt.
 * @returns the standard streams as a {@link PromptIo}
 */
export function processTerminal(): PromptIo {
  return { input: process.stdin, output: process.stderr };
}

/**
 * Whether `io` is an interactive terminal that can be put in raw mode.
 * @param io - the terminal
 * @returns true when input and output are TTYs and the input has `setRawMode`
 */
export function isInteractive(io: PromptIo): boolean {
  return io.input.isTTY === true && io.output.isTTY === true && typeof io.input.setRawMode === 'function';
}

/** A growable byte buffer whose every discarded copy is wiped. */
class SecretLine {
  #buf = new Uint8Array(64);
  #len = 0;

  push(byte: number): void {
    if (this.#len === MAX_SECRET_LINE_BYTES) throw usageError(`the passphrase is longer than ${MAX_SECRET_LINE_BYTES} bytes`);
    if (this.#len === this.#buf.length) {
      const grown = new Uint8Array(Math.min(this.#buf.length * 2, MAX_SECRET_LINE_BYTES));
      grown.set(this.#buf);
      wipe(this.#buf);
      this.#buf = grown;
    }
    this.#buf[this.#len++] = byte;
  }

  /** Erases the last UTF-8 character (its continuation bytes, then its lead byte). */
  erase(): void {
    while (this.#len > 0 && ((this.#buf[this.#len - 1] as number) & 0xc0) === 0x80) this.#buf[--this.#len] = 0;
    if (this.#len > 0) this.#buf[--this.#len] = 0;
  }

  clear(): void {
    wipe(this.#buf);
    this.#len = 0;
  }

  get length(): number {
    return this.#len;
  }

  /** A copy of the line (the caller wipes it); this buffer is wiped. */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.#len);
    this.clear();
    return out;
  }
}

/** What a byte does to the line being typed. */
type Step = 'more' | 'done' | 'cancel';

/** Interprets typed bytes; escape sequences are skipped, not collected. */
class LineEditor {
  readonly line = new SecretLine();
  #escape: 'none' | 'esc' | 'csi' = 'none';

  feed(byte: number): Step {
    if (this.#escape === 'esc') {
      this.#escape = byte === 0x5b || byte === 0x4f ? 'csi' : 'none'; // ESC [ or ESC O
      return 'more';
    }
    if (this.#escape === 'csi') {
      if (byte >= 0x40 && byte <= 0x7e) this.#escape = 'none'; // final byte of the sequence
      return 'more';
    }
    switch (byte) {
      case 0x0d:
      case 0x0a:
        return 'done';
      case 0x03:
        return 'cancel';
      case 0x04:
        return this.line.length === 0 ? 'cancel' : 'done';
      case 0x7f:
      case 0x08:
        this.line.erase();
        return 'more';
      case 0x15:
        this.line.clear();
        return 'more';
      case 0x1b:
        this.#escape = 'esc';
        return 'more';
      default:
        if (byte >= 0x20) this.line.push(byte);
        return 'more';
    }
  }
}

/**
 * Prompts for one line without echo.
 * @param io - the terminal
 * @param prompt - text written before reading (e.g. `"Passphrase: "`)
 * @returns the bytes typed, without the line end (the caller wipes them)
 * @throws CliError `ERR_USAGE` when `io` is not an interactive terminal or the line is too
 *   long; `ERR_CANCELLED` on Ctrl-C or end of input
 * @example
 * ```ts
 * const bytes = await readHiddenLine(processTerminal(), 'Passphrase: ');
 * ```
 */
export async function readHiddenLine(io: PromptIo, prompt: string): Promise<Uint8Array> {
  if (!isInteractive(io)) throw usageError('--passphrase needs a terminal on stdin and stderr (use --passphrase-env VAR otherwise)');
  const { input, output } = io;
  const signals = io.signals ?? PROCESS_SIGNALS;
  const wasRaw = input.isRaw === true;
  const editor = new LineEditor();
  let onData: DataListener = () => undefined;
  let onEnd: EndListener = () => undefined;
  const onSignal = new Map<NodeJS.Signals, () => void>();
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    input.removeListener('data', onData);
    input.removeListener('end', onEnd);
    for (const [signal, listener] of onSignal) signals.removeListener(signal, listener);
    onSignal.clear();
    input.setRawMode?.(wasRaw);
    input.pause();
  };
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      const finish = (step: 'done' | 'cancel' | Error): void => {
        if (restored) return;
        restore();
        output.write('\n'); // raw mode echoed nothing, not even the line end
        if (step === 'done') resolve(editor.line.take());
        else reject(step === 'cancel' ? new CliError('ERR_CANCELLED', 'passphrase entry cancelled') : step);
      };
      onData = (chunk) => {
        const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
        try {
          for (const byte of bytes) {
            const step = editor.feed(byte);
            if (step !== 'more') return finish(step); // anything typed after the line end is dropped
          }
        } catch (e) {
          finish(e as Error);
        } finally {
          wipe(bytes);
        }
      };
      onEnd = () => finish('cancel');
      for (const signal of SIGNALS) {
        const listener = (): void => {
          finish('cancel');
          signals.raise(signal); // now with the default action: the process ends as it would have
        };
        onSignal.set(signal, listener);
        signals.on(signal, listener);
      }
      input.setRawMode?.(true);
      output.write(prompt);
      input.on('data', onData);
      input.on('end', onEnd);
      input.resume();
    });
  } finally {
    editor.line.clear();
    restore(); // a no-op: every path above has restored already
  }
}

/** What {@link promptPassphrase} asks. */
export interface PassphrasePrompt {
  /** What the passphrase is for, e.g. `"Passphrase"` or `"New passphrase"`. */
  readonly label: string;
  /** Ask twice and require both to match (when setting a passphrase). */
  readonly confirm: boolean;
}

/**
 * Prompts for a passphrase (twice when `confirm`) and decodes it as UTF-8.
 * @param io - the terminal
 * @param ask - label and whether to confirm
 * @returns the passphrase (a string: the passphrase provider normalises it to NFC, as it does
 *   for `--passphrase-env`, so both give the same key)
 * @throws CliError `ERR_USAGE` for no terminal, an empty passphrase, invalid UTF-8 or a
 *   mismatch; `ERR_CANCELLED`
 * @example
 * ```ts
 * const pw = await promptPassphrase(processTerminal(), { label: 'Passphrase', confirm: true });
 * ```
 */
export async function promptPassphrase(io: PromptIo, ask: PassphrasePrompt): Promise<string> {
  const first = await readHiddenLine(io, `${ask.label}: `);
  let second: Uint8Array | undefined;
  try {
    if (first.length === 0) throw usageError('the passphrase must not be empty');
    if (ask.confirm) {
      second = await readHiddenLine(io, `Confirm ${ask.label.toLowerCase()}: `);
      if (!constantTimeEqual(first, second)) throw usageError('the passphrases do not match');
    }
    try {
      return fromUtf8(first);
    } catch {
      throw usageError('the passphrase is not valid UTF-8');
    }
  } finally {
    wipe(first, second);
  }
}
