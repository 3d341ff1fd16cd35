// A stand-in for the preload bridge, run inside the page: it implements the same YoulabApi,
// validates every request against the real IPC contract (as main does) and applies main's own
// settings rules, with canned data from a scenario. Bundled by global-setup.ts and injected with
// page.addInitScript before the page's script runs.
import { BRIDGE_NAME, EVENT_CHANNELS, isInvokeChannel } from '../../app/ipc/channels.ts';
import type { DeviceView, EventChannel, EventOf, KbView, SettingsInput, SettingsView, YoulabApi } from '../../app/ipc/contract.ts';
import { validateFields } from '../../app/main/settings-rules.ts';
import type { ActivityEntry, ConflictInfo, DeletedList, EngineStatus, KeptVersion, Resolution } from '../../app/engine-api/types.ts';
import type { ActionResult, VersionPreview } from '../../app/ipc/contract.ts';

export interface Scenario {
  settings: SettingsView;
  /** Folders that "exist" for the save check. */
  existingFolders: string[];
  /** API key -> user id the fake hub accepts. */
  keys: Record<string, string>;
  storedKey?: string;
  pickFolder: string | null;
  conflicts: ConflictInfo[];
  /** Conflict path -> preview answer. */
  previews: Record<string, { text: boolean; mine?: string; theirs?: string; truncated: boolean }>;
  /** Paths whose resolve fails with this message. */
  resolveFailures?: Record<string, string>;
  activity: ActivityEntry[];
  status: EngineStatus;
  /** issue 18: Open WebUI API key -> hub user id the fake hub's /auth/exchange accepts. */
  openWebuiKeys?: Record<string, string>;
  /** issue 18: this user's devices as GET /me/keys lists them. */
  devices?: DeviceView[];
  /** issue 18: the fake hub is unreachable for sign-in. */
  hubDown?: boolean;
  /** The knowledge-base section (issue 13): what kb:status answers, and after kb:confirm-deletes. */
  kb?: KbView;
  kbAfterConfirm?: KbView;
  kbConfirmResult?: { ok: boolean; message?: string };
  /** History and trash (issue 15): kept versions per path, previews per version id, deleted files, failures per id. */
  history?: HistoryScenario;
}

export interface HistoryScenario {
  versions: Record<string, KeptVersion[]>;
  previews: Record<string, VersionPreview>;
  deleted: DeletedList;
  /** Version or trash id -> the message its restore fails with. */
  restoreFailures?: Record<string, string>;
  /** What the guard's two answers report. */
  guard?: { restore?: ActionResult; delete?: ActionResult };
}

export interface FakeRecord {
  calls: Array<{ channel: string; request: unknown }>;
  saved: SettingsInput[];
  resolved: Array<{ path: string; keep: Resolution }>;
  emit<C extends EventChannel>(channel: C, payload: EventOf<C>): void;
  /** The engine found more conflicts: main's conflicts:list answers them from now on. */
  addConflicts(more: ConflictInfo[]): void;
}

/**
 * Checks a request against the real contract's zod schema. It runs in the test process
 * (page.exposeFunction in harness.ts): the pages' CSP rightly forbids the eval that zod's
 * compiled parsers would need in the page.
 */
declare function __youlabValidate(channel: string, request: unknown): Promise<{ ok: true; data: unknown } | { ok: false; message: string }>;

