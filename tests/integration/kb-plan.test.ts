// The pure half of the KB sync: which KB file stands for which path, what a round does per
// direction, backoff arithmetic, config parsing and content types. No I/O.
import { describe, expect, it } from 'vitest';
import { hashBytes } from '../../shared/node/hash.ts';
import { contentTypeFor } from '../../server/openwebui/client.ts';
import { loadOpenWebUIConfig, parseUserMap } from '../../server/openwebui/config.ts';
import { classifyDetail, versionAtLeast } from '../../server/openwebui/http.ts';
import { HUB_MARKER } from '../../server/openwebui/markers.ts';
import { kbExclusion } from '../../server/openwebui/exclude.ts';
import { DEFAULT_EXTENSIONS, nextKbFailure, planRound, viewRemote } from '../../server/openwebui/plan.ts';
import type { OwuiFile } from '../../server/openwebui/schemas.ts';
import { emptyState, type Failure, type SyncState } from '../../server/openwebui/state-schema.ts';

const H = (s: string): string => hashBytes(s);
const hex = (s: string): string => H(s).slice('sha256:'.length);
const now = new Date('2026-01-28T12:00:00Z');

function kbFile(id: string, name: string, content: string, extra: Partial<OwuiFile> & { path?: string; hub?: boolean } = {}): OwuiFile {
  const { path, hub, ...rest } = extra;
  return {
    id,
    filename: name,
    meta: { name, file_hash: hex(content), data: hub ? { path, uploaded_by: HUB_MARKER } : {} },
    created_at: 1,
    ...rest,
  } as OwuiFile;
}

function stateWith(files: Record<string, { hash: string; id: string }>): SyncState {
  const st = emptyState('u1');
  for (const [p, f] of Object.entries(files)) {
    st.files[p] = { path: p, hash: f.hash, size: 1, modified: '', source: 'ralph', openwebui_file_id: f.id, synced_at: '' };
  }
  return st;
}

describe('viewRemote', () => {
  it('places hub uploads by their metadata path and web uploads by folder + basename', () => {
    const v = viewRemote(
      [
        kbFile('f1', 'README.md', 'a', { hub: true, path: 'docs/README.md' }),
        kbFile('f2', 'README.md', 'b', { hub: true, path: 'README.md' }),
        kbFile('f3', 'notes.md', 'c', { directory_path: 'class' }),
      ],
      emptyState('u1'),
    );
    expect([...v.byPath.keys()].sort()).toEqual(['README.md', 'class/notes.md', 'docs/README.md']);
    expect(v.byPath.get('docs/README.md')).toMatchObject({ id: 'f1', hash: H('a'), hubCreated: true });
    expect(v.byPath.get('class/notes.md')).toMatchObject({ id: 'f3', hubCreated: false });
  });

  it('the state mapping wins, and a file id keeps the hash the state recorded', () => {
    const st = stateWith({ 'renamed/by/hub.md': { hash: H('x'), id: 'f1' } });
    const v = viewRemote([kbFile('f1', 'hub.md', 'claims-other', { hub: true, path: 'elsewhere.md' })], st);
    expect(v.byPath.get('renamed/by/hub.md')).toMatchObject({ id: 'f1', hash: H('x') });
  });

  it('a second hub upload of one path (crash between add and remove) is a leftover; a second user file is left alone', () => {
    const st = stateWith({ 'a.md': { hash: H('old'), id: 'old' } });
    const v = viewRemote(
      [
        kbFile('old', 'a.md', 'old', { hub: true, path: 'a.md', created_at: 1 }),
        kbFile('new', 'a.md', 'new', { hub: true, path: 'a.md', created_at: 2 }),
        kbFile('w1', 'web.md', 'w1', { created_at: 3 }),
        kbFile('w2', 'web.md', 'w2', { created_at: 4 }),
        kbFile('bad', '..', 'z'),
      ],
      st,
    );
    expect(v.byPath.get('a.md')?.id).toBe('new');
    expect(v.hubLeftovers.map((r) => r.id)).toEqual(['old']);
    expect(v.byPath.get('web.md')?.id).toBe('w1');
    expect(v.ignored.map((i) => i.id).sort()).toEqual(['bad', 'w2']);
  });
});

