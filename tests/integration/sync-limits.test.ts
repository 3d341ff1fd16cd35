// docs/SYNC-SPEC.md: 413 file (reported, not retried in a loop), 401/403 across users, quota.
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type HubHandle } from '../helpers/hub.ts';
import { makeClient, makeRoot } from '../helpers/client.ts';

const LIMIT = 64 * 1024;
let hub: HubHandle;
let root: { dir: string; cleanup(): Promise<void> };

beforeAll(async () => {
  hub = await startHub({ env: { RALPH_MAX_FILE_BYTES: String(LIMIT), RALPH_MAX_WORKSPACE_BYTES: String(4 * LIMIT) } });
  root = await makeRoot();
});
afterAll(async () => {
  await hub?.stop();
  await root?.cleanup();
});

describe('hub limits and auth', { timeout: 120_000 }, () => {
  it('413 file: shown as not synced, the same bytes are not offered again, a changed file is', async () => {
    const key = await hub.createKey('big');
    const a = await makeClient(join(root.dir, 'big'), 'alpha', hub.url, key);
    await a.write('small.txt', 'fits');
    await a.write('big.bin', Buffer.alloc(LIMIT + 1, 7));
    const first = await a.once();
    expect(first.code).toBe(3);
    expect(first.stdout.trim()).toBe('uploaded 1, downloaded 0, deleted 0, conflicts 0');
    expect(first.stderr).toMatch(/up big\.bin: failed/);
    expect(first.stderr).toMatch(/not synced: big\.bin/);

    const second = await a.once();
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(/up big\.bin: skipped/);
    expect(second.stderr).not.toMatch(/failed/);
    const ws = join(hub.dataDir, 'big', 'workspace');
    expect(await readdir(ws)).toEqual(['small.txt']);

    // Shrinking the file makes it eligible at once.
    await writeFile(join(a.folder, 'big.bin'), Buffer.alloc(LIMIT - 1, 7));
    const third = await a.once();
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout.trim()).toBe('uploaded 1, downloaded 0, deleted 0, conflicts 0');
    expect(existsSync(join(ws, 'big.bin'))).toBe(true);
  });

  it('507 quota: reported per file, the rest syncs', async () => {
    const key = await hub.createKey('quota');
    const a = await makeClient(join(root.dir, 'quota'), 'alpha', hub.url, key);
    for (let i = 0; i < 5; i++) await a.write(`f${i}.bin`, Buffer.alloc(LIMIT - 10, i));
    const r = await a.once();
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not synced: f\d\.bin/);
    const on = await readdir(join(hub.dataDir, 'quota', 'workspace'));
    expect(on.length).toBeGreaterThanOrEqual(3);
    expect(on.length).toBeLessThan(5);
  });

  it('401: an unknown key stops with a clear message and exit code 2, nothing changes', async () => {
    const a = await makeClient(join(root.dir, 'nokey'), 'alpha', hub.url, 'not-a-real-key');
    await a.write('x.txt', 'x');
    const r = await a.once();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refused the API key \(401\)/);
    expect(r.stdout).toBe('');
  });

  it("403: a user's key cannot sync another user's workspace", async () => {
    const mallory = await hub.createKey('mallory');
    await hub.createKey('victim');
    const m = await makeClient(join(root.dir, 'mallory'), 'alpha', hub.url, mallory);
    await m.write('x.txt', 'x');
    const r = await m.once({ args: ['--user', 'victim'] });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/may not use this workspace \(403\)/);
    expect(existsSync(join(hub.dataDir, 'victim', 'workspace', 'x.txt'))).toBe(false);
  });

  it("a service key may sync a named user's workspace", async () => {
    const service = await hub.createKey(null, { service: true });
    await hub.createKey('served');
    const s = await makeClient(join(root.dir, 'served'), 'ralph', hub.url, service);
    await s.write('from-ralph.txt', 'r');
    const bare = await s.once();
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/--user/);
    expect(await s.sync({ args: ['--user', 'served'] })).toBe('uploaded 1, downloaded 0, deleted 0, conflicts 0');
    expect(existsSync(join(hub.dataDir, 'served', 'workspace', 'from-ralph.txt'))).toBe(true);
  });
});
