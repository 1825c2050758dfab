/**
 * Turns {@link KeySource}s into key providers, for one command. The local store and each cloud
 * KMS client are opened once and shared; every provider holding key material is disposed (its
 * copy wiped) by {@link KeyLoader.dispose}.
 *
 * Sources are loaded in two passes: first everything that needs no typing (key files, the
 * environment, KMS clients), then the terminal prompts, so a bad key file or a missing variable
 * is reported before anyone types a passphrase. The providers come back in command-line order.
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
import { anyLocalKey, openLocalStore } from './local-kms.js';
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
        return loadKeyFile(source.path);
      case 'rsa':
        return loadRsaKeyFile(source.path, writing ? 'public' : 'private');
      case 'kms':
        return this.#kms(source.spec);
      case 'passphrase-env':
        return passphraseFromEnv(source.variable, writing ? this.#opts.kdf : undefined, this.#opts.env);
      case 'passphrase-prompt':
        return passphraseFromPrompt(this.#opts.terminal ?? processTerminal(), { label: set.promptLabel, confirm: writing }, writing ? this.#opts.kdf : undefined);
    }
  }

  async #kms(spec: KmsSpec): Promise<KeyProvider> {
    if (spec.kms === 'local') {
      this.#local ??= openLocalStore(this.#opts.kmsStore, false);
      const client = await this.#local;
      return spec.keyId === undefined ? anyLocalKey(client) : kms({ client, keyId: spec.keyId });
    }
    let client = this.#clouds.get(spec.kms);
    if (client === undefined) {
      client = cloudKmsClient(spec.kms, this.#opts.env);
      this.#clouds.set(spec.kms, client);
    }
    return kms({ client, keyId: spec.keyId as string });
  }
}
