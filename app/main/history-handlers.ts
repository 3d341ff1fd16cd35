// Main's side of history and trash (issue 15): a file's kept versions on the hub with a text
// preview, the hub's deleted files beside this computer's trash, putting either back, and the
// mass-delete guard's "Bring them back". Free of Electron; the controller hands in its ports.
import type { SyncEngineApi } from '../engine-api/types.ts';
import type { HISTORY_CHANNELS } from '../ipc/channels.ts';
import type { ActionResult } from '../ipc/contract.ts';
import { decodeText, PREVIEW_MAX_BYTES } from './conflict-preview.ts';
import type { IpcHandlers } from './ipc-router.ts';

export type HistoryHandlers = Pick<IpcHandlers, (typeof HISTORY_CHANNELS)[number]>;

export interface HistoryPorts {
  engine(): SyncEngineApi | undefined;
  openHistory(path: string): void;
  openDeleted(): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

const NOT_RUNNING = 'Sync is not running: finish the settings first';

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** Runs one engine call for an action button: a thrown error becomes the answer's message. */
async function act(ports: HistoryPorts, run: (engine: SyncEngineApi) => Promise<string>): Promise<ActionResult> {
  const engine = ports.engine();
  if (!engine) return { ok: false, message: NOT_RUNNING };
  try {
    return { ok: true, message: await run(engine) };
  } catch (e) {
    return { ok: false, message: message(e) };
  }
}

export function historyHandlers(ports: HistoryPorts): HistoryHandlers {
  return {
    'sync:restore-deleted': () =>
      act(ports, async (engine) => {
        const s = await engine.restoreDeleted();
        ports.log('info', `mass delete answered by the user: bring them back (${s.downloaded} downloaded, ${s.uploaded} uploaded)`);
        const back = s.downloaded + s.uploaded;
        return `${plural(back, 'file')} brought back`;
      }),
    'history:open': ({ path }) => {
      ports.openHistory(path);
      return { ok: true };
    },
    'history:versions': async ({ path }) => {
      const engine = ports.engine();
      if (!engine) throw new Error(NOT_RUNNING);
      return { versions: await engine.history.listVersions(path) };
    },
    'history:preview': async ({ path, versionId }) => {
      const engine = ports.engine();
      if (!engine) throw new Error(NOT_RUNNING);
      const head = await engine.history.versionHead(path, versionId, PREVIEW_MAX_BYTES);
      const text = decodeText(Buffer.from(head.bytes), head.truncated);
      return text === undefined ? { text: false, truncated: head.truncated } : { text: true, content: text, truncated: head.truncated };
    },
    'history:restore': ({ path, versionId }) =>
      act(ports, async (engine) => {
        await engine.history.restoreVersion(path, versionId);
        ports.log('info', `restored ${path} to the hub's version ${versionId}`);
        return `${path} restored; it syncs to this folder now`;
      }),
    'deleted:open': () => {
      ports.openDeleted();
      return { ok: true };
    },
    'deleted:list': async () => {
      const engine = ports.engine();
      if (!engine) return { entries: [], hubError: NOT_RUNNING };
      return engine.history.listDeleted();
    },
    'deleted:restore': (req) =>
      act(ports, async (engine) => {
        if (req.source === 'hub') {
          await engine.history.restoreVersion(req.path, req.id);
          ports.log('info', `restored deleted ${req.path} from the hub (version ${req.id})`);
          return `${req.path} restored from the hub`;
        }
        const r = await engine.history.restoreFromTrash(req.id);
        ports.log('info', `restored ${r.path} from this computer's trash`);
        return `${r.path} put back into the folder`;
      }),
  };
}
