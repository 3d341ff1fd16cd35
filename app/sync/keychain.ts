// The API key lives in the OS keychain (keytar: Secret Service, macOS Keychain, Windows
// Credential Vault) when one is there. keytar is an optional dependency: it builds from source
// against libsecret, and a machine without libsecret's headers installs without it. Callers get a
// small interface so tests can pass an in-memory store; key-source.ts says where a key is kept
// when the keychain cannot be used.

export const KEYCHAIN_SERVICE = 'youlab-sync';

export interface SecretStore {
  get(account: string): Promise<string | undefined>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

/** The part of keytar this module uses; declared here so typechecking works where keytar is not installed. */
interface KeytarApi {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

/** Raised when no keychain is reachable; the message says why and what to do. Never fall back to plaintext. */
export class KeychainUnavailableError extends Error {
  /** Why, in one line (shown by `npm start` and the settings window). */
  readonly reason: string;
  constructor(cause: unknown) {
    const reason = keychainFailureReason(cause);
    super(
      `No OS keychain is available to store the API key: ${reason}. ` +
        'Set YOULAB_API_KEY for this session, or pass --key-file <file> (a file only you can read, mode 0600) instead. ' +
        `Cause: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'KeychainUnavailableError';
    this.reason = reason;
  }
}

function keychainFailureReason(cause: unknown): string {
  const code = (cause as { code?: string })?.code;
  const msg = cause instanceof Error ? cause.message : String(cause);
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package) 'keytar'/.test(msg)) {
    return 'the keychain module (keytar, optional) is not installed; it builds at npm ci where libsecret is present (Debian: apt-get install libsecret-1-dev, then npm ci)';
  }
  if (/libsecret|\.node\b|ERR_DLOPEN_FAILED/.test(msg) || code === 'ERR_DLOPEN_FAILED') return 'the keychain module (keytar) could not be loaded';
  return 'no Secret Service answered (on Linux, a keyring such as gnome-keyring must be running and unlocked)';
}

// A variable specifier keeps tsc and esbuild from resolving keytar: it may be absent.
const KEYTAR = 'keytar';

/** keytar, or a KeychainUnavailableError saying why it cannot be loaded. Loaded lazily: most processes never need it. */
export async function loadKeytar(specifier = KEYTAR): Promise<KeytarApi> {
  try {
    const mod = (await import(specifier)) as { default?: KeytarApi } & KeytarApi;
    return mod.default ?? mod;
  } catch (e) {
    throw new KeychainUnavailableError(e);
  }
}

export function createOsKeychain(service = KEYCHAIN_SERVICE, load: () => Promise<KeytarApi> = () => loadKeytar()): SecretStore {
  const guard = async <T>(fn: (k: KeytarApi) => Promise<T>): Promise<T> => {
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