/** issue 18: the account channels, by the rules of app/main/account-handlers.ts. */
function accountFakes(scenario: Scenario, getKey: () => string | undefined, setKey: (k: string) => void): Record<string, (req: never) => unknown> {
  let devices = [...(scenario.devices ?? [])];
  const validUrl = (u: string) => /^https?:\/\/[^/\s]+/.test(u.trim());
  return {
    'account:sign-in': ({ serverUrl, openWebuiUrl, openWebuiToken }: { serverUrl: string; openWebuiUrl: string; openWebuiToken: string }) => {
      if (!validUrl(serverUrl)) return { ok: false, field: 'serverUrl', message: 'Enter the full hub address first, for example https://hub.example.org' };
      if (openWebuiUrl.trim() && !validUrl(openWebuiUrl)) return { ok: false, field: 'openWebuiUrl', message: 'Enter the full Open WebUI address, for example https://chat.example.org' };
      if (!openWebuiToken.trim()) return { ok: false, field: 'openWebuiToken', message: 'Paste the API key from Open WebUI (Settings › Account › API keys)' };
      if (scenario.hubDown) return { ok: false, message: 'Cannot reach the hub: hub unreachable: ECONNREFUSED' };
      const user = scenario.openWebuiKeys?.[openWebuiToken.trim()];
      if (!user) return { ok: false, field: 'openWebuiToken', message: 'Open WebUI did not accept this token (wrong, expired or revoked key, or API keys are off for this account)' };
      const keyId = 'f'.repeat(16);
      setKey(`ylk_${keyId}_signed-in-secret-0000000000`);
      devices = [...devices.map((d) => ({ ...d, current: false })), { id: keyId, device: 'This laptop', created: '2026-12-01T04:00:00.000Z', lastUsed: '2026-12-01T04:00:00.000Z', current: true }];
      return { ok: true, userId: user, keyId };
    },
    'account:devices': () => (getKey() ? { ok: true, devices } : { ok: false, message: 'Sign in or save an API key for this hub first' }),
    'account:disconnect': ({ keyId }: { keyId: string }) => {
      if (devices.find((d) => d.id === keyId)?.current) return { ok: false, message: 'This is the device you are using; to disconnect it, sign out here instead' };
      if (!devices.some((d) => d.id === keyId)) return { ok: false, message: 'no such key among yours' };
      devices = devices.filter((d) => d.id !== keyId);
      return { ok: true };
    },
  };
}

