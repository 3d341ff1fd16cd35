// Channel names without the schemas: the preload and the pages import these (and types from
// contract.ts), so their bundles stay free of zod. contract.ts must define exactly these.
/** History and trash (issue 15): version history of a file, deleted files, the mass-delete guard's "Bring them back". */
export const HISTORY_CHANNELS = [
  'sync:restore-deleted',
  'history:open',
  'history:versions',
  'history:preview',
  'history:restore',
  'deleted:open',
  'deleted:list',
  'deleted:restore',
] as const;

export const INVOKE_CHANNELS = [
  'settings:get',
  'settings:save',
  'settings:test-connection',
  'settings:pick-folder',
  'status:get',
  'conflicts:list',
  'conflicts:preview',
  'conflicts:resolve',
  'sync:confirm-deletes',
  'activity:get',
  'app:open-log',
  'app:open-window',
  'window:close',
  'log:write',
  ...HISTORY_CHANNELS,
  // The knowledge-base leg (issue 13): app/main/kb-monitor.ts, app/renderer/kb-section.ts.
  'kb:status',
  'kb:confirm-deletes',
  'kb:open-webui',
  // issue 18: sign in with Open WebUI, devices (app/ipc/account-contract.ts)
  'account:sign-in',
  'account:devices',
  'account:disconnect',
] as const;
export type InvokeChannel = (typeof INVOKE_CHANNELS)[number];

export const EVENT_CHANNELS = ['status:changed', 'activity:added'] as const;
export type EventChannel = (typeof EVENT_CHANNELS)[number];

/** The global name the preload exposes the API under. */
export const BRIDGE_NAME = 'youlab';

export function isInvokeChannel(c: unknown): c is InvokeChannel {
  return typeof c === 'string' && (INVOKE_CHANNELS as readonly string[]).includes(c);
}
