// The KB leg made visible, pure parts: one state per path (held before everything, held deletes
// checked against what the workspace holds now), pages and counts, the hub's description line
// (the user's lines stay), the held deletes a round records; and the desktop side's KbMonitor
// and tray tooltip with a fake hub.
import { describe, expect, it } from 'vitest';
import { KbMonitor } from '../../app/main/kb-monitor.ts';
import { tooltip, trayView } from '../../app/main/tray-state.ts';
import { kbExclusion } from '../../server/openwebui/exclude.ts';
import { descriptionLine, DESCRIPTION_MARK, hubLineOf, withHubLine, withoutTime } from '../../server/openwebui/kb-description.ts';
import { heldDeletes, lineFor } from '../../server/openwebui/kb-round-report.ts';
import { fileStatuses, openWebUIReason, statusPage, typeRule } from '../../server/openwebui/kb-status.ts';
import { DEFAULT_EXTENSIONS } from '../../server/openwebui/plan.ts';
import { emptyState, type SyncState } from '../../server/openwebui/state-schema.ts';
import type { KbStatus } from '../../shared/kb-status.ts';

const H = (c: string): string => `sha256:${c.repeat(64)}`;
const T = '2026-12-01T12:03:00.000Z';

function world(): SyncState {
  const st = emptyState('u1');
  const base = (path: string, hash: string, id: string) => ({ path, hash, size: 1, modified: '', source: 'ralph' as const, openwebui_file_id: id, synced_at: T });
  st.files['a.md'] = base('a.md', H('a'), 'fa');
  st.files['gone.md'] = base('gone.md', H('g'), 'fg');
  st.files['removed.md'] = base('removed.md', H('r'), 'fr');
  st.files['edited.md'] = base('edited.md', H('e'), 'fe');
  st.pending['slow.md'] = { hash: H('s'), openwebui_file_id: 'fs', uploaded_at: T };
  st.failures['empty.md'] = { side: 'to_openwebui', hash: H('0'), reason: 'processing_failed', message: 'api/v1/files/: 400 The content provided is empty.', attempts: 2, failed_at: T, next_retry_at: T };
  st.failures['web.pdf'] = { side: 'from_openwebui', hash: H('w'), reason: 'workspace_refused', message: 'file too large', attempts: 1, failed_at: T, next_retry_at: T };
  const reason = 'this round would delete 12 of 20 files on the hub (over 50%)';
  st.held['gone.md'] = { action: 'delete_in_openwebui', hash: H('g'), reason, since: T };
  st.held['removed.md'] = { action: 'delete_in_workspace', hash: H('r'), reason, since: T };
  // Held at a base the workspace has moved on from: an ordinary edit now, not a held delete.
  st.held['edited.md'] = { action: 'delete_in_workspace', hash: H('e'), reason, since: T };
  return st;
}

const listing = [
  { path: 'a.md', hash: H('a') },
  { path: 'removed.md', hash: H('r') },
  { path: 'edited.md', hash: H('f') },
  { path: 'slow.md', hash: H('s') },
  { path: 'empty.md', hash: H('0') },
  { path: 'new.md', hash: H('n') },
  { path: 'pic.bin', hash: H('b') },
  { path: 'node_modules/x.js', hash: H('x') },
];

