// docs/SYNC-SPEC.md invariant 5 (conditional writes): the hub changes between the client's listing and
// its upload. The real hub must answer 412 and change nothing; the client re-reconciles next
// round and the edit becomes a conflict, never a lost update. Runs the engine's round in-process
// against a real hub process so the race can be placed exactly.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIgnore } from '../../shared/ignore-rules.ts';
import type { FileList } from '../../shared/protocol.ts';
import { HubClient } from '../../app/sync/hub-client.ts';
import type { RoundContext } from '../../app/sync/round-context.ts';
import { runRound } from '../../app/sync/round.ts';
import { StateStore } from '../../app/sync/state.ts';
import { Trash } from '../../app/sync/trash.ts';
import { startHub, type HubHandle } from '../helpers/hub.ts';

let hub: HubHandle;
let dir: string;

beforeAll(async () => {
  hub = await startHub();
  dir = await mkdtemp(join(tmpdir(), 'race-'));
});
afterAll(async () => {
  await hub?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A hub client that lets the test act right after the listing, before any transfer. */
class RacingHub extends HubClient {
  afterList: (() => Promise<void>) | undefined;
  override async list(): Promise<FileList> {
    const l = await super.list();
    const hook = this.afterList;
    this.afterList = undefined;
    await hook?.();
    return l;
  }
}

async function context(user: string): Promise<{ ctx: RoundContext; hubClient: RacingHub; folder: string; ws: string }> {
  const key = await hub.createKey(user);
  const folder = join(dir, user, 'folder');
  const stateDir = join(dir, user, 'state');
  await mkdir(folder, { recursive: true });
  const hubClient = new RacingHub({ baseUrl: hub.url, apiKey: key });
  const store = new StateStore(stateDir);
  const { state } = await store.load();
  const ctx: RoundContext = { folder, device: 'racer', hub: hubClient, store, state, trash: new Trash(join(stateDir, 'trash')), ignore: createIgnore(), tmpDir: join(stateDir, 'tmp') };
  return { ctx, hubClient, folder, ws: join(hub.dataDir, user, 'workspace') };
}

describe('412 races', { timeout: 120_000 }, () => {
  it('upload raced by an agent write: 412, nothing overwritten, next round makes a conflict copy', async () => {
    const { ctx, hubClient, folder, ws } = await context('race1');
    await writeFile(join(folder, 'doc.md'), 'v1');
    expect(await runRound(ctx)).toMatchObject({ uploaded: 1 });

    await writeFile(join(folder, 'doc.md'), 'client edit');
    hubClient.afterList = async () => {
      await writeFile(join(ws, 'doc.md'), 'agent edit');
    };
    const raced = await runRound(ctx);
    expect(raced).toMatchObject({ uploaded: 0, failed: 0, again: true });
    expect(await readFile(join(ws, 'doc.md'), 'utf8')).toBe('agent edit');

    // Give the hub's agent watcher its moment, then the next round sees the real situation.
    await sleep(1200);
    const next = await runRound(ctx);
    expect(next).toMatchObject({ conflicts: 1, downloaded: 1, uploaded: 1 });
    const names = (await readdir(ws)).sort();
    expect(names).toHaveLength(2);
    expect(await readFile(join(ws, 'doc.md'), 'utf8')).toBe('agent edit');
    const copy = names.find((n) => n !== 'doc.md')!;
    expect(copy).toMatch(/^doc \(conflict racer \d{4}-\d{2}-\d{2} \d{6}\)\.md$/);
    expect(await readFile(join(ws, copy), 'utf8')).toBe('client edit');
    expect(ctx.state.conflicts.map((c) => c.copy_path)).toEqual([copy]);
  });

  it('delete raced by an edit on the hub: 412, the file survives and comes back', async () => {
    const { ctx, hubClient, folder, ws } = await context('race2');
    await writeFile(join(folder, 'keep.md'), 'k');
    await writeFile(join(folder, 'gone.md'), 'v1');
    await runRound(ctx);
    await rm(join(folder, 'gone.md'));
    hubClient.afterList = async () => {
      await writeFile(join(ws, 'gone.md'), 'edited on the hub');
    };
    const raced = await runRound(ctx);
    expect(raced).toMatchObject({ deleted: 0, failed: 0, again: true });
    expect(await readFile(join(ws, 'gone.md'), 'utf8')).toBe('edited on the hub');
    await sleep(1200);
    expect(await runRound(ctx)).toMatchObject({ downloaded: 1, deleted: 0 });
    expect(await readFile(join(folder, 'gone.md'), 'utf8')).toBe('edited on the hub');
  });
});