describe('planRound', () => {
  const base = { extensions: DEFAULT_EXTENSIONS, now };

  it('uploads new and changed files, deletes files whose base proves they were synced, deletes first', () => {
    const st = stateWith({ 'gone.md': { hash: H('g'), id: 'g1' }, 'edit.md': { hash: H('e1'), id: 'e1' } });
    const remote = viewRemote([kbFile('g1', 'gone.md', 'g', { hub: true, path: 'gone.md' }), kbFile('e1', 'edit.md', 'e1', { hub: true, path: 'edit.md' })], st);
    const local = new Map([
      ['edit.md', H('e2')],
      ['new.md', H('n')],
    ]);
    const plan = planRound({ ...base, state: st, local, remote, direction: 'bidirectional' });
    expect(plan.steps.map((s) => [s.kind, s.path])).toEqual([
      ['delete-remote', 'gone.md'],
      ['upload', 'edit.md'],
      ['upload', 'new.md'],
    ]);
    expect(plan.steps[1]).toMatchObject({ replaces: 'e1' });
  });

  it('never deletes a KB file without a base; brings it in only when the direction allows', () => {
    const st = emptyState('u1');
    const remote = viewRemote([kbFile('w', 'web.md', 'w')], st);
    expect(planRound({ ...base, state: st, local: new Map(), remote, direction: 'to_openwebui' })).toMatchObject({
      steps: [],
      held: [{ path: 'web.md', why: 'direction', decision: 'download' }],
    });
    expect(planRound({ ...base, state: st, local: new Map(), remote, direction: 'from_openwebui' }).steps.map((s) => s.kind)).toEqual(['download']);
  });

  it('removed in the KB and unchanged locally -> delete-local with the base as precondition', () => {
    const st = stateWith({ 'a.md': { hash: H('a'), id: 'a1' } });
    const plan = planRound({ ...base, state: st, local: new Map([['a.md', H('a')]]), remote: viewRemote([], st), direction: 'bidirectional' });
    expect(plan.steps).toEqual([{ kind: 'delete-local', path: 'a.md', baseHash: H('a') }]);
  });

  it('holds unsupported types and failures still in backoff; a changed file is retried at once', () => {
    const st = emptyState('u1');
    st.failures['dup.md'] = nextKbFailure(undefined, { side: 'to_openwebui', hash: H('d'), reason: 'duplicate_content', message: 'dup' }, now, { baseMs: 60_000, capMs: 3_600_000 });
    const local = new Map([
      ['pic.bin', H('p')],
      ['dup.md', H('d')],
      ['changed.md', H('c2')],
    ]);
    st.failures['changed.md'] = nextKbFailure(undefined, { side: 'to_openwebui', hash: H('c1'), reason: 'processing_failed', message: 'x' }, now, { baseMs: 60_000, capMs: 3_600_000 });
    const plan = planRound({ ...base, state: st, local, remote: viewRemote([], st), direction: 'bidirectional' });
    expect(plan.steps.map((s) => s.path)).toEqual(['changed.md']);
    expect(plan.held.map((h) => [h.path, h.why])).toEqual([
      ['dup.md', 'backoff'],
      ['pic.bin', 'unsupported_type'],
    ]);
    const later = new Date(now.getTime() + 61_000);
    expect(planRound({ ...base, now: later, state: st, local, remote: viewRemote([], st), direction: 'bidirectional' }).steps.map((s) => s.path)).toContain('dup.md');
  });

  it('the mass-delete guard stops deletes (not uploads) when most of the base would go, or the folder is gone', () => {
    const files: Record<string, { hash: string; id: string }> = {};
    for (let i = 0; i < 20; i++) files[`f${i}.md`] = { hash: H(String(i)), id: `id${i}` };
    const st = stateWith(files);
    const remote = viewRemote(Object.entries(files).map(([p, f]) => kbFile(f.id, p, String(p.slice(1, -3)), { hub: true, path: p })), st);
    const local = new Map([['new.md', H('new')]]);
    const plan = planRound({ ...base, state: st, local, remote, direction: 'bidirectional' });
    expect(plan.guard).toMatch(/20 of 20/);
    expect(plan.steps.map((s) => s.kind)).toEqual(['upload']);
    const one = stateWith({ 'a.md': { hash: H('a'), id: 'a' } });
    const r1 = viewRemote([kbFile('a', 'a.md', 'a', { hub: true, path: 'a.md' })], one);
    expect(planRound({ ...base, state: one, local: new Map(), remote: r1, direction: 'bidirectional' }).steps).toHaveLength(1);
    expect(planRound({ ...base, state: one, local: new Map(), remote: r1, direction: 'bidirectional', localRootGone: true }).guard).toBeDefined();
  });

  it('confirmed deletes go through unweighed; new deletes, a moved base and a missing folder are still held', () => {
    const files: Record<string, { hash: string; id: string }> = {};
    for (let i = 0; i < 20; i++) files[`f${String(i).padStart(2, '0')}.md`] = { hash: H(String(i)), id: `id${i}` };
    const st = stateWith(files);
    const remote = viewRemote(Object.entries(files).map(([p, f]) => kbFile(f.id, p, p, { hub: true, path: p })), st);
    // 12 of 20 deleted in the workspace: held, and the held steps are reported.
    const local = new Map(Object.entries(files).slice(12).map(([p, f]) => [p, f.hash]));
    const plan = planRound({ ...base, state: st, local, remote, direction: 'bidirectional' });
    expect(plan.guard).toMatch(/12 of 20/);
    expect(plan.guarded.map((s) => s.path)).toEqual(Object.keys(files).slice(0, 12));
    const confirmed = new Map(plan.guarded.map((s) => [s.path, st.files[s.path]!.hash]));
    const go = planRound({ ...base, state: st, local, remote, direction: 'bidirectional', confirmed });
    expect(go.guard).toBeUndefined();
    expect(go.guarded).toEqual([]);
    expect(go.steps.filter((s) => s.kind === 'delete-remote')).toHaveLength(12);
    // Two more deleted since the confirmation: only those are weighed (2 < 10, so they go too) ...
    const fewer = new Map([...local].slice(2));
    expect(planRound({ ...base, state: st, local: fewer, remote, direction: 'bidirectional', confirmed }).steps.filter((s) => s.kind === 'delete-remote')).toHaveLength(14);
    // ... but ten more would be weighed on their own and held.
    const many = planRound({ ...base, state: st, local: new Map(), remote, direction: 'bidirectional', confirmed: new Map([...confirmed].slice(0, 2)) });
    expect(many.guard).toMatch(/18 of 20/);
    expect(many.steps.filter((s) => s.kind === 'delete-remote')).toHaveLength(2);
    // A base that moved since it was held is not what the user confirmed.
    const moved = new Map([...confirmed].map(([p]) => [p, H('other')]));
    expect(planRound({ ...base, state: st, local, remote, direction: 'bidirectional', confirmed: moved }).guard).toMatch(/12 of 20/);
    // A missing workspace folder is never confirmable.
    const gone = planRound({ ...base, state: st, local: new Map(), remote, direction: 'bidirectional', confirmed, localRootGone: true });
    expect(gone.guard).toBeDefined();
    expect(gone.steps.filter((s) => s.kind === 'delete-remote')).toEqual([]);
  });
});

