// An in-process round context on a real folder and state dir, for tests that drive `runRound`
// (or a quick round) against a real hub and need to reach inside: a wrapped hub client, a
// fault injected between two steps.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HubClient } from '../../app/sync/hub-client.ts';
import type { RoundContext } from '../../app/sync/round-context.ts';
import { StateStore } from '../../app/sync/state.ts';
import { Trash } from '../../app/sync/trash.ts';
import { createIgnore } from '../../shared/ignore-rules.ts';

export interface TestRound {
  ctx: RoundContext;
  folder: string;
  stateDir: string;
}

/**
 * `<dir>/folder` synced with `<dir>/state` as its state dir (both made here), talking to the hub
 * through `hub` (default: a plain HubClient for `url` and `key`).
 */
export async function roundContext(opts: { url: string; key: string; dir: string; device?: string; hub?: HubClient }): Promise<TestRound> {
  const folder = join(opts.dir, 'folder');
  const stateDir = join(opts.dir, 'state');
  await mkdir(folder, { recursive: true });
  const store = new StateStore(stateDir);
  const { state } = await store.load();
  const ctx: RoundContext = {
    folder,
    device: opts.device ?? 'laptop',
    hub: opts.hub ?? new HubClient({ baseUrl: opts.url, apiKey: opts.key }),
    store,
    state,
    trash: new Trash(join(stateDir, 'trash')),
    ignore: createIgnore(),
    tmpDir: join(stateDir, 'tmp'),
  };
  return { ctx, folder, stateDir };
}
