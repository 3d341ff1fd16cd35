// How a KB round goes fast without giving up its guarantees (issue 12, emulator): uploads side by
// side within RALPH_SYNC_CONCURRENCY, processing inside the upload request (one status read, no
// polling), processed files added in batches, a new KB folder made once however many files go into
// it, and the state written in batches, yet always before a replaced KB file is dropped.
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OpenWebUIClient } from '../../server/openwebui/client.ts';
import { KbSync } from '../../server/openwebui/kb-sync.ts';
import { BATCH_ADD_SIZE } from '../../server/openwebui/kb-upload.ts';
import { DEFAULT_EXTENSIONS } from '../../server/openwebui/plan.ts';
import { STATE_FILE } from '../../server/openwebui/state.ts';
import type * as StateModule from '../../server/openwebui/state.ts';
import { startEmulator, type OpenWebUIEmulator } from '../fakes/openwebui-emulator/index.ts';
import { folderStore, putFile, tempRoot } from '../helpers/openwebui.ts';

// Count the state writes (the module's own function runs; only the calls are counted).
const stateWrites = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../server/openwebui/state.ts', async (importOriginal) => {
  const real = await importOriginal<typeof StateModule>();
  return {
    ...real,
    saveState: async (...a: Parameters<typeof real.saveState>) => {
      stateWrites.n++;
      return real.saveState(...a);
    },
  };
});

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function world(emu: OpenWebUIEmulator, opts: { concurrency?: number; processTimeoutMs?: number } = {}) {
  const root = await tempRoot();
  roots.push(root);
  const user = emu.addUser('Student', `s-${Math.random().toString(36).slice(2)}@example.test`);
  const store = folderStore(root);
  const client = new OpenWebUIClient({ url: emu.url, apiKey: emu.adminApiKey, retries: 2, retryBackoffLimitMs: 50 });
  const sync = new KbSync({
    client,
    store,
    extensions: DEFAULT_EXTENSIONS,
    processTimeoutMs: opts.processTimeoutMs ?? 5_000,
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
  });
  const kbPaths = (kbId: string) => [...(emu.knowledge.get(kbId)?.files ?? [])].map((id) => String(emu.files.get(id)!.meta.data.path)).sort();
  return { uid: user.id, store, sync, kbPaths };
}

const note = (i: number) => `# note ${i}\n${'words of note '.repeat(20)}${i}\n`;