describe('planRound: what the rules exclude, and conflict copies', () => {
  const base = { extensions: DEFAULT_EXTENSIONS, now };
  const rules = (youlabignore: string[] = [], listing: string[] = []) =>
    kbExclusion({ files: listing.map((path) => ({ path, size: 1 })), youlabignore });

  it("nothing excluded goes up or comes down; the hub's own KB file leaves the KB, a web upload stays; the workspace is never touched", () => {
    const st = stateWith({ 'debug.log': { hash: H('log'), id: 'hub-log' }, 'notes.md': { hash: H('n'), id: 'hub-n' } });
    st.files['web.log'] = { path: 'web.log', hash: H('web'), size: 1, modified: '', source: 'openwebui', openwebui_file_id: 'web-log', synced_at: '' };
    const remote = viewRemote(
      [
        kbFile('hub-log', 'debug.log', 'log', { hub: true, path: 'debug.log' }),
        kbFile('hub-n', 'notes.md', 'n', { hub: true, path: 'notes.md' }),
        kbFile('web-log', 'web.log', 'web'),
        kbFile('web-new', 'other.log', 'other'),
      ],
      st,
    );
    const local = new Map([
      ['debug.log', H('log2')],
      ['notes.md', H('n')],
      ['web.log', H('web')],
      ['node_modules/x/README.md', H('nm')],
      ['.git/description.md', H('git')],
    ]);
    const plan = planRound({ ...base, state: st, local, remote, direction: 'bidirectional', exclusion: rules(['*.log']) });
    expect(plan.steps).toEqual([{ kind: 'delete-remote', path: 'debug.log', fileId: 'hub-log', excluded: '.youlabignore: *.log' }]);
    expect(plan.held).toEqual([
      { path: 'web.log', why: 'excluded', rule: '.youlabignore: *.log' },
      { path: 'other.log', why: 'excluded', rule: '.youlabignore: *.log' },
    ]);
    expect(plan.guard).toBeUndefined();
    // Without the rules, the same sides would upload everything and bring the web file in.
    const open = planRound({ ...base, state: st, local, remote, direction: 'bidirectional' });
    expect(open.steps.map((s) => [s.kind, s.path]).sort()).toEqual([
      ['download', 'other.log'],
      ['upload', '.git/description.md'],
      ['upload', 'debug.log'],
      ['upload', 'node_modules/x/README.md'],
    ]);
  });

  it("an excluded hub file already gone from the KB only loses its base; from_openwebui holds the removal", () => {
    const st = stateWith({ 'dist/a.md': { hash: H('a'), id: 'gone' }, 'dist/b.md': { hash: H('b'), id: 'b1' } });
    const remote = viewRemote([kbFile('b1', 'b.md', 'b', { hub: true, path: 'dist/b.md' })], st);
    const local = new Map([['dist/a.md', H('a')], ['dist/b.md', H('b')]]);
    expect(planRound({ ...base, state: st, local, remote, direction: 'bidirectional', exclusion: rules() }).steps).toEqual([
      { kind: 'delete-remote', path: 'dist/b.md', fileId: 'b1', excluded: 'default: dist/' },
      { kind: 'drop-base', path: 'dist/a.md' },
    ]);
    const held = planRound({ ...base, state: st, local, remote, direction: 'from_openwebui', exclusion: rules() });
    expect(held.steps).toEqual([{ kind: 'drop-base', path: 'dist/a.md' }]);
    expect(held.held).toEqual([{ path: 'dist/b.md', why: 'direction', decision: 'delete-remote' }]);
  });

  it('the mass-delete guard holds removals when a rule would empty most of the KB, without holding the deletes a user made', () => {
    const files: Record<string, { hash: string; id: string }> = {};
    for (let i = 0; i < 20; i++) files[`f${i}.md`] = { hash: H(String(i)), id: `id${i}` };
    const st = stateWith(files);
    const remote = viewRemote(Object.entries(files).map(([p, f]) => kbFile(f.id, p, p.slice(1, -3), { hub: true, path: p })), st);
    const local = new Map(Object.entries(files).filter(([p]) => p !== 'f0.md').map(([p, f]) => [p, f.hash]));
    const plan = planRound({ ...base, state: st, local, remote, direction: 'bidirectional', exclusion: rules(['f1*.md']) });
    // f1.md and f10..f19.md: 11 of 20 would leave the KB by the rule: held, and said so.
    expect(plan.guard).toMatch(/ignore rules would remove 11 of 20 files/);
    expect(plan.steps).toEqual([{ kind: 'delete-remote', path: 'f0.md', fileId: 'id0' }]);
    // Under the share, they go.
    const few = planRound({ ...base, state: st, local, remote, direction: 'bidirectional', exclusion: rules(['f1.md', 'f2.md']) });
    expect(few.guard).toBeUndefined();
    expect(few.steps.map((s) => s.path).sort()).toEqual(['f0.md', 'f1.md', 'f2.md']);
  });

  it('two conflicts at one path within a second get two copy names; a conflict copy never gets a copy of its own', () => {
    const copy = 'w1 (conflict openwebui 2026-01-28 120000).md';
    const st = emptyState('u1');
    st.files[copy] = { path: copy, hash: H('first web'), size: 1, modified: '', source: 'openwebui', openwebui_file_id: 'web1', synced_at: '' };
    const remote = viewRemote(
      [kbFile('web1', 'w1.md', 'first web', { created_at: 1 }), kbFile('web2', 'w1.md', 'second web', { created_at: 1 }), kbFile('web3', 'x.md', 'x web')],
      st,
    );
    const local = new Map([
      ['w1.md', H('workspace')],
      [copy, H('first web')],
      ['x.md', H('x here')],
    ]);
    const plan = planRound({ ...base, state: st, local, remote, direction: 'bidirectional' });
    expect(plan.steps.map((s) => (s.kind === 'conflict' ? [s.path, s.copy] : [s.kind, s.path]))).toEqual([
      ['w1.md', 'w1 (conflict openwebui 2026-01-28 120001).md'],
      ['x.md', 'x (conflict openwebui 2026-01-28 120000).md'],
    ]);

    // The copy itself changed on both sides: the KB's bytes replace the workspace's (the store keeps those).
    const st2 = emptyState('u1');
    const r2 = viewRemote([kbFile('web4', copy, 'kb side')], st2);
    const p2 = planRound({ ...base, state: st2, local: new Map([[copy, H('workspace side')]]), remote: r2, direction: 'bidirectional' });
    expect(p2.steps).toEqual([{ kind: 'download', path: copy, remote: expect.objectContaining({ id: 'web4' }), localHash: H('workspace side') }]);
  });
});

