// The hub's agent watcher against chokidar's known gap: chokidar lists a new folder before it
// watches it, so an entry made in between is never reported, and a folder made in between is
// never watched (issue 19: a user's `workspace` created a moment after the user's folder left
// the watcher blind to that user). These tests put entries exactly into that gap, through
// chokidar's own `ignored` callback, which it calls after listing a folder and before watching it.
import { mkdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watch as chokidarWatch, type ChokidarOptions } from 'chokidar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../server/log.ts';
import { watchAgentWrites, type AgentWatcher, type WatchedStore } from '../../server/workspace/agent-watcher.ts';

let dir: string;
let watcher: AgentWatcher | undefined;
const recorded: string[] = [];
const store: WatchedStore = {
  isOwnFile: () => false,
  recordExternal: async (user, rel, kind) => {
    recorded.push(`${kind} ${user}/${rel}`);
  },
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'youlab-agent-watch-'));
  recorded.length = 0;
});
afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}; recorded: ${recorded.join(', ') || 'nothing'}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * chokidar's watch, with `inGap(path)` run synchronously the first time chokidar asks whether
 * `path` is ignored: by then it has listed the folder holding `path`, and not yet watched it.
 */
function watchWithGap(trigger: string, inGap: () => void): { watch: typeof chokidarWatch; fired: () => boolean } {
  let fired = false;
  const watch = ((paths: string | string[], options: ChokidarOptions = {}) => {
    const ignored = options.ignored as (p: string) => boolean;
    return chokidarWatch(paths, {
      ...options,
      ignored: (p: string) => {
        if (!fired && p === trigger) {
          fired = true;
          inGap();
        }
        return ignored(p);
      },
    });
  }) as typeof chokidarWatch;
  return { watch, fired: () => fired };
}

describe('agent watcher and chokidar\'s set-up gap', { timeout: 30_000 }, () => {
  it('a workspace folder made in the gap after its user folder is still watched: later agent writes are recorded', async () => {
    const user = join(dir, 'u');
    // The hub makes <user>/.hub/... and <user>/workspace right after each other (store-core.ts).
    const gap = watchWithGap(join(user, '.hub'), () => mkdirSync(join(user, 'workspace')));
    watcher = watchAgentWrites(store, dir, silentLogger(), { settleMs: 50, stabilityMs: 50, watch: gap.watch });
    await watcher.ready;
    await mkdir(join(user, '.hub'), { recursive: true });
    await until(gap.fired, 'chokidar to list the new user folder');
    // Well after every walk of the new folders: only a watch on `workspace` can see this.
    await new Promise((r) => setTimeout(r, 1_000));
    await mkdir(join(user, 'workspace', 'agent'), { recursive: true });
    await writeFile(join(user, 'workspace', 'agent', 'report.md'), 'written by the agent');
    await until(() => recorded.includes('upsert u/agent/report.md'), 'agent/report.md to be recorded');
    await writeFile(join(user, 'workspace', 'top.md'), 'another');
    await until(() => recorded.includes('upsert u/top.md'), 'top.md to be recorded');
  });

  it('a file made in a new folder after the walk of that folder, whose event chokidar never sends, is found by the folder re-check', async () => {
    const ws = join(dir, 'u', 'workspace');
    await mkdir(ws, { recursive: true });
    // chokidar drops every event of this one file, as if it had been made in the gap.
    const dropping = ((paths: string | string[], options?: ChokidarOptions) => {
      const w = chokidarWatch(paths, options);
      const on = w.on.bind(w);
      w.on = ((ev: string, fn: (...a: unknown[]) => void) =>
        on(ev as 'add', (...a: unknown[]) => {
          if (typeof a[0] === 'string' && a[0].endsWith('missed.md')) return;
          fn(...a);
        })) as typeof w.on;
      return w;
    }) as typeof chokidarWatch;
    watcher = watchAgentWrites(store, dir, silentLogger(), { settleMs: 50, stabilityMs: 50, recheckMs: 200, watch: dropping });
    await watcher.ready;
    await mkdir(join(ws, 'fresh'));
    await writeFile(join(ws, 'fresh', 'seen.md'), 'seen');
    await until(() => recorded.includes('upsert u/fresh/seen.md'), 'fresh/seen.md to be recorded');
    await writeFile(join(ws, 'fresh', 'missed.md'), 'missed by chokidar');
    await until(() => recorded.includes('upsert u/fresh/missed.md'), 'fresh/missed.md to be found by the re-check');
  });

  it('is not settled before its first scan is done', async () => {
    await mkdir(join(dir, 'u', 'workspace'), { recursive: true });
    watcher = watchAgentWrites(store, dir, silentLogger());
    expect(watcher.settled('u')).toBe(false);
    await watcher.ready;
    expect(watcher.settled('u')).toBe(true);
  });
});
