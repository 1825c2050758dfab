/**
 * Turns {@link KeySource}s into key providers, for one command. The local store and each cloud
 * KMS client are opened once and shared; every provider holding key material is disposed (its
 * copy wiped) by {@link KeyLoader.dispose}.
 *
 * Sources are loaded in two passes: first everything that needs no typing (key files, the
 * environment, KMS clients), then the terminal prompts, so a bad key file or a missing variable
 * is reported before anyone types a passphrase. The providers come back in command-line order.
 *
 * KMS keys are strict (`kms({ client, keyId })` unwraps only stanzas made under that key), except
 * `--kms local` on decryption (any key of the store: `discovery: true`) and, with
 * `--kms-discovery`, the cloud keys that unlock (never the recipients written).
 *
 * @module
 */
import type { KeyProvider } from '../keys/provider.js';
import { kms, type KmsClient } from '../keys/kms.js';
import type { LocalKms } from '../kms/local.js';
import type { KdfChoice } from './kdf-args.js';
import type { KeyRole, KeySource, KmsSpec } from './key-args.js';
import { loadKeyFile } from './keyfile.js';
import { cloudKmsClient, type CloudKmsName, type Environment } from './kms-env.js';
import type { Warn } from './key-permissions.js';
import { openLocalStore } from './local-kms.js';
import { passphraseFromEnv, passphraseFromPrompt } from './passphrase-source.js';
import { processTerminal, type PromptIo } from './prompt.js';
import { loadRsaKeyFile } from './rsa-file.js';

/** One group of sources: the recipients of an `encrypt`, the keys of a `decrypt`, … */
export interface KeySet {
  readonly sources: readonly KeySource[];
  readonly role: KeyRole;
  /** The passphrase prompt's label, e.g. `"Passphrase"` or `"New passphrase"`. */
  readonly promptLabel: string;
}

/** What the sources of one command share. */
export interface KeyLoaderOptions {
  /** `--kms-store` (`undefined`: the default store). */
  readonly kmsStore: string | undefined;
  /** `--kdf`/`--kdf-cost`, applied to passphrase recipients. */
  readonly kdf: KdfChoice | undefined;
  /** Default `process.env`. */
  readonly env?: Environment;
  /** Default: stdin and stderr. */
  readonly terminal?: PromptIo;
  /** `--legacy`: `--rsa-private` keys also read legacy RSA stanzas. Default false. */
  readonly legacyRsa?: boolean;
  /** `--kms-discovery`: cloud `--kms` keys unwrap stanzas of any key of their KMS. Default false. */
  readonly kmsDiscovery?: boolean;
  /** Where key-file permission warnings go (default stderr). */
  readonly warn?: Warn;
}

const disposable = (p: KeyProvider): p is KeyProvider & { dispose(): void } => typeof (p as { dispose?: unknown }).dispose === 'function';

/** Loads the key sources of one command and owns the providers it creates. */
export class KeyLoader {
  readonly #opts: KeyLoaderOptions;
  readonly #owned: (KeyProvider & { dispose(): void })[] = [];
  #local: Promise<LocalKms> | undefined;
  readonly #clouds = new Map<CloudKmsName, KmsClient>();

  /** @param opts - the store, the KDF choice, and (for tests) the environment and terminal */
  constructor(opts: KeyLoaderOptions) {
    this.#opts = opts;
  }

  /**
   * Loads every set.
   * @param sets - groups of sources
   * @returns one provider list per set, each in command-line order
   * @throws CliError `ERR_KEYFILE`, `ERR_USAGE`, `ERR_CANCELLED`; EnsealError for the local store
   */
  async load(sets: readonly KeySet[]): Promise<KeyProvider[][]> {
    const out: (KeyProvider | undefined)[][] = sets.map((set) => set.sources.map(() => undefined));
    for (const typed of [false, true]) {
      for (const [i, set] of sets.entries()) {
        for (const [j, source] of set.sources.entries()) {
          if ((source.kind === 'passphrase-prompt') === typed) out[i]![j] = this.#own(await this.#provider(source, set));
        }
      }
    }
    return out as KeyProvider[][];
  }

  /** Disposes every provider created (wiping their key material); safe to call twice. */
  dispose(): void {
    for (const p of this.#owned.splice(0)) p.dispose();
  }

  #own(p: KeyProvider): KeyProvider {
    if (disposable(p)) this.#owned.push(p);
    return p;
  }

  async #provider(source: KeySource, set: KeySet): Promise<KeyProvider> {
    const writing = set.role === 'recipient';
    switch (source.kind) {
      case 'key-file':
        return loadKeyFile(source.path, this.#opts.warn);
      case 'rsa':
        return writing
          ? loadRsaKeyFile(source.path, 'public')
          : loadRsaKeyFile(source.path, 'private', { legacy: this.#opts.legacyRsa === true, warn: this.#opts.warn });
      case 'kms':
        return this.#kms(source.spec, writing);
      case 'passphrase-env':
        return passphraseFromEnv(source.variable, writing ? this.#opts.kdf : undefined, this.#opts.env);
      case 'passphrase-prompt':
        return passphraseFromPrompt(this.#opts.terminal ?? processTerminal(), { label: set.promptLabel, confirm: writing }, writing ? this.#opts.kdf : undefined);
    }
  }

  async #kms(spec: KmsSpec, writing: boolean): Promise<KeyProvider> {
    if (spec.kms === 'local') {
      this.#local ??= openLocalStore(this.#opts.kmsStore, false);
      const client = await this.#local;
      // `--kms local` means any key of the store: discovery.
      return spec.keyId === undefined ? kms({ client, discovery: true }) : kms({ client, keyId: spec.keyId });
    }
    let client = this.#clouds.get(spec.kms);
    if (client === undefined) {
      client = cloudKmsClient(spec.kms, this.#opts.env);
      this.#clouds.set(spec.kms, client);
    }
    const keyId = spec.keyId as string;
    // Strict by default: only stanzas made under the configured key. Discovery only unwraps.
    return this.#opts.kmsDiscovery === true && !writing ? kms({ client, discovery: true }) : kms({ client, keyId });
  }
}