describe('backoff, config, client helpers', () => {
  it('backoff doubles per attempt of the same content and is capped; new content starts over', () => {
    const fail = (previous: Failure | undefined, hash: string): Failure =>
      nextKbFailure(previous, { side: 'to_openwebui', hash, reason: 'error', message: 'x' }, now, { baseMs: 1000, capMs: 5000 });
    const f1 = fail(undefined, 'h');
    const f2 = fail(f1, 'h');
    const f4 = fail(fail(f2, 'h'), 'h');
    expect([f1, f2, f4].map((f) => Date.parse(f.next_retry_at) - now.getTime())).toEqual([1000, 2000, 5000]);
    expect(fail(f4, 'other').attempts).toBe(1);
  });

  it('reads the design env names with their defaults', () => {
    expect(loadOpenWebUIConfig({})).toMatchObject({ enabled: false, disabledReason: 'RALPH_OPENWEBUI_URL is not set', intervalSec: 300, prefix: 'workspace', debounceMs: 100, debounceMaxMs: 1000, concurrency: 4, syncWaitMs: 10_000 });
    const c = loadOpenWebUIConfig({
      RALPH_OPENWEBUI_URL: 'http://127.0.0.1:3000',
      RALPH_OPENWEBUI_API_KEY: 'sk-1',
      RALPH_SYNC_INTERVAL: '60',
      RALPH_SYNC_KNOWLEDGE_PREFIX: 'ws',
      RALPH_SYNC_EXTENSIONS: '.md, TXT',
      RALPH_OPENWEBUI_USER_MAP: 'alice=alice@school.test',
    });
    expect(c).toMatchObject({ enabled: true, intervalSec: 60, prefix: 'ws', extensions: ['md', 'txt'], userMap: { alice: 'alice@school.test' } });
    expect(loadOpenWebUIConfig({ RALPH_OPENWEBUI_URL: 'http://x', RALPH_OPENWEBUI_API_KEY: 'k', RALPH_SYNC_TO_OPENWEBUI: 'false' }).enabled).toBe(false);
    expect(() => loadOpenWebUIConfig({ RALPH_SYNC_INTERVAL: 'soon' })).toThrow(/RALPH_SYNC_INTERVAL/);
    expect(loadOpenWebUIConfig({ RALPH_SYNC_CONCURRENCY: '8', RALPH_SYNC_DEBOUNCE_MAX_MS: '500', RALPH_SYNC_WAIT_MS: '0' })).toMatchObject({
      concurrency: 8,
      debounceMaxMs: 500,
      syncWaitMs: 0,
    });
    expect(() => loadOpenWebUIConfig({ RALPH_SYNC_CONCURRENCY: '0' })).toThrow(/RALPH_SYNC_CONCURRENCY/);
    expect(parseUserMap('{"a":"b"}')).toEqual({ a: 'b' });
    expect(loadOpenWebUIConfig({}).maxFileBytes).toBe(10 * 1024 * 1024);
    expect(loadOpenWebUIConfig({ RALPH_SYNC_MAX_KB_FILE_BYTES: '0' }).maxFileBytes).toBe(0);
    expect(() => loadOpenWebUIConfig({ RALPH_SYNC_MAX_KB_FILE_BYTES: 'big' })).toThrow(/RALPH_SYNC_MAX_KB_FILE_BYTES/);
  });

  it('sends sane content types and classifies Open WebUI errors', () => {
    expect(contentTypeFor('src/app.ts')).toBe('text/plain');
    expect(contentTypeFor('notes.md')).toBe('text/markdown');
    expect(contentTypeFor('paper.pdf')).toBe('application/pdf');
    expect(classifyDetail(400, '400: Duplicate content detected. Please provide unique content to proceed.')).toBe('duplicate_content');
    expect(classifyDetail(413, 'File size exceeds')).toBe('too_large');
    expect(classifyDetail(400, '[ERROR: File type exe is not allowed]')).toBe('unsupported_type');
    expect(classifyDetail(503, 'busy')).toBe('unavailable');
    expect(versionAtLeast('0.12.4', '0.8.0')).toBe(true);
    expect(versionAtLeast('0.7.2', '0.8.0')).toBe(false);
    expect(versionAtLeast('0.10.0', '0.9.6')).toBe(true);
  });
});
