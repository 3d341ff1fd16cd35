// A file that is being written while the round hashes it is left for the next round (docs/SYNC-SPEC.md
// invariant 8): that round must take no decision on it at all. It used to plan the path from the
// other files' point of view, where a synced file missing from the scan is a local delete, and
// sent a delete to the hub that nobody made (other devices then moved their copies to the trash).
// The write during hashing is injected through a wrapped hashFile.
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as HashModule from '../../shared/node/hash.ts';
import { runRound } from '../../app/sync/round.ts';
import { auth, rawRequest, startHub, type HubHandle } from '../helpers/hub.ts';
import { roundContext } from '../helpers/round.ts';

const hooks = vi.hoisted(() => ({ whileHashing: undefined as ((path: string) => Promise<void>) | undefined }));
vi.mock('../../shared/node/hash.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof HashModule>();
  return {
    ...orig,
    hashFile: async (path: string, sizeHint?: number) => {
      const h = await orig.hashFile(path, sizeHint);
      await hooks.whileHashing?.(path);
      return h;
    },
  };
});

let hub: HubHandle;
let dir: string;
beforeAll(async () => {
  hub = await startHub();
  dir = await mkdtemp(join(tmpdir(), 'youlab-edit-while-hashing-'));
}, 60_000);
afterAll(async () => {
  await hub?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a file written while the round hashes it', { timeout: 60_000 }, () => {
  it('is neither deleted on the hub nor uploaded half-written; the next round uploads it', async () => {
    const key = await hub.createKey('alice');
    const { ctx, folder } = await roundContext({ url: hub.url, key, dir });
    await writeFile(join(folder, 'notes.md'), 'first draft\n');
    await writeFile(join(folder, 'other.md'), 'unrelated\n');
    expect((await runRound(ctx)).uploaded).toBe(2);

    // The user keeps typing: the file changes again while this round reads it.
    await writeFile(join(folder, 'notes.md'), 'second draft\n');
    const target = join(folder, 'notes.md');
    hooks.whileHashing = async (path) => {
      if (path !== target) return;
      hooks.whileHashing = undefined;
      await appendFile(target, 'and a third line typed meanwhile\n');
    };
    const during = await runRound(ctx);
    expect(hooks.whileHashing).toBeUndefined();
    expect(during).toMatchObject({ deleted: 0, uploaded: 0, unstable: 1, again: true });
    const onHub = await rawRequest(hub.url, { path: '/users/alice/workspace/files/notes.md', headers: auth(key) });
    expect(onHub.status).toBe(200);
    expect(onHub.body.toString()).toBe('first draft\n');

    const after = await runRound(ctx);
    expect(after.uploaded).toBe(1);
    const now = await rawRequest(hub.url, { path: '/users/alice/workspace/files/notes.md', headers: auth(key) });
    expect(now.body.toString()).toBe(await readFile(target, 'utf8'));
    expect(now.body.toString()).toBe('second draft\nand a third line typed meanwhile\n');
  });
});
