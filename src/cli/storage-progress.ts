/**
 * The progress line of `put` and `get`: bytes so far (and of the total, when known), rate and
 * time left, drawn on stderr only when stderr is a terminal — at the start, then at most 10
 * times a second — and erased at the end. Nothing is ever written when stderr is not a
 * terminal.
 *
 * ```
 * enseal: put  12.0 MiB / 64.0 MiB  18.8%  23.4 MB/s  ETA 0:02
 * ```
 *
 * @module
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CLEAR_LINE, PROGRESS_INTERVAL_MS } from './progress.js';

/** A running progress line. */
export interface TransferProgress {
  /** Counts `n` more bytes (and redraws when due). */
  add(n: number): void;
  /** Erases the line; safe to call twice. */
  end(): void;
}

/**
 * Bytes in binary units with one decimal.
 * @param n - bytes
 * @returns e.g. `12.0 MiB`
 */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u] as string}`;
}

/** Seconds as `M:SS` or `H:MM:SS`. */
function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * One progress line (no control characters).
 * @param label - `put` or `get`
 * @param done - bytes so far
 * @param total - all bytes, when known
 * @param elapsedMs - time since the start
 * @returns e.g. `enseal: get  1.0 MiB / 4.0 MiB  25.0%  10.5 MB/s  ETA 0:01`
 * @example
 * ```ts
 * formatTransfer('put', 5 << 20, 10 << 20, 1000); // 'enseal: put  5.0 MiB / 10.0 MiB  50.0%  5.2 MB/s  ETA 0:01'
 * ```
 */
export function formatTransfer(label: string, done: number, total: number | undefined, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const parts = [`enseal: ${label}`, total === undefined ? formatBytes(done) : `${formatBytes(done)} / ${formatBytes(total)}`];
  if (total !== undefined) parts.push(`${(total > 0 ? Math.min(100, (done / total) * 100) : 100).toFixed(1)}%`);
  parts.push(`${(rate / 1e6).toFixed(1)} MB/s`);
  if (total !== undefined) parts.push(rate > 0 ? `ETA ${clock(Math.max(0, total - done) / rate)}` : 'ETA --:--');
  return parts.join('  ');
}

/**
 * Starts a progress line, or a silent counter when stderr is not a terminal.
 * @param label - `put` or `get`
 * @param total - all bytes, when known
 * @param opts - `isTTY` (default `process.stderr.isTTY`), `write` (default stderr), `now` (ms clock)
 * @returns the progress
 */
export function transferProgress(
  label: string,
  total: number | undefined,
  opts: { isTTY?: boolean | undefined; write?: (s: string) => void; now?: () => number } = {},
): TransferProgress {
  const isTTY = 'isTTY' in opts ? opts.isTTY : process.stderr.isTTY;
  if (isTTY !== true) return { add: () => undefined, end: () => undefined };
  const write = opts.write ?? ((s: string) => void process.stderr.write(s));
  const now = opts.now ?? Date.now;
  const started = now();
  let done = 0;
  let last = started;
  let ended = false;
  const draw = (t: number): void => write(`\r${formatTransfer(label, done, total, t - started)}\x1b[K`);
  draw(started);
  return {
    add(n) {
      done += n;
      const t = now();
      if (!ended && t - last >= PROGRESS_INTERVAL_MS) {
        draw(t);
        last = t;
      }
    },
    end() {
      if (!ended) write(CLEAR_LINE);
      ended = true;
    },
  };
}

/**
 * A Web pass-through stream that counts bytes into a progress line.
 * @param progress - the line
 * @returns the stream
 */
export function countingWebStream(progress: TransferProgress): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      progress.add(chunk.length);
      controller.enqueue(chunk);
    },
  });
}

/**
 * A Node pass-through stream that counts bytes into a progress line.
 * @param progress - the line
 * @returns the stream
 */
export function countingNodeStream(progress: TransferProgress): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, cb: TransformCallback): void {
      progress.add(chunk.length);
      cb(null, chunk);
    },
  });
}
