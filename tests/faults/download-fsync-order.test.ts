// A downloaded file's bytes reach the disk before its name points at them (issue 15, item 3):
// the temp file is fsynced, then renamed, then its folder fsynced. Without the first fsync a power
// cut after the rename can leave an empty or torn file that the next round uploads as a local
// edit. The order is recorded through wrapped `open` (its handle's `sync`) and `rename`, for a
// small file (bulk download) and a large one (a GET of its own), in a real round against a real hub.
import type * as FsPromises from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runRound } from '../../app/sync/round.ts';
import { auth, rawRequest, startHub, type HubHandle } from '../helpers/hub.ts';
import { roundContext } from '../helpers/round.ts';

type Event = { op: 'fsync'; path: string; size: number } | { op: 'rename'; from: string; to: string };
const rec = vi.hoisted(() => ({ events: [] as Event[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const orig = await importOriginal<typeof FsPromises>();
  return {
    ...orig,
    open: async (...args: Parameters<typeof orig.open>) => {
      const fh = await orig.open(...args);
      const sync = fh.sync.bind(fh);
      fh.sync = async () => {
        const size = (await fh.stat()).size;
        await sync();
        rec.events.push({ op: 'fsync', path: String(args[0]), size });
      };
      return fh;
    },
    rename: async (from: Parameters<typeof orig.rename>[0], to: Parameters<typeof orig.rename>[1]) => {
      await orig.rename(from, to);
      rec.events.push({ op: 'rename', from: String(from), to: String(to) });
    },
  };
});

let hub: HubHandle;
let dir: string;
beforeAll(async () => {
  hub = await startHub();
  dir = await mkdtemp(join(tmpdir(), 'youlab-fsync-order-'));
}, 60_000);
afterAll(async () => {
  await hub?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('download temp files', { timeout: 60_000 }, () => {
  it('are fsynced whole before the rename, and the folder after it (bulk and single downloads)', async () => {
    const key = await hub.createKey('fs');
    const files = { 'small.txt': Buffer.from('small file'), 'big.bin': Buffer.alloc(2 * 1024 * 1024, 7) };
    for (const [name, body] of Object.entries(files)) {
      const put = await rawRequest(hub.url, { method: 'PUT', path: `/users/fs/workspace/files/${name}`, headers: { ...auth(key), 'if-none-match': '*' }, body });
      expect(put.status).toBe(200);
    }
    const { ctx, folder } = await roundContext({ url: hub.url, key, dir });
    rec.events.length = 0;
    const r = await runRound(ctx);
    expect(r.downloaded).toBe(2);

    for (const [name, body] of Object.entries(files)) {
      const target = join(folder, name);
      const renameAt = rec.events.findIndex((e) => e.op === 'rename' && e.to === target);
      expect(renameAt, `${name} was renamed into place`).toBeGreaterThanOrEqual(0);
      const tmp = (rec.events[renameAt] as { from: string }).from;
      expect(tmp).toMatch(/\.youlab-tmp$/);
      const fsyncAt = rec.events.findIndex((e) => e.op === 'fsync' && e.path === tmp);
      expect(fsyncAt, `${name}: its temp file was fsynced`).toBeGreaterThanOrEqual(0);
      expect(fsyncAt, `${name}: fsync before rename`).toBeLessThan(renameAt);
      expect((rec.events[fsyncAt] as { size: number }).size, `${name}: the whole file was written when fsynced`).toBe(body.length);
      const dirSyncAt = rec.events.findIndex((e, i) => i > renameAt && e.op === 'fsync' && e.path === folder);
      expect(dirSyncAt, `${name}: the folder is fsynced after the rename`).toBeGreaterThan(renameAt);
    }
  });
});
