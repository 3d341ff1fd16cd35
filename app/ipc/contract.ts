// The one IPC contract between the main process and the renderer pages: every channel with the
// zod schema of its request and response. Main validates requests against it; the preload only
// forwards the channels listed here; the fake bridge in tests implements the same `YoulabApi`.
// Pure: no Electron and no Node imports. Bundles for the preload and the pages import channels.ts
// and only types from here, so they stay small.
import { z } from 'zod';
import type { ActivityEntry, ConflictInfo, DeletedList, EngineStatus, KeptVersion } from '../engine-api/types.ts';
import type { EventChannel, HISTORY_CHANNELS, InvokeChannel } from './channels.ts';
import { KbStatusSchema } from '../../shared/kb-status.ts';
import { accountContract } from './account-contract.ts';

type HistoryChannel = (typeof HISTORY_CHANNELS)[number];

export { BRIDGE_NAME, EVENT_CHANNELS, INVOKE_CHANNELS, isInvokeChannel } from './channels.ts';
export type { EventChannel, InvokeChannel } from './channels.ts';

// Engine payloads keep the engine's own types (app/engine-api/types.ts) as the single source of
// truth; they travel main -> renderer only, so they need a type here, not a runtime check.
export const EngineStatusSchema = z.custom<EngineStatus>();
export const ConflictInfoSchema = z.custom<ConflictInfo>();
export const ActivityEntrySchema = z.custom<ActivityEntry>();

export const ResolutionSchema = z.enum(['mine', 'theirs', 'both']);

/** A relative workspace path as the engine reports it; bounded so a renderer cannot send megabytes. */
const WorkspacePath = z.string().min(1).max(4096);

/** What the settings window shows. The API key itself never goes back to a renderer. */
export const SettingsViewSchema = z.object({
  serverUrl: z.string(),
  hasApiKey: z.boolean(),
  localFolder: z.string(),
  intervalSeconds: z.number(),
  debounceMs: z.number(),
  ignore: z.array(z.string()),
  startAtLogin: z.boolean(),
  openWebuiUrl: z.string(),
  /** Set when the OS keychain cannot be reached; the window shows it instead of offering to store a key. */
  keychainError: z.string().optional(),
  firstRun: z.boolean(),
});

/**
 * What the settings window sends on save. Structure is checked here; meaning (URL shape, folder
 * exists, ignore syntax, ranges) is checked by main and answered per field.
 */
export const SettingsInputSchema = z.object({
  serverUrl: z.string().max(2048),
  /** Omitted or empty: keep the stored key. */
  apiKey: z.string().max(4096).optional(),
  localFolder: z.string().max(4096),
  intervalSeconds: z.number(),
  debounceMs: z.number(),
  ignore: z.array(z.string().max(1024)).max(1000),
  startAtLogin: z.boolean(),
  openWebuiUrl: z.string().max(2048),
});

export const SettingsFieldSchema = z.enum([
  'serverUrl',
  'apiKey',
  'localFolder',
  'intervalSeconds',
  'debounceMs',
  'ignore',
  'startAtLogin',
  'openWebuiUrl',
]);

export const SaveResultSchema = z.union([
  z.object({ ok: z.literal(true) }),
  z.object({
    ok: z.literal(false),
    /** One message per field, shown next to it. */
    errors: z.partialRecord(SettingsFieldSchema, z.string()),
  }),
]);

export const ConnectionResultSchema = z.union([
  z.object({ ok: z.literal(true), userId: z.string() }),
  z.object({ ok: z.literal(false), message: z.string() }),
]);

export const PreviewSchema = z.object({
  /** False for binary files or files too large to preview. */
  text: z.boolean(),
  mine: z.string().optional(),
  theirs: z.string().optional(),
  truncated: z.boolean(),
});

export const ResolveResultSchema = z.object({
  resolved: z.array(z.string()),
  failed: z.array(z.object({ path: z.string(), message: z.string() })),
});

export const ActivityViewSchema = z.object({
  entries: z.array(ActivityEntrySchema),
  status: EngineStatusSchema,
});

const Empty = z.undefined();

// ---- history and trash (issue 15) ------------------------------------------------------
export const KeptVersionSchema = z.custom<KeptVersion>();
export const DeletedListSchema = z.custom<DeletedList>();
/** A kept version's text, when it is text (valid UTF-8 without NUL), bounded. */
export const VersionPreviewSchema = z.object({ text: z.boolean(), content: z.string().optional(), truncated: z.boolean() });
export const ActionResultSchema = z.object({ ok: z.boolean(), message: z.string().optional() });
/** A version id as the hub spells it (`<ms>-<hex>`), or a trash place `<batch>/<path>`. */
const VersionId = z.string().min(1).max(64);
const TrashId = z.string().min(1).max(4200);

const historyContract = {
  'sync:restore-deleted': { request: Empty, response: ActionResultSchema },
  'history:open': { request: z.object({ path: WorkspacePath }), response: z.object({ ok: z.boolean() }) },
  'history:versions': { request: z.object({ path: WorkspacePath }), response: z.object({ versions: z.array(KeptVersionSchema) }) },
  'history:preview': { request: z.object({ path: WorkspacePath, versionId: VersionId }), response: VersionPreviewSchema },
  'history:restore': { request: z.object({ path: WorkspacePath, versionId: VersionId }), response: ActionResultSchema },
  'deleted:open': { request: Empty, response: z.object({ ok: z.boolean() }) },
  'deleted:list': { request: Empty, response: DeletedListSchema },
  'deleted:restore': {
    request: z.discriminatedUnion('source', [
      z.object({ source: z.literal('hub'), path: WorkspacePath, id: VersionId }),
      z.object({ source: z.literal('trash'), path: WorkspacePath, id: TrashId }),
    ]),
    response: ActionResultSchema,
  },
} as const satisfies Record<HistoryChannel, { request: z.ZodType; response: z.ZodType }>;
export type VersionPreview = z.infer<typeof VersionPreviewSchema>;
export type ActionResult = z.infer<typeof ActionResultSchema>;