describe('a fast KB round (emulated Open WebUI 0.12.4)', () => {
  let emu: OpenWebUIEmulator;
  beforeEach(async () => {
    emu = await startEmulator();
  });
  afterEach(async () => {
    await emu.stop();
  });

  it('uploads side by side, never more than RALPH_SYNC_CONCURRENCY at once, processed inside the request', async () => {
    emu.faults.processingDelayMs = 150;
    const { uid, store, sync, kbPaths } = await world(emu, { concurrency: 3 });
    for (let i = 0; i < 12; i++) await putFile(store, uid, `n${String(i).padStart(2, '0')}.md`, note(i));
    const s = await sync.sync(uid, 'to_openwebui');
    expect(s.uploaded).toHaveLength(12);
    expect(kbPaths(s.knowledge_id)).toHaveLength(12);
    // Three uploads were in Open WebUI at once (each held 150 ms by its processing): side by side, and
    // never more. How much time that saves is the bench's to say (docs/PERFORMANCE.md), not a test's.
    expect(emu.inFlight.get('POST /api/v1/files/')?.peak).toBe(3);
    // The upload answered once processing had ended: one status read per file, no polling.
    expect(emu.count('GET /api/v1/files/{id}/process/status')).toBe(12);
    expect(emu.log.filter((l) => l.method === 'POST' && l.path === '/api/v1/files/' && l.status === 200)).toHaveLength(12);
  });

  it('adds processed files in batches, not one by one', async () => {
    const { uid, store, sync, kbPaths } = await world(emu);
    const n = 2 * BATCH_ADD_SIZE + 20;
    for (let i = 0; i < n; i++) await putFile(store, uid, `notes/n${String(i).padStart(3, '0')}.md`, note(i));
    const s = await sync.sync(uid, 'to_openwebui');
    expect(s.uploaded).toHaveLength(n);
    expect(kbPaths(s.knowledge_id)).toHaveLength(n);
    expect(emu.count('POST /api/v1/knowledge/{id}/file/add')).toBe(0);
    expect(emu.count('POST /api/v1/knowledge/{id}/files/batch/add')).toBe(3);
  });

  it("one user's long first round does not hold up another user's single file", async () => {
    emu.faults.processingDelayMs = 100;
    const root = await tempRoot();
    roots.push(root);
    const store = folderStore(root);
    const client = new OpenWebUIClient({ url: emu.url, apiKey: emu.adminApiKey });
    const sync = new KbSync({ client, store, extensions: DEFAULT_EXTENSIONS, concurrency: 2 });
    const big = emu.addUser('Big', 'big@example.test').id;
    const small = emu.addUser('Small', 'small@example.test').id;
    for (let i = 0; i < 30; i++) await putFile(store, big, `n${i}.md`, note(i));
    await putFile(store, small, 'one.md', 'just one file\n');
    const ended: string[] = [];
    const first = sync.sync(big, 'to_openwebui').then(() => void ended.push('big'));
    await new Promise((r) => setTimeout(r, 200)); // the big round is uploading by now
    await sync.sync(small, 'to_openwebui').then(() => void ended.push('small'));
    await first;
    // 30 files, 2 at a time, 100 ms each: the big round needs 1.5 s; the small one ends first.
    expect(ended).toEqual(['small', 'big']);
  });

  it('two files in one new folder make it once, however many uploads run at once', async () => {
    const { uid, store, sync } = await world(emu, { concurrency: 8 });
    for (let i = 0; i < 16; i++) await putFile(store, uid, `class ${i % 2}/week/n${i}.md`, note(i));
    const s = await sync.sync(uid, 'to_openwebui');
    expect(s.uploaded).toHaveLength(16);
    // class 0, class 1, and a "week" under each: four folders, four creates.
    expect(emu.count('POST /api/v1/knowledge/{id}/dirs/create')).toBe(4);
    const kb = emu.knowledge.get(s.knowledge_id)!;
    expect([...kb.dirs.values()].map((d) => d.name).sort()).toEqual(['class 0', 'class 1', 'week', 'week']);
    const paths = kb.files.map((id) => `${emu.files.get(id)!.meta.data.path}`).sort();
    expect(paths.every((p) => /^class [01]\/week\/n\d+\.md$/.test(p))).toBe(true);
  });

  it('writes the state in batches: a first round of 60 files writes it a few times, not 60', async () => {
    const { uid, store, sync } = await world(emu);
    for (let i = 0; i < 60; i++) await putFile(store, uid, `n${i}.md`, note(i));
    stateWrites.n = 0;
    const s = await sync.sync(uid, 'to_openwebui');
    expect(s.uploaded).toHaveLength(60);
    // KB made (1), one per batch of added files, the end (1).
    expect(stateWrites.n).toBeLessThanOrEqual(2 + Math.ceil(60 / BATCH_ADD_SIZE));
  });

  it('the new base is on disk before the replaced KB file is dropped', async () => {
    const { uid, store, sync, kbPaths } = await world(emu);
    await putFile(store, uid, 'a.md', 'first version\n');
    await sync.sync(uid, 'to_openwebui');
    const stateFile = join(store.stateDir(uid), STATE_FILE);
    const idOnDisk = (): string => JSON.parse(readFileSync(stateFile, 'utf8')).files['a.md'].openwebui_file_id as string;
    const oldId = idOnDisk();
    // What the state file says at the moment Open WebUI is asked to drop the old file.
    let whenDropped: string | undefined;
    emu.onRequest = (method, path) => {
      if (method === 'DELETE' && path.endsWith(oldId)) whenDropped = idOnDisk();
    };
    await putFile(store, uid, 'a.md', 'second version\n');
    const s = await sync.sync(uid, 'to_openwebui');
    expect(s.uploaded).toEqual(['a.md']);
    expect(whenDropped).toBeDefined();
    expect(whenDropped).not.toBe(oldId);
    expect(whenDropped).toBe(idOnDisk());
    expect(emu.files.has(oldId)).toBe(false);
    expect(kbPaths(s.knowledge_id)).toEqual(['a.md']);
  });

  it('a round stopped while dropping a replaced file leaves the new one recorded; the next round drops the old one', async () => {
    const { uid, store, sync } = await world(emu);
    await putFile(store, uid, 'a.md', 'first version\n');
    await sync.sync(uid, 'to_openwebui');
    const stateFile = join(store.stateDir(uid), STATE_FILE);
    const oldId = JSON.parse(await readFile(stateFile, 'utf8')).files['a.md'].openwebui_file_id as string;
    await putFile(store, uid, 'a.md', 'second version\n');
    // Open WebUI goes away exactly when the old file is dropped (the delete and the client's two
    // retries of it): the round stops there.
    emu.faults.http.push({ method: 'DELETE', path: /^\/api\/v1\/files\//, count: 3, kind: 'drop' });
    await expect(sync.sync(uid, 'to_openwebui')).rejects.toThrow();
    const onDisk = JSON.parse(await readFile(stateFile, 'utf8')).files['a.md'];
    expect(onDisk.openwebui_file_id).not.toBe(oldId);
    expect(emu.files.has(onDisk.openwebui_file_id)).toBe(true);
    const s = await sync.sync(uid, 'to_openwebui');
    expect(s.uploaded).toEqual([]);
    expect(emu.files.has(oldId)).toBe(false);
    expect(emu.knowledge.get(s.knowledge_id)!.files).toEqual([onDisk.openwebui_file_id]);
  });

  it('a refused batch (a folder deleted in the web UI) goes one by one and every file arrives', async () => {
    const { uid, store, sync, kbPaths } = await world(emu);
    await putFile(store, uid, 'docs/a.md', 'alpha\n');
    const s1 = await sync.sync(uid, 'to_openwebui');
    const kb = emu.knowledge.get(s1.knowledge_id)!;
    kb.dirs.clear(); // deleted in the web UI; the hub still has the id cached
    kb.fileDir.clear();
    await putFile(store, uid, 'docs/b.md', 'bravo\n');
    await putFile(store, uid, 'docs/c.md', 'charlie\n');
    const s2 = await sync.sync(uid, 'to_openwebui');
    expect(s2.uploaded).toEqual(['docs/b.md', 'docs/c.md']);
    expect(kbPaths(s1.knowledge_id)).toEqual(['docs/a.md', 'docs/b.md', 'docs/c.md']);
    expect([...kb.dirs.values()].map((d) => d.name)).toEqual(['docs']);
  });
});

describe('before 0.12.4 (emulated 0.6.30): the per-file path', () => {
  it('processes in the background, waits for it, adds one file at a time', async () => {
    const emu = await startEmulator({ flavour: 'legacy' });
    try {
      emu.faults.processingDelayMs = 30;
      const { uid, store, sync, kbPaths } = await world(emu);
      for (let i = 0; i < 5; i++) await putFile(store, uid, `n${i}.md`, note(i));
      const s = await sync.sync(uid, 'to_openwebui');
      expect(s.uploaded).toHaveLength(5);
      expect(kbPaths(s.knowledge_id)).toHaveLength(5);
      expect(emu.count('POST /api/v1/knowledge/{id}/file/add')).toBe(5);
      expect(emu.count('POST /api/v1/knowledge/{id}/files/batch/add')).toBe(0);
    } finally {
      await emu.stop();
    }
  });
});
