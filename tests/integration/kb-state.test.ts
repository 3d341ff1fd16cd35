// The KB sync state file keeps its on-disk shape (snake_case, the failure record of
// shared/failure.ts plus `side`): a file written before the one-vocabulary refactor loads with its
// bases, pending uploads and failures, backs off as before and is written back byte for byte.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OpenWebUIClient } from '../../server/openwebui/client.ts';
import { KbSync } from '../../server/openwebui/kb-sync.ts';
import { DEFAULT_EXTENSIONS, nextKbFailure, planRound, viewRemote } from '../../server/openwebui/plan.ts';
import { loadState, saveState, STATE_FILE } from '../../server/openwebui/state.ts';
import type { WorkspaceStore } from '../../server/workspace/types.ts';

const NOTES = 'sha256:1cca8feecd1a78cb52bc6df70c870068223a6f62fa3c51a435c00538254bc3d0';
const REPORT = 'sha256:379e2f8fb9d7ca8d595fd2cdb48d620cb1abba4910128f4ffa43896b7d4b9882';
const SCAN = 'sha256:59ad1b2fc74287ded1bba7af67765d23ad4a49f1ae51902cc2ed3f8ebee96cfa';
const WEB = 'sha256:f1952a8626ed638408e27cc0a05c1503343183bc9794ea1cc52a01134bfe8209';

/** A state file exactly as the hub writes it today (saveState: two-space JSON and a newline). */
const TODAY = `{
  "version": 1,
  "user_id": "u1",
  "knowledge_id": "kb-1",
  "last_sync": "2026-01-28T11:00:00.000Z",
  "files": {
    "notes.md": {
      "path": "notes.md",
      "hash": "${NOTES}",
      "size": 8,
      "modified": "2026-01-28T10:00:00.000Z",
      "source": "ralph",
      "openwebui_file_id": "f-notes",
      "synced_at": "2026-01-28T10:00:01.000Z"
    },
    "class/web.md": {
      "path": "class/web.md",
      "hash": "${WEB}",
      "size": 10,
      "modified": "2026-01-28T10:05:00.000Z",
      "source": "openwebui",
      "openwebui_file_id": "f-web",
      "synced_at": "2026-01-28T10:05:01.000Z"
    }
  },
  "pending": {
    "report.md": {
      "hash": "${REPORT}",
      "openwebui_file_id": "f-report",
      "uploaded_at": "2026-01-28T10:59:00.000Z"
    }
  },
  "failures": {
    "scan.pdf": {
      "side": "to_openwebui",
      "hash": "${SCAN}",
      "reason": "processing_failed",
      "message": "The content provided is empty.",
      "attempts": 2,
      "failed_at": "2026-01-28T11:00:00.000Z",
      "next_retry_at": "2026-01-28T11:02:00.000Z"
    },
    "big.pdf": {
      "side": "from_openwebui",
      "hash": "${REPORT}",
      "reason": "workspace_refused",
      "message": "file too large",
      "attempts": 1,
      "failed_at": "2026-01-28T11:00:00.000Z",
      "next_retry_at": "2026-01-28T11:01:00.000Z"
    }
  },
  "held": {},
  "last_round": null
}
`;

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function stateDirWith(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'youlab-kb-state-'));
  dirs.push(dir);
  await writeFile(join(dir, STATE_FILE), text);
  return dir;
}