// ---- The knowledge-base leg (issue 13) ----

/**
 * What the "Knowledge base" section of Recent activity shows: the hub's status answer (parsed
 * with the hub client's schema, shared/kb-status.ts) with the failed and held files, or why
 * there is none. `openWebuiUrl`: the settings' Open WebUI address, when set.
 */
export const KbViewSchema = z.union([
  z.object({ available: z.literal(true), status: KbStatusSchema, fetchedAt: z.string(), openWebuiUrl: z.string().optional() }),
  z.object({ available: z.literal(false), message: z.string(), openWebuiUrl: z.string().optional() }),
]);
export type KbView = z.infer<typeof KbViewSchema>;

const kbInvokeContract = {
  'kb:status': { request: z.undefined(), response: KbViewSchema },
  /** Confirm the KB deletes the hub's guard held: one KB round on the hub carries them out. */
  'kb:confirm-deletes': { request: z.undefined(), response: z.object({ ok: z.boolean(), message: z.string().optional() }) },
  /** Opens the KB in Open WebUI (main builds the address from the settings; the page sends none). */
  'kb:open-webui': { request: z.undefined(), response: z.object({ ok: z.boolean() }) },
} as const;

/** Request/response channels (renderer invokes, main answers). */
export const invokeContract = {
  'settings:get': { request: Empty, response: SettingsViewSchema },
  'settings:save': { request: SettingsInputSchema, response: SaveResultSchema },
  'settings:test-connection': {
    request: z.object({ serverUrl: z.string().max(2048), apiKey: z.string().max(4096).optional() }),
    response: ConnectionResultSchema,
  },
  'settings:pick-folder': {
    request: z.object({ current: z.string().max(4096).optional() }),
    response: z.object({ path: z.string().nullable() }),
  },
  'status:get': { request: Empty, response: EngineStatusSchema },
  'conflicts:list': { request: Empty, response: z.array(ConflictInfoSchema) },
  'conflicts:preview': { request: z.object({ path: WorkspacePath }), response: PreviewSchema },
  'conflicts:resolve': {
    request: z.object({ paths: z.array(WorkspacePath).min(1).max(10_000), keep: ResolutionSchema }),
    response: ResolveResultSchema,
  },
  'sync:confirm-deletes': { request: Empty, response: z.object({ ok: z.boolean(), message: z.string().optional() }) },
  'activity:get': { request: Empty, response: ActivityViewSchema },
  'app:open-log': { request: Empty, response: z.object({ ok: z.boolean() }) },
  'app:open-window': {
    request: z.object({ page: z.enum(['settings', 'conflicts', 'activity']) }),
    response: z.object({ ok: z.boolean() }),
  },
  'window:close': { request: Empty, response: z.object({ ok: z.boolean() }) },
  'log:write': {
    request: z.object({ level: z.enum(['info', 'warn', 'error']), message: z.string().max(8192) }),
    response: z.object({ ok: z.boolean() }),
  },
  ...historyContract,
  ...kbInvokeContract,
  ...accountContract,
} as const satisfies Record<InvokeChannel, { request: z.ZodType; response: z.ZodType }>;

/** Push channels (main sends, renderer listens). */
export const eventContract = {
  'status:changed': EngineStatusSchema,
  'activity:added': ActivityEntrySchema,
} as const satisfies Record<EventChannel, z.ZodType>;

export type RequestOf<C extends InvokeChannel> = z.infer<(typeof invokeContract)[C]['request']>;
export type ResponseOf<C extends InvokeChannel> = z.infer<(typeof invokeContract)[C]['response']>;
export type EventOf<C extends EventChannel> = z.infer<(typeof eventContract)[C]>;

export type SettingsView = z.infer<typeof SettingsViewSchema>;
export type SettingsInput = z.infer<typeof SettingsInputSchema>;
export type SettingsField = z.infer<typeof SettingsFieldSchema>;
export type SaveResult = z.infer<typeof SaveResultSchema>;
export type ConnectionResult = z.infer<typeof ConnectionResultSchema>;
export type ConflictPreview = z.infer<typeof PreviewSchema>;
export type ResolveResult = z.infer<typeof ResolveResultSchema>;
export type ActivityView = z.infer<typeof ActivityViewSchema>;


/**
 * The API the preload exposes as `window.youlab`: one method per invoke channel (request
 * argument omitted where there is none) and a subscription for each event channel.
 */
export interface YoulabApi {
  invoke<C extends InvokeChannel>(
    channel: C,
    ...args: RequestOf<C> extends undefined ? [] : [RequestOf<C>]
  ): Promise<ResponseOf<C>>;
  on<C extends EventChannel>(channel: C, listener: (payload: EventOf<C>) => void): () => void;
}
export type { DeviceView, DevicesResult, SignInResult } from './account-contract.ts';
