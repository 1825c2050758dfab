/**
 * The header MAC (docs/FORMAT.md §2.4): authenticates every header byte, recipients included,
 * under a key only holders of the data key can derive. It lets `rewrap` change recipients
 * without touching the payload, while any edit to a stanza still fails before any chunk.
 *
 * ```
 * mac_key = HKDF-Expand-SHA-512(prk = data key, info = "enseal/v1 header-mac", 32)
 * mac     = HMAC-SHA-256(mac_key, header bytes before the mac)
 * ```
 * The C2SP payload derives its keys from the same data key with the info prefix
 * "c2sp.org/chunked-encryption@v1+", so the two uses are domain-separated.
 *
 * @module
 */
import { concat, constantTimeEqual, utf8, wipe, type Bytes } from '../bytes.js';
import type { CryptoBackend } from '../backends/backend.js';
import { hkdfExpand } from '../backends/hkdf.js';
import { EnsealError } from '../errors.js';
import type { Header } from './header.js';
import { HEADER_MAC_LENGTH } from './limits.js';

const MAC_INFO = utf8('enseal/v1 header-mac');

async function computeMac(backend: CryptoBackend, dataKey: Uint8Array, macInput: Uint8Array): Promise<Bytes> {
  const macKey = await hkdfExpand(backend, 'SHA-512', dataKey, MAC_INFO, HEADER_MAC_LENGTH);
  try {
    return await backend.hmac('SHA-256', macKey, macInput);
  } finally {
    wipe(macKey);
  }
}

/** Appends the mac to an encoded header body. */
export async function appendHeaderMac(backend: CryptoBackend, dataKey: Uint8Array, body: Uint8Array): Promise<Bytes> {
  return concat(body, await computeMac(backend, dataKey, body));
}

/**
 * Checks a decoded header's mac in constant time.
 * @throws EnsealError `ERR_AUTH` when any header byte was changed
 */
export async function verifyHeaderMac(backend: CryptoBackend, dataKey: Uint8Array, header: Header): Promise<void> {
  const expected = await computeMac(backend, dataKey, header.macInput);
  if (!constantTimeEqual(expected, header.mac)) throw new EnsealError('ERR_AUTH', 'header authentication failed');
}
