// The API key lives only in the OS keychain (keytar: Secret Service, macOS Keychain, Windows
// Credential Vault). Callers get a small interface so tests can pass an in-memory store.

import type * as Keytar from 'keytar';

export const KEYCHAIN_SERVICE = 'youlab-sync';

export interface SecretStore {
  get(account: string): Promise<string | undefined>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

/** Raised when no keychain is reachable; the message tells the user what to do. Never fall back to plaintext. */
export class KeychainUnavailableError extends Error {
  constructor(cause: unknown) {
    super(
      'No OS keychain is available to store the API key (on Linux, a Secret Service such as gnome-keyring ' +
        'must be running and unlocked). Set YOULAB_API_KEY for this session instead. ' +
        `Cause: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'KeychainUnavailableError';
  }
}

export function createOsKeychain(service = KEYCHAIN_SERVICE): SecretStore {
  // keytar is a native module: load it lazily so processes that never touch the keychain need not load it.
  const load = async () => {
    try {
      const mod = await import('keytar');
      return (mod.default ?? mod) as typeof Keytar;
    } catch (e) {
      throw new KeychainUnavailableError(e);
    }
  };
  const guard = async <T>(fn: (k: typeof Keytar) => Promise<T>): Promise<T> => {
    const k = await load();
    try {
      return await fn(k);
    } catch (e) {
      throw new KeychainUnavailableError(e);
    }
  };
  return {
    get: (account) => guard(async (k) => (await k.getPassword(service, account)) ?? undefined),
    set: (account, secret) => guard((k) => k.setPassword(service, account, secret)),
    delete: (account) => guard((k) => k.deletePassword(service, account)),
  };
}

export function createMemoryKeychain(initial: Record<string, string> = {}): SecretStore {
  const m = new Map(Object.entries(initial));
  return {
    get: async (a) => m.get(a),
    set: async (a, s) => {
      m.set(a, s);
    },
    delete: async (a) => m.delete(a),
  };
}

/** The keychain account for a hub: one key per server URL. */
export function accountFor(serverUrl: string): string {
  return new URL(serverUrl).origin;
}
