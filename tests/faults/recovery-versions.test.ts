// Version store and recovery from the client side: `youlab-sync versions|restore` (real CLI
// processes) and SyncEngine.listVersions/restoreVersion (what the desktop app calls). A restore
// reaches every replica like any hub change.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncEngine } from '../../app/sync/engine.ts';
import { makeClient, makeRoot, runCli, type TestClient } from '../helpers/client.ts';
import { startHub, type HubHandle } from '../helpers/hub.ts';

let hub: HubHandle;
let root: { dir: string; cleanup(): Promise<void> };
let key: string;
let a: TestClient;
let b: TestClient;

beforeAll(async () => {
  hub = await startHub();
  key = await hub.createKey('alice');
  root = await makeRoot('youlab-recovery-');
  a = await makeClient(root.dir, 'a', hub.url, key);
  b = await makeClient(root.dir, 'b', hub.url, key);
}, 60_000);

afterAll(async () => {
  await hub?.stop();
  await root?.cleanup();
});

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await sleep(100);
  }
}

describe('versions and restore from the client', { timeout: 120_000 }, () => {
  it('lists the overwritten version and restores it; the restore syncs out to every client', async () => {
    await a.write('notes.md', 'first draft\n');
    await a.sync();
    await b.sync();
    await b.write('notes.md', 'second draft, longer\n');
    await b.sync();
    await a.sync();
    expect(await a.read('notes.md')).toBe('second draft, longer\n');

    const list = await runCli(a.opts(), ['versions', 'notes.md']);
    expect(list.code, list.stderr).toBe(0);
    const rows = list.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(rows).toHaveLength(1);
    const [id, , size, reason] = rows[0]!;
    expect(reason).toBe('overwrite');
    expect(Number(size)).toBe('first draft\n'.length);

    const res = await runCli(a.opts(), ['restore', 'notes.md', '--version', id!]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/restored notes\.md/);
    expect(await a.read('notes.md')).toBe('first draft\n');
    await b.sync();
    expect(await b.read('notes.md')).toBe('first draft\n');
    // The replaced content is kept in turn: both drafts are now versions.
    const again = await runCli(a.opts(), ['versions', 'notes.md']);
    expect(again.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('a deleted file is listed (reason delete) and comes back by restore', async () => {
    await a.write('gone.txt', 'precious\n');
    await a.sync();
    await b.sync();
    const { unlink } = await import('node:fs/promises');
    await unlink(join(b.folder, 'gone.txt'));
    await b.sync();
    await a.sync();
    await expect(a.read('gone.txt')).rejects.toThrow();
    const list = await runCli(b.opts(), ['versions', 'gone.txt']);
    expect(list.code, list.stderr).toBe(0);
    const [id, , , reason] = list.stdout.trim().split('\n')[0]!.split('\t');
    expect(reason).toBe('delete');
    const res = await runCli(b.opts(), ['restore', 'gone.txt', '--version', id!]);
    expect(res.code, res.stderr).toBe(0);
    expect(await b.read('gone.txt')).toBe('precious\n');
    await a.sync();
    expect(await a.read('gone.txt')).toBe('precious\n');
  });

  it('an unknown version id or a path without versions fails cleanly, changing nothing', async () => {
    const none = await runCli(a.opts(), ['versions', 'never-existed.md']);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/no kept versions/);
    const bad = await runCli(a.opts(), ['restore', 'notes.md', '--version', '0000000000000-deadbeef']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/error:/);
    expect(await a.read('notes.md')).toBe('first draft\n');
    const usage = await runCli(a.opts(), ['restore', 'notes.md']);
    expect(usage.code).toBe(1);
  });

  it('engine API: a live engine lists and restores, and the restored bytes land in its folder without a manual round', async () => {
    const engine = new SyncEngine({ serverUrl: hub.url, apiKey: key, folder: a.folder, stateDir: a.stateDir, device: 'a', debounceMs: 50 });
    try {
      await engine.start();
      await a.write('live.md', 'one\n');
      await until(async () => ((await engine.listVersions('live.md')).length === 0 ? true : undefined));
      await until(async () => ((await readFile(join(hub.dataDir, 'alice', 'workspace', 'live.md'), 'utf8')) === 'one\n' ? true : undefined));
      await a.write('live.md', 'two\n');
      const versions = await until(async () => {
        const v = await engine.listVersions('live.md');
        return v.length > 0 ? v : undefined;
      });
      expect(versions[0]!.size).toBe(4);
      const r = await engine.restoreVersion('live.md', versions[0]!.id);
      expect(r.path).toBe('live.md');
      await until(async () => ((await a.read('live.md')) === 'one\n' ? true : undefined));
    } finally {
      await engine.stop();
    }
  });
});
