// The quick round (app/sync/quick-round.ts): the few paths the watcher or the change feed named
// are reconciled without a scan or a listing, and anything that is not simple is handed back to
// the full round (needFull) with nothing written.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubClient } from '../../app/sync/hub-client.ts';
import { runQuickRound } from '../../app/sync/quick-round.ts';
import type { RoundContext } from '../../app/sync/round-context.ts';
import { runRound } from '../../app/sync/round.ts';
import { StateStore } from '../../app/sync/state.ts';
import { Trash } from '../../app/sync/trash.ts';
import { createIgnore } from '../../shared/ignore-rules.ts';
import { startHub, type HubHandle } from '../helpers/hub.ts';

const sha = (s: string): string => 'sha256:' + createHash('sha256').update(s).digest('hex');
let hub: HubHandle;
let dir: string;

beforeAll(async () => {
  hub = await startHub();
  dir = await mkdtemp(join(tmpdir(), 'youlab-quick-'));
});
afterAll(async () => {
  await hub?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function context(user: string): Promise<{ ctx: RoundContext; folder: string; ws: string }> {
  const key = await hub.createKey(user);
  const folder = join(dir, user, 'folder');
  const stateDir = join(dir, user, 'state');
  await mkdir(folder, { recursive: true });
  const hubClient = new HubClient({ baseUrl: hub.url, apiKey: key });
  const store = new StateStore(stateDir);
  const { state } = await store.load();
  const ctx: RoundContext = { folder, device: 'quick', hub: hubClient, store, state, trash: new Trash(join(stateDir, 'trash')), ignore: createIgnore(), tmpDir: join(stateDir, 'tmp') };
  return { ctx, folder, ws: join(hub.dataDir, user, 'workspace') };
}

describe('quick round', { timeout: 120_000 }, () => {
  it('uploads a saved file and downloads an announced one, recording bases, without the full round', async () => {
    const { ctx, folder, ws } = await context('q1');
    await writeFile(join(folder, 'old.txt'), 'old');
    await runRound(ctx);
    await writeFile(join(folder, 'new.txt'), 'new');
    await writeFile(join(folder, 'old.txt'), 'old, edited');
    const up = await runQuickRound(ctx, new Set(['new.txt', 'old.txt']), new Map());
    expect(up).toMatchObject({ needFull: false, uploaded: 2 });
    expect(await readFile(join(ws, 'new.txt'), 'utf8')).toBe('new');
    expect(await readFile(join(ws, 'old.txt'), 'utf8')).toBe('old, edited');
    expect(ctx.state.base['new.txt']).toBe(sha('new'));

    await writeFile(join(ws, 'agent.txt'), 'from the agent');
    const down = await runQuickRound(ctx, new Set(), new Map([['agent.txt', { hash: sha('from the agent') }]]));
    expect(down).toMatchObject({ needFull: false, downloaded: 1 });
    expect(await readFile(join(folder, 'agent.txt'), 'utf8')).toBe('from the agent');
    expect(ctx.state.base['agent.txt']).toBe(sha('from the agent'));
  });

  it('a hub change it was not told of: the upload gets 412, the hub keeps its bytes, the full round is asked for', async () => {
    const { ctx, folder, ws } = await context('q2');
    await writeFile(join(folder, 'f.txt'), 'v1');
    await runRound(ctx);
    await writeFile(join(ws, 'f.txt'), 'agent v2');
    await writeFile(join(folder, 'f.txt'), 'local v2');
    const r = await runQuickRound(ctx, new Set(['f.txt']), new Map());
    expect(r.needFull).toBe(true);
    expect(await readFile(join(ws, 'f.txt'), 'utf8')).toBe('agent v2');
    expect(await readFile(join(folder, 'f.txt'), 'utf8')).toBe('local v2');
    // The full round then keeps both (conflict copy), as docs/SYNC-SPEC.md asks.
    await runRound(ctx);
    await runRound(ctx);
    expect(await readFile(join(folder, 'f.txt'), 'utf8')).toBe('agent v2');
  });

  it('a conflict, a folder, or many deletes are left to the full round with nothing done', async () => {
    const { ctx, folder, ws } = await context('q3');
    for (let i = 0; i < 12; i++) await writeFile(join(folder, `d${i}.txt`), `d${i}`);
    await writeFile(join(folder, 'c.txt'), 'base');
    await runRound(ctx);

    await writeFile(join(folder, 'c.txt'), 'mine');
    const conflict = await runQuickRound(ctx, new Set(['c.txt']), new Map([['c.txt', { hash: sha('theirs') }]]));
    expect(conflict.needFull).toBe(true);
    expect(await readFile(join(ws, 'c.txt'), 'utf8')).toBe('base');
    expect(await readFile(join(folder, 'c.txt'), 'utf8')).toBe('mine');

    await mkdir(join(folder, 'sub'));
    expect((await runQuickRound(ctx, new Set(['sub']), new Map())).needFull).toBe(true);

    for (let i = 0; i < 12; i++) await rm(join(folder, `d${i}.txt`));
    const many = await runQuickRound(ctx, new Set(Array.from({ length: 12 }, (_, i) => `d${i}.txt`)), new Map());
    expect(many.needFull).toBe(true);
    expect(await readFile(join(ws, 'd0.txt'), 'utf8')).toBe('d0');
  });
});
