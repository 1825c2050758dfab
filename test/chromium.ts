/**
 * The Chromium the browser tests launch: the binary shipped inside the npm package
 * `@sparticuz/chromium` (extracted to /tmp on first use), or `CHROMIUM_PATH`. Its default flags
 * are for AWS Lambda; `--single-process` (and `--no-zygote`, which goes with it) are dropped so
 * that the browser runs with its usual process model, as users' browsers do.
 */
import { existsSync } from 'node:fs';

/** Flags every test browser gets (no traffic leaves the machine). */
const EXTRA = ['--disable-background-networking', '--disable-component-update'];
const DROPPED = new Set(['--single-process', '--no-zygote']);

/**
 * @param more - further flags for this test
 * @returns the executable and its launch flags
 */
export async function chromiumBinary(more: readonly string[] = []): Promise<{ executablePath: string; args: string[] }> {
  const sparticuz = (await import('@sparticuz/chromium')).default;
  const args = [...sparticuz.args.filter((a) => !DROPPED.has(a)), ...EXTRA, ...more];
  const override = process.env.CHROMIUM_PATH;
  if (override !== undefined && override !== '') {
    if (!existsSync(override)) throw new Error(`CHROMIUM_PATH=${override} does not exist`);
    return { executablePath: override, args };
  }
  return { executablePath: await sparticuz.executablePath(), args };
}