describe('KB sync state file', () => {
  it("loads today's format with its bases, pending uploads and failures, and writes it back unchanged", async () => {
    const dir = await stateDirWith(TODAY);
    const state = await loadState(dir, 'u1');
    expect(state).toEqual(JSON.parse(TODAY));
    expect(Object.keys(state.files)).toEqual(['notes.md', 'class/web.md']);
    expect(state.files['class/web.md']).toMatchObject({ hash: WEB, source: 'openwebui', openwebui_file_id: 'f-web' });
    expect(state.failures['scan.pdf']).toMatchObject({ side: 'to_openwebui', hash: SCAN, attempts: 2 });
    expect(state.failures['big.pdf']).toMatchObject({ side: 'from_openwebui', reason: 'workspace_refused' });

    await saveState(dir, state);
    expect(await readFile(join(dir, STATE_FILE), 'utf8')).toBe(TODAY);
  });

  it('a loaded failure holds its content until next_retry_at, and a further failure doubles the wait', async () => {
    const state = await loadState(await stateDirWith(TODAY), 'u1');
    const local = new Map([
      ['notes.md', NOTES],
      ['scan.pdf', SCAN],
    ]);
    const input = { state, local, remote: viewRemote([], state), direction: 'to_openwebui' as const, extensions: DEFAULT_EXTENSIONS };
    const held = planRound({ ...input, now: new Date('2026-01-28T11:01:59.000Z') });
    expect(held.held).toContainEqual({ path: 'scan.pdf', why: 'backoff', failure: state.failures['scan.pdf'] });
    expect(held.steps.map((s) => s.path)).not.toContain('scan.pdf');
    const due = planRound({ ...input, now: new Date('2026-01-28T11:02:00.000Z') });
    expect(due.steps).toContainEqual({ kind: 'upload', path: 'scan.pdf', hash: SCAN });

    const now = new Date('2026-01-28T11:02:00.000Z');
    const rule = { baseMs: 60_000, capMs: 6 * 3600_000 };
    const again = nextKbFailure(state.failures['scan.pdf'], { side: 'to_openwebui', hash: SCAN, reason: 'processing_failed', message: 'm' }, now, rule);
    expect(again).toEqual({
      side: 'to_openwebui',
      hash: SCAN,
      reason: 'processing_failed',
      message: 'm',
      attempts: 3,
      failed_at: '2026-01-28T11:02:00.000Z',
      next_retry_at: '2026-01-28T11:06:00.000Z',
    });
    // The same bytes going the other way are another failure: counted from one.
    const otherWay = nextKbFailure(state.failures['scan.pdf'], { side: 'from_openwebui', hash: SCAN, reason: 'error', message: 'm' }, now, rule);
    expect(otherWay).toMatchObject({ attempts: 1, next_retry_at: '2026-01-28T11:03:00.000Z' });
  });

  it('a file from before failures had a side loads them as uploads (to_openwebui), and one without pending or failures loads empty ones', async () => {
    const older = JSON.parse(TODAY) as { failures: Record<string, Record<string, unknown>> };
    delete older.failures['scan.pdf']!['side'];
    delete older.failures['big.pdf'];
    const state = await loadState(await stateDirWith(JSON.stringify(older)), 'u1');
    expect(state.failures['scan.pdf']).toMatchObject({ side: 'to_openwebui', hash: SCAN, attempts: 2 });
    expect(Object.keys(state.files)).toEqual(['notes.md', 'class/web.md']);

    const bare = JSON.parse(TODAY) as Record<string, unknown>;
    delete bare['pending'];
    delete bare['failures'];
    delete bare['held'];
    delete bare['last_round'];
    const bareState = await loadState(await stateDirWith(JSON.stringify(bare)), 'u1');
    expect(bareState).toMatchObject({ knowledge_id: 'kb-1', pending: {}, failures: {}, held: {}, last_round: null });
    expect(bareState.files['notes.md']?.hash).toBe(NOTES);
  });

  it('status() reports the failures of a loaded file per path and side', async () => {
    const dir = await stateDirWith(TODAY);
    const store = {
      stateDir: () => dir,
      list: async () => ({
        files: [
          { path: 'notes.md', hash: NOTES, size: 8, modified: '' },
          { path: 'scan.pdf', hash: SCAN, size: 3, modified: '' },
        ],
      }),
    } as unknown as WorkspaceStore;
    const sync = new KbSync({ client: {} as OpenWebUIClient, store, extensions: DEFAULT_EXTENSIONS });
    const status = await sync.status('u1');
    expect(status).toMatchObject({ knowledge_id: 'kb-1', last_sync: '2026-01-28T11:00:00.000Z', running: false });
    expect(status.files).toEqual([
      {
        path: 'big.pdf',
        state: 'failed',
        hash: REPORT,
        reason: 'workspace_refused',
        message: 'file too large',
        side: 'from_openwebui',
        attempts: 1,
        failed_at: '2026-01-28T11:00:00.000Z',
        next_retry_at: '2026-01-28T11:01:00.000Z',
      },
      { path: 'notes.md', state: 'synced', hash: NOTES, openwebui_file_id: 'f-notes' },
      {
        path: 'scan.pdf',
        state: 'failed',
        hash: SCAN,
        reason: 'processing_failed',
        message: 'The content provided is empty.',
        side: 'to_openwebui',
        attempts: 2,
        failed_at: '2026-01-28T11:00:00.000Z',
        next_retry_at: '2026-01-28T11:02:00.000Z',
      },
    ]);
    expect(status.counts).toEqual({ total: 3, synced: 1, pending: 0, processing: 0, failed: 2, ignored: 0, held: 0 });
  });
});
