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
import { hkdfExpand, hkdfExpandSync } from '../backends/hkdf.js';
import { syncHmacOf, type KeyedHmac, type SyncHmac } from '../backends/sync.js';
import { EnsealError } from '../errors.js';
import type { Header } from './header.js';
import { HEADER_MAC_LENGTH } from './limits.js';

/** HashLen of SHA-512, the hash of the MAC key's HKDF-Expand. */
const SHA512_LENGTH = 64;

const MAC_INFO = utf8('enseal/v1 header-mac');

/**
 * The header MAC key (§2.4): `HKDF-Expand-SHA-512(data key, "enseal/v1 header-mac", 32)`. It
 * needs only the data key, so a writer can derive it while the recipients wrap the data key.
 * @param backend - the backend of the call
 * @param dataKey - the object's data key
 * @returns the MAC key (the caller wipes it)
 * @example
 * ```ts
 * const macKey = await headerMacKey(backend, dataKey);
 * ```
 */
export function headerMacKey(backend: CryptoBackend, dataKey: Uint8Array): Promise<Bytes> {
  return hkdfExpand(backend, 'SHA-512', dataKey, MAC_INFO, HEADER_MAC_LENGTH);
}

/**
 * Appends the mac to an encoded header body, with a MAC key from {@link headerMacKey} (which
 * this call wipes, on success and on error).
 * @param backend - the backend of the call
 * @param macKey - the header MAC key (wiped here)
 * @param body - the encoded header body (everything before the mac)
 * @returns `body || mac`
 * @example
 * ```ts
 * const header = await appendHeaderMacWithKey(backend, await headerMacKey(backend, dataKey), body);
 * ```
 */
export async function appendHeaderMacWithKey(backend: CryptoBackend, macKey: Bytes, body: Uint8Array): Promise<Bytes> {
  return concat(body, await macWith(backend, macKey, body));
}

async function computeMac(backend: CryptoBackend, dataKey: Uint8Array, macInput: Uint8Array): Promise<Bytes> {
  return macWith(backend, await headerMacKey(backend, dataKey), macInput);
}

async function macWith(backend: CryptoBackend, macKey: Bytes, macInput: Uint8Array): Promise<Bytes> {
  try {
    const keyed = syncHmacOf(backend)?.('SHA-256', macKey);
    if (keyed === undefined) return await backend.hmac('SHA-256', macKey, macInput);
    try {
      return keyed.mac(macInput);
    } finally {
      keyed.dispose();
    }
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

/**
 * The header mac (§2.4), synchronously: `mac_key` expanded from an HMAC-SHA-512 already keyed
 * with the data key (the same keying the payload's HKDF uses), then HMAC-SHA-256 over
 * `macInput`. The MAC key exists only inside this call and is wiped on every path.
 * @param hmac - the backend's synchronous HMAC (for the SHA-256 keyed with `mac_key`)
 * @param dataKeyed - HMAC-SHA-512 keyed with the data key (not disposed here)
 * @param macInput - the header bytes before the mac
 * @returns the 32-byte mac
 * @example
 * ```ts
 * const mac = headerMacSync(syncHmacOf(backend)!, keyed, body);
 * ```
 */
export function headerMacSync(hmac: SyncHmac, dataKeyed: KeyedHmac, macInput: Uint8Array): Bytes {
  const macKey = hkdfExpandSync(dataKeyed, SHA512_LENGTH, MAC_INFO, HEADER_MAC_LENGTH);
  let keyed: KeyedHmac | undefined;
  try {
    keyed = hmac('SHA-256', macKey);
    return keyed.mac(macInput);
  } finally {
    keyed?.dispose();
    wipe(macKey);
  }
}

/**
 * {@link verifyHeaderMac}, synchronously (see {@link headerMacSync}); constant-time compare.
 * @param hmac - the backend's synchronous HMAC
 * @param dataKeyed - HMAC-SHA-512 keyed with the data key (not disposed here)
 * @param header - the decoded header
 * @throws EnsealError `ERR_AUTH` when any header byte was changed
 * @example
 * ```ts
 * verifyHeaderMacSync(syncHmacOf(backend)!, keyed, decodeHeader(bytes));
 * ```
 */
export function verifyHeaderMacSync(hmac: SyncHmac, dataKeyed: KeyedHmac, header: Header): void {
  const expected = headerMacSync(hmac, dataKeyed, header.macInput);
  if (!constantTimeEqual(expected, header.mac)) throw new EnsealError('ERR_AUTH', 'header authentication failed');
}