describe('fileStatuses', () => {
  const all = fileStatuses({ state: world(), files: listing, exclusion: kbExclusion({ files: listing.map((f) => ({ path: f.path, size: 1 })), youlabignore: [] }), extensions: DEFAULT_EXTENSIONS });
  const by = Object.fromEntries(all.map((f) => [f.path, f]));

  it('one state per path, held ones never synced, in path order', () => {
    expect(all.map((f) => [f.path, f.state])).toEqual([
      ['a.md', 'synced'],
      ['edited.md', 'pending'],
      ['empty.md', 'failed'],
      ['gone.md', 'held'],
      ['new.md', 'pending'],
      ['node_modules/x.js', 'ignored'],
      ['pic.bin', 'ignored'],
      ['removed.md', 'held'],
      ['slow.md', 'processing'],
      ['web.pdf', 'failed'],
    ]);
    expect(by['removed.md']).toMatchObject({ action: 'delete_in_workspace', message: expect.stringMatching(/12 of 20/), held_since: T });
    expect(by['gone.md']).toMatchObject({ action: 'delete_in_openwebui', hash: H('g'), openwebui_file_id: 'fg' });
  });

  it('failures carry Open WebUI’s own words, the attempts and the next retry; rules say which', () => {
    expect(by['empty.md']).toMatchObject({ reason: 'processing_failed', message: 'The content provided is empty.', attempts: 2, next_retry_at: T, side: 'to_openwebui' });
    expect(by['web.pdf']).toMatchObject({ side: 'from_openwebui', message: 'file too large' });
    expect(by['pic.bin']).toMatchObject({ reason: 'unsupported_type', rule: 'type: .bin is not sent to the KB (RALPH_SYNC_EXTENSIONS)' });
    expect(by['node_modules/x.js']!.rule).toBe('default: node_modules/');
    expect(typeRule('Makefile')).toBe('type: no extension (RALPH_SYNC_EXTENSIONS)');
    expect(openWebUIReason('api/v1/knowledge/k1/file/add: 400 Duplicate content detected.')).toBe('Duplicate content detected.');
    expect(openWebUIReason('plain words')).toBe('plain words');
  });

  it('pages with counts of every state; a filter pages only its states', () => {
    const p = statusPage(all, { offset: 0, limit: 3 });
    expect(p.counts).toEqual({ total: 10, synced: 1, pending: 2, processing: 1, failed: 2, ignored: 2, held: 2 });
    expect(p).toMatchObject({ total: 10, offset: 0, limit: 3, next_offset: 3 });
    expect(statusPage(all, { offset: 9, limit: 3 })).toMatchObject({ next_offset: null, files: [{ path: 'web.pdf' }] });
    const held = statusPage(all, { offset: 0, limit: 10, states: new Set(['held', 'failed'] as const) });
    expect(held.files.map((f) => f.path)).toEqual(['empty.md', 'gone.md', 'removed.md', 'web.pdf']);
    expect(held).toMatchObject({ total: 4, next_offset: null });
    expect(held.counts.total).toBe(10);
  });
});

describe('the hub’s line in the KB description', () => {
  const at = new Date(T);

  it('says files, time, processing, failures with their reason (three named) and held deletes', () => {
    const failed = ['a', 'b', 'c', 'd'].map((n) => ({ path: `${n}.pptx`, reason: 'unsupported_type', message: '' }));
    expect(descriptionLine({ files: 214, at, failed: failed.slice(0, 1), processing: 0, held: 0 })).toBe(
      `${DESCRIPTION_MARK} · 214 files · 2026-12-01 12:03 UTC · 1 failed: a.pptx (unsupported type)`,
    );
    const long = descriptionLine({ files: 1, at, failed: [...failed, { path: 'x.md', reason: 'processing_failed', message: 'y'.repeat(200) }], processing: 2, held: 12 });
    expect(long).toBe(
      `${DESCRIPTION_MARK} · 1 file · 2026-12-01 12:03 UTC · 2 processing · 5 failed: a.pptx (unsupported type), b.pptx (unsupported type), c.pptx (unsupported type) and 2 more · 12 deletes held: confirm in the YouLab app`,
    );
    const st = world();
    expect(lineFor(st, at)).toContain('2 failed: empty.md (The content provided is empty.), web.pdf (file too large)');
    expect(lineFor(st, at)).toContain(' · 3 deletes held');
  });

  it('replaces only its own line; the user’s lines stay, in order', () => {
    const line = `${DESCRIPTION_MARK} · 2 files · 2026-12-01 12:03 UTC`;
    expect(withHubLine('', line)).toBe(line);
    expect(withHubLine(null, line)).toBe(line);
    expect(withHubLine('Biology notes\n\n', line)).toBe(`Biology notes\n${line}`);
    const old = `Biology notes\n${DESCRIPTION_MARK} · 1 file · 2026-11-30 09:00 UTC\nAsk Ralph\n${DESCRIPTION_MARK} · stray copy`;
    expect(withHubLine(old, line)).toBe(`Biology notes\nAsk Ralph\n${line}`);
    expect(hubLineOf(withHubLine(old, line))).toBe(line);
    expect(hubLineOf('Biology notes')).toBeUndefined();
    expect(withoutTime(line)).toBe(`${DESCRIPTION_MARK} · 2 files`);
  });

  it('a held delete keeps its time while it stays the same delete', () => {
    const st = world();
    const later = new Date('2026-12-01T13:00:00.000Z');
    const held = heldDeletes(
      [
        { kind: 'delete-remote', path: 'gone.md', fileId: 'fg' },
        { kind: 'delete-remote', path: 'a.md', fileId: 'fa', excluded: 'default: .*' },
        { kind: 'delete-local', path: 'removed.md', baseHash: H('q') },
      ],
      'why',
      st,
      later,
    );
    expect(held).toEqual({
      'gone.md': { action: 'delete_in_openwebui', hash: H('g'), reason: 'why', since: T },
      'a.md': { action: 'remove_from_openwebui', hash: H('a'), reason: 'why', rule: 'default: .*', since: later.toISOString() },
      'removed.md': { action: 'delete_in_workspace', hash: H('q'), reason: 'why', since: later.toISOString() },
    });
  });
});