function installFakeBridge(scenario: Scenario): void {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  let conflicts = [...scenario.conflicts];
  let view = { ...scenario.settings };
  let storedKey = scenario.storedKey;
  let kbView: KbView = scenario.kb ?? { available: false, message: 'The hub does not sync a knowledge base: not configured.' };
  const record: FakeRecord = {
    calls: [],
    saved: [],
    resolved: [],
    emit(channel, payload) {
      for (const l of listeners.get(channel) ?? []) l(payload);
    },
    addConflicts(more) {
      conflicts = [...conflicts, ...more];
    },
  };

  const handlers: Record<string, (req: never) => unknown> = {
    'settings:get': () => view,
    'settings:save': (input: SettingsInput) => {
      const errors = validateFields(input);
      if (!errors.localFolder && !scenario.existingFolders.includes(input.localFolder.trim())) {
        errors.localFolder = 'This folder does not exist; choose an existing folder';
      }
      const key = input.apiKey?.trim();
      if (!errors.serverUrl && !errors.apiKey && !key && !storedKey) errors.apiKey = 'Enter the API key for this hub';
      if (Object.keys(errors).length) return { ok: false, errors };
      if (key) storedKey = key;
      record.saved.push(input);
      view = {
        ...view,
        serverUrl: input.serverUrl.trim(),
        hasApiKey: true,
        localFolder: input.localFolder.trim(),
        intervalSeconds: input.intervalSeconds,
        debounceMs: input.debounceMs,
        ignore: input.ignore.filter((l) => l.trim() !== ''),
        startAtLogin: input.startAtLogin,
        openWebuiUrl: input.openWebuiUrl.trim(),
        firstRun: false,
      };
      return { ok: true };
    },
    'settings:test-connection': ({ serverUrl, apiKey }: { serverUrl: string; apiKey?: string }) => {
      try {
        new URL(serverUrl);
      } catch {
        return { ok: false, message: 'Enter the full hub address first, for example https://hub.example.org' };
      }
      const key = apiKey ?? storedKey;
      if (!key) return { ok: false, message: 'Enter the API key to test the connection' };
      const user = scenario.keys[key];
      return user ? { ok: true, userId: user } : { ok: false, message: 'The hub rejected this API key (HTTP 401): unknown API key' };
    },
    'settings:pick-folder': () => ({ path: scenario.pickFolder }),
    'status:get': () => scenario.status,
    'conflicts:list': () => conflicts,
    'conflicts:preview': ({ path }: { path: string }) => scenario.previews[path] ?? { text: false, truncated: false },
    'conflicts:resolve': ({ paths, keep }: { paths: string[]; keep: Resolution }) => {
      const failed = paths
        .filter((p) => scenario.resolveFailures?.[p])
        .map((p) => ({ path: p, message: scenario.resolveFailures![p]! }));
      const resolved = paths.filter((p) => !scenario.resolveFailures?.[p] && conflicts.some((c) => c.path === p));
      for (const p of resolved) record.resolved.push({ path: p, keep });
      conflicts = conflicts.filter((c) => !resolved.includes(c.path));
      return { resolved, failed };
    },
    'sync:confirm-deletes': () => scenario.history?.guard?.delete ?? { ok: true },
    'activity:get': () => ({ entries: scenario.activity, status: scenario.status }),
    'app:open-log': () => ({ ok: true }),
    'app:open-window': () => ({ ok: true }),
    'window:close': () => ({ ok: true }),
    'log:write': () => ({ ok: true }),
    ...historyHandlers(scenario.history),
    // The knowledge-base leg (issue 13).
    'kb:status': () => kbView,
    'kb:confirm-deletes': () => {
      kbView = scenario.kbAfterConfirm ?? kbView;
      return scenario.kbConfirmResult ?? { ok: true };
    },
    'kb:open-webui': () => ({ ok: Boolean(kbView.openWebuiUrl) }),
    ...accountFakes(scenario, () => storedKey, (k) => (storedKey = k)),
  };

  const api: YoulabApi = {
    async invoke(channel: string, ...args: unknown[]) {
      if (!isInvokeChannel(channel)) throw new Error(`Unknown IPC channel: ${channel}`);
      const request = args[0];
      record.calls.push({ channel, request });
      const parsed = await __youlabValidate(channel, request);
      if (!parsed.ok) throw new Error(`IPC ${channel} refused: ${parsed.message}`);
      // A little latency, as over real IPC, so "Saving…" states are exercised.
      await new Promise((r) => setTimeout(r, 5));
      return structuredClone(handlers[channel]!(parsed.data as never));
    },
    on(channel: string, listener: (p: never) => void) {
      if (!(EVENT_CHANNELS as readonly string[]).includes(channel)) throw new Error(`Unknown event: ${channel}`);
      const set = listeners.get(channel) ?? new Set();
      set.add(listener as (p: unknown) => void);
      listeners.set(channel, set);
      return () => set.delete(listener as (p: unknown) => void);
    },
  } as YoulabApi;

  Object.defineProperty(window, BRIDGE_NAME, { value: Object.freeze(api), configurable: false });
  Object.defineProperty(window, '__fake', { value: record, configurable: false });
}

/** Main's history and trash handlers (app/main/history-handlers.ts) over canned data. */
function historyHandlers(h: HistoryScenario | undefined): Record<string, (req: never) => unknown> {
  const fails = (id: string): ActionResult | undefined => {
    const m = h?.restoreFailures?.[id];
    return m ? { ok: false, message: m } : undefined;
  };
  return {
    'sync:restore-deleted': () => h?.guard?.restore ?? { ok: true, message: '0 files brought back' },
    'history:open': () => ({ ok: true }),
    'history:versions': ({ path }: { path: string }) => {
      const versions = h?.versions[path];
      if (!versions) throw new Error('the hub is unreachable (connect ECONNREFUSED 127.0.0.1:8100)');
      return { versions };
    },
    'history:preview': ({ versionId }: { versionId: string }) => h?.previews[versionId] ?? { text: false, truncated: false },
    'history:restore': ({ path, versionId }: { path: string; versionId: string }) =>
      fails(versionId) ?? { ok: true, message: `${path} restored; it syncs to this folder now` },
    'deleted:open': () => ({ ok: true }),
    'deleted:list': () => h?.deleted ?? { entries: [] },
    'deleted:restore': ({ source, id, path }: { source: 'hub' | 'trash'; id: string; path: string }) =>
      fails(id) ?? { ok: true, message: source === 'hub' ? `${path} restored from the hub` : `${path} put back into the folder` },
  };
}

(globalThis as unknown as { __installFakeBridge: typeof installFakeBridge }).__installFakeBridge = installFakeBridge;
