// A user's edit that lands the instant a download is renamed into place (the editor saves the file
// it was just given) must reach the hub, and the next round must know the file changed. The round
// used to lstat the file after the rename and record that stat as the downloaded bytes: an edit in
// between looked unchanged forever (docs/SYNC-SPEC.md invariants 6 and 8). The edit is injected right
// after the rename through a wrapped `rename`, the one seam where this race can be hit on purpose.
import type * as FsPromises from 'node:fs/promises';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runRound } from '../../app/sync/round.ts';
import { auth, rawRequest, startHub, type HubHandle } from '../helpers/hub.ts';
import { roundContext } from '../helpers/round.ts';

const hooks = vi.hoisted(() => ({ afterRename: undefined as ((to: string) => Promise<void>) | undefined }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const orig = await importOriginal<typeof FsPromises>();
  return {
    ...orig,
    rename: async (from: Parameters<typeof orig.rename>[0], to: Parameters<typeof orig.rename>[1]) => {
      await orig.rename(from, to);
      await hooks.afterRename?.(String(to));
    },
  };
});

let hub: HubHandle;
let dir: string;
beforeAll(async () => {
  hub = await startHub();
  dir = await mkdtemp(join(tmpdir(), 'youlab-edit-after-dl-'));
}, 60_000);
afterAll(async () => {
  await hub?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('an edit the instant a download lands', { timeout: 60_000 }, () => {
  it('is uploaded by the next round, not recorded as the downloaded bytes', async () => {
    const key = await hub.createKey('alice');
    const put = await rawRequest(hub.url, { method: 'PUT', path: '/users/alice/workspace/files/doc.txt', headers: { ...auth(key), 'if-none-match': '*' }, body: 'from the hub' });
    expect(put.status).toBe(200);
    const { ctx, folder } = await roundContext({ url: hub.url, key, dir });
    const target = join(folder, 'doc.txt');
    hooks.afterRename = async (to) => {
      if (to !== target) return;
      hooks.afterRename = undefined;
      await writeFile(target, 'edited the moment it arrived');
    };
    const first = await runRound(ctx);
    expect(first.downloaded).toBe(1);
    expect(hooks.afterRename).toBeUndefined();
    const second = await runRound(ctx);
    expect(second.uploaded).toBe(1);
    const onHub = await rawRequest(hub.url, { path: '/users/alice/workspace/files/doc.txt', headers: auth(key) });
    expect(onHub.body.toString()).toBe('edited the moment it arrived');
    expect(await readFile(target, 'utf8')).toBe('edited the moment it arrived');
  });
});
