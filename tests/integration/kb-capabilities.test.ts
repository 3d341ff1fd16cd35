// Which routes the hub uses per Open WebUI release (server/openwebui/capabilities.ts): decided by
// the version, then probed (a build whose version says more than its routes), and releases older
// than the supported range refused with a clear error instead of failing half-way.
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { capabilitiesFor, OLDEST_SUPPORTED, unsupportedReason } from '../../server/openwebui/capabilities.ts';
import { OpenWebUIClient } from '../../server/openwebui/client.ts';
import { OpenWebUIError } from '../../server/openwebui/http.ts';
import { KbSync } from '../../server/openwebui/kb-sync.ts';
import { DEFAULT_EXTENSIONS } from '../../server/openwebui/plan.ts';
import { startEmulator, type OpenWebUIEmulator } from '../fakes/openwebui-emulator/index.ts';
import { folderStore, putFile, tempRoot } from '../helpers/openwebui.ts';

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function world(emu: OpenWebUIEmulator) {
  const root = await tempRoot();
  roots.push(root);
  const user = emu.addUser('Student', `s-${Math.random().toString(36).slice(2)}@example.test`);
  const store = folderStore(root);
  const client = new OpenWebUIClient({ url: emu.url, apiKey: emu.adminApiKey, retries: 0 });
  const sync = new KbSync({ client, store, extensions: DEFAULT_EXTENSIONS, processTimeoutMs: 5_000 });
  return { uid: user.id, store, client, sync };
}

describe('Open WebUI capabilities by release', () => {
  it('thresholds: 0.6.30 has process/status but no files route or grants; 0.8.12 grants; 0.9.6 folders; 0.12.4 the quick path', () => {
    const pick = (v: string) => {
      const c = capabilitiesFor(v);
      return [c.processStatusRoute, c.knowledgeFilesRoute, c.accessGrants, c.directories, c.quickUploads];
    };
    expect(pick('0.6.30')).toEqual([true, false, false, false, false]);
    expect(pick('0.6.42')).toEqual([true, true, false, false, false]);
    expect(pick('0.8.12')).toEqual([true, true, true, false, false]);
    expect(pick('0.9.6')).toEqual([true, true, true, true, false]);
    expect(pick('0.12.4')).toEqual([true, true, true, true, true]);
    expect(pick('0.13.0-dev')).toEqual([true, true, true, true, true]);
  });

  it('the supported range starts at 0.6.30; a dev build without a release number is tried', () => {
    expect(OLDEST_SUPPORTED).toBe('0.6.30');
    expect(unsupportedReason('0.6.30')).toBeUndefined();
    expect(unsupportedReason('0.12.4')).toBeUndefined();
    expect(unsupportedReason('main')).toBeUndefined();
    expect(unsupportedReason('0.6.29')).toMatch(/older than the oldest supported release \(0\.6\.30\)/);
  });

  it('a release older than 0.6.30: the round fails with that reason, nothing is created in Open WebUI', async () => {
    const emu = await startEmulator({ flavour: 'legacy', version: '0.5.20' });
    try {
      const { uid, store, sync } = await world(emu);
      await putFile(store, uid, 'a.md', 'alpha\n');
      const err = await sync.sync(uid).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenWebUIError);
      expect((err as Error).message).toBe('Open WebUI 0.5.20 is older than the oldest supported release (0.6.30); upgrade Open WebUI');
      expect(emu.knowledge.size).toBe(0);
      expect(emu.uploads()).toEqual([]);
    } finally {
      await emu.stop();
    }
  });

  it('a build whose version says the files route is there (0.6.45) but lacks it (its web page answers): the KB files are read inline', async () => {
    // The legacy flavour's routes under a newer version number.
    const emu = await startEmulator({ flavour: 'legacy', version: '0.6.45' });
    try {
      const { uid, store, client, sync } = await world(emu);
      await putFile(store, uid, 'a.md', 'alpha\n');
      await putFile(store, uid, 'b.md', 'bravo\n');
      const s1 = await sync.sync(uid);
      expect(s1.uploaded.sort()).toEqual(['a.md', 'b.md']);
      // The route was asked, answered with the page, and the record's inline files used instead.
      expect(emu.log.some((l) => l.method === 'GET' && /\/knowledge\/[^/]+\/files$/.test(l.path) && l.status === 200)).toBe(true);
      expect((await client.listKnowledgeFiles(s1.knowledge_id)).map((f) => f.meta?.data?.path).sort()).toEqual(['a.md', 'b.md']);
      const s2 = await sync.sync(uid);
      expect([...s2.uploaded, ...s2.downloaded, ...s2.deleted_in_openwebui, ...s2.deleted_in_workspace]).toEqual([]);
    } finally {
      await emu.stop();
    }
  });

  it('0.6.30 (the legacy flavour) never asks for the files route: the version says it is not there', async () => {
    const emu = await startEmulator({ flavour: 'legacy' });
    try {
      const { uid, store, sync } = await world(emu);
      await putFile(store, uid, 'a.md', 'alpha\n');
      expect((await sync.sync(uid)).uploaded).toEqual(['a.md']);
      expect(emu.log.filter((l) => /\/knowledge\/[^/]+\/files$/.test(l.path))).toEqual([]);
    } finally {
      await emu.stop();
    }
  });
});