describe('KbMonitor and the tray', () => {
  const answer = (failed: number): KbStatus => ({
    user_id: 'ada',
    openwebui: { configured: true, reachable: true, version: '0.12.4' },
    knowledge_id: 'kb 7',
    last_sync: T,
    counts: { total: 5, synced: 4, pending: 0, processing: 0, failed, ignored: 0, held: 1 },
    files: [],
  });

  it('tells the tray how many KB files failed, says what went wrong instead of throwing, opens the KB itself', async () => {
    const counts: number[] = [];
    let fail = false;
    const m = new KbMonitor({
      source: {
        status: async () => {
          if (fail) throw new Error('hub unreachable: ECONNREFUSED');
          return answer(2);
        },
        confirmDeletes: async () => ({ deleted: 0, running: false, guard: 'still too many' }),
      },
      openWebuiUrl: 'https://owui.example.org/',
      onFailedCount: (n) => counts.push(n),
    });
    expect(m.openWebuiTarget()).toBe('https://owui.example.org/workspace/knowledge');
    expect(await m.view()).toMatchObject({ available: true, openWebuiUrl: 'https://owui.example.org/' });
    expect(counts).toEqual([2]);
    expect(m.openWebuiTarget()).toBe('https://owui.example.org/workspace/knowledge/kb%207');
    await m.refreshIfStale(); // just asked: not again
    expect(counts).toEqual([2]);
    fail = true;
    expect(await m.view()).toEqual({ available: false, message: 'Could not ask the hub about the knowledge base: hub unreachable: ECONNREFUSED', openWebuiUrl: 'https://owui.example.org/' });
    expect(await m.confirmDeletes()).toEqual({ ok: false, message: 'the hub still holds deletes: still too many' });
    expect(await new KbMonitor({ source: undefined, onFailedCount: () => {} }).view()).toMatchObject({ available: false });
    const off = new KbMonitor({ source: { status: async () => ({ ...answer(0), openwebui: { configured: false, reason: 'not configured' } }), confirmDeletes: async () => ({ deleted: 0, running: false }) }, onFailedCount: () => {} });
    expect(await off.view()).toEqual({ available: false, message: 'The hub does not sync a knowledge base: not configured.' });
  });

  it('the tooltip mentions failed KB files', () => {
    const s = { phase: 'idle' as const, pending: 0, conflicts: [], issues: [] };
    expect(tooltip(s)).toBe('YouLab Sync: Up to date');
    expect(tooltip(s, 1)).toBe('YouLab Sync: Up to date · 1 knowledge-base file failed');
    expect(trayView(s, { localFolder: '/f', kbFailed: 3 }).tooltip).toBe('YouLab Sync: Up to date · 3 knowledge-base files failed');
  });
});
