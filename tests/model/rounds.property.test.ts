// Whole-round model test: random sequences of edits, creates, deletes, renames and case-only
// renames on the hub (HTTP API as Ralph, and "agent" writes straight into the workspace folder)
// and on two local folders, interleaved with sync rounds of in-process SyncEngines against one
// REAL hub process, and with crashes (engine dropped mid-round, state file deleted or corrupted).
// After every sequence, once edits stop: all replicas converge byte for byte, and every content
// that existed at a sync point is still recoverable (live file, conflict copy, hub version store,
// client trash). What a direct edit may destroy without it counting as lost (issue 14):
// - the agent (writing straight into the hub's workspace folder): only a content no replica other
//   than that folder ever held (never seen in a client folder, never written through the hub's
//   API). Anything else the agent overwrites, renames or deletes must be in the hub's version store;
// - a person (editing a client folder): only a content the hub never held (never seen in the
//   workspace). What reached the hub stays recoverable there, whoever destroys it later.
// YOULAB_SOAK=1 runs many more sequences.
import fc from 'fast-check';
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncEngine } from '../../app/sync/engine.ts';
import { RoundError } from '../../app/sync/round-context.ts';
import { startHub, type HubHandle } from '../helpers/hub.ts';
import { contentsUnder, figures, hubApi, readTree, reportFigures, type HubApi } from './model-helpers.ts';

const SOAK = process.env.YOULAB_SOAK === '1';
const RUNS = SOAK ? 500 : 50;

type Where = 'hub' | 'agent' | 'A' | 'B';
type Client = 'A' | 'B';
type Op =
  | { t: 'write'; at: Where; path: string }
  | { t: 'delete'; at: Where; path: string }
  | { t: 'rename'; at: Where; from: string; to: string }
  | { t: 'case-rename'; at: Where; path: string }
  | { t: 'sync'; who: Client }
  | { t: 'crash'; who: Client; how: 'mid-round' | 'lose-state' | 'corrupt-state'; afterMs: number };

const BASE_PATHS = ['a.md', 'b.txt', 'd/c.md', 'd/e/f.txt'];
const toggleCase = (p: string): string => {
  const i = p.lastIndexOf('/');
  const name = p.slice(i + 1);
  const flipped = name === name.toLowerCase() ? name.toUpperCase() : name.toLowerCase();
  return p.slice(0, i + 1) + flipped;
};
const PATHS = [...BASE_PATHS, ...BASE_PATHS.map(toggleCase)];

const where = fc.constantFrom<Where>('hub', 'agent', 'A', 'B');
const client = fc.constantFrom<Client>('A', 'B');
const path = fc.constantFrom(...PATHS);
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('write' as const), at: where, path }), weight: 5 },
  { arbitrary: fc.record({ t: fc.constant('delete' as const), at: where, path }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('rename' as const), at: where, from: path, to: path }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('case-rename' as const), at: where, path }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('sync' as const), who: client }), weight: 4 },
  {
    arbitrary: fc.record({
      t: fc.constant('crash' as const),
      who: client,
      how: fc.constantFrom('mid-round' as const, 'lose-state' as const, 'corrupt-state' as const),
      afterMs: fc.integer({ min: 0, max: 40 }),
    }),
    weight: 1,
  },
);

// Shrunk cases worth replaying on every run (fast-check `examples` run before the random ones).
const REGRESSIONS: Record<string, Op[]> = {
  // First shrunk failure: a state file corrupted before the engine ever wrote one, then a
  // conflicting create on the hub and in B, with case-only twins (A.MD / a.md).
  'corrupt state before first round, case twins, hub create vs local create': [
    { t: 'write', at: 'B', path: 'A.MD' },
    { t: 'crash', who: 'A', how: 'corrupt-state', afterMs: 32 },
    { t: 'delete', at: 'hub', path: 'A.MD' },
    { t: 'write', at: 'B', path: 'a.md' },
    { t: 'sync', who: 'A' },
    { t: 'write', at: 'hub', path: 'a.md' },
  ],
  'state lost after a sync, then edits on all sides (merge, never delete)': [
    { t: 'write', at: 'A', path: 'a.md' },
    { t: 'sync', who: 'A' },
    { t: 'sync', who: 'B' },
    { t: 'crash', who: 'B', how: 'lose-state', afterMs: 0 },
    { t: 'write', at: 'B', path: 'a.md' },
    { t: 'write', at: 'agent', path: 'a.md' },
    { t: 'delete', at: 'A', path: 'a.md' },
    { t: 'sync', who: 'B' },
  ],
  'case-only rename on one side while the other edits, engine dropped mid-round': [
    { t: 'write', at: 'A', path: 'd/c.md' },
    { t: 'sync', who: 'A' },
    { t: 'sync', who: 'B' },
    { t: 'case-rename', at: 'A', path: 'd/c.md' },
    { t: 'write', at: 'B', path: 'd/c.md' },
    { t: 'crash', who: 'A', how: 'mid-round', afterMs: 5 },
    { t: 'sync', who: 'B' },
    { t: 'rename', at: 'hub', from: 'd/c.md', to: 'b.txt' },
  ],
  // Found after the conditional listing (304) and the batch writes: an agent write, a local rename
  // onto a case twin of it, a hub delete, then a sync; A did not converge with the hub.
  'agent write, local rename onto its case twin, hub delete (A did not converge)': [
    { t: 'sync', who: 'A' },
    { t: 'rename', at: 'B', from: 'd/e/F.TXT', to: 'd/e/f.txt' },
    { t: 'sync', who: 'B' },
    { t: 'write', at: 'agent', path: 'b.txt' },
    { t: 'rename', at: 'A', from: 'd/C.MD', to: 'B.TXT' },
    { t: 'delete', at: 'hub', path: 'd/c.md' },
    { t: 'sync', who: 'A' },
  ],
  // Issue 14: a note reached both laptops and the hub, the agent overwrote it in the workspace,
  // the user deleted it on both laptops. The hub must still hold the note (as a version).
  'agent overwrites a synced note, the user deletes it on both laptops': [
    { t: 'write', at: 'A', path: 'a.md' },
    { t: 'sync', who: 'A' },
    { t: 'sync', who: 'B' },
    { t: 'write', at: 'agent', path: 'a.md' },
    { t: 'delete', at: 'A', path: 'a.md' },
    { t: 'delete', at: 'B', path: 'a.md' },
    { t: 'sync', who: 'A' },
    { t: 'sync', who: 'B' },
  ],
  // ... and the same with an agent delete and an agent rename of synced notes.
  'agent deletes one synced note and renames another; users delete their copies': [
    { t: 'write', at: 'A', path: 'a.md' },
    { t: 'write', at: 'B', path: 'd/c.md' },
    { t: 'sync', who: 'A' },
    { t: 'sync', who: 'B' },
    { t: 'sync', who: 'A' },
    { t: 'delete', at: 'agent', path: 'a.md' },
    { t: 'rename', at: 'agent', from: 'd/c.md', to: 'b.txt' },
    { t: 'write', at: 'agent', path: 'b.txt' },
    { t: 'delete', at: 'A', path: 'a.md' },
    { t: 'delete', at: 'B', path: 'd/c.md' },
    { t: 'sync', who: 'B' },
  ],
};

let hub: HubHandle;
let key: string;
let api: HubApi;
let root: string;
let run = 0;
let counter = 0;

beforeAll(async () => {
  hub = await startHub();
  key = await hub.createKey(null, { service: true });
  api = hubApi(hub.url, key);
  root = await mkdtemp(join(tmpdir(), 'youlab-model-'));
}, 60_000);

afterAll(async () => {
  reportFigures('rounds');
  await hub?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

interface World {
  user: string;
  ws: string;
  versions: string;
  folder: Record<Client, string>;
  state: Record<Client, string>;
  engine: Record<Client, SyncEngine>;
  required: Set<string>;
  /** Contents ever seen in the hub's workspace (at sync points and after syncs). */
  atHub: Set<string>;
  /** Contents ever held by a replica other than the agent's folder: a client folder, or written through the hub's API. */
  elsewhere: Set<string>;
}

function newEngine(w: World, who: Client): SyncEngine {
  return new SyncEngine({
    serverUrl: hub.url,
    apiKey: key,
    userId: w.user,
    folder: w.folder[who],
    stateDir: w.state[who],
    device: who,
    live: false,
  });
}

const recoverableDirs = (w: World): string[] => [
  w.ws,
  w.versions,
  w.folder.A,
  w.folder.B,
  join(w.state.A, 'trash'),
  join(w.state.B, 'trash'),
];

async function sync(w: World, who: Client): Promise<number> {
  try {
    const s = await w.engine[who].syncNow();
    return s.uploaded + s.downloaded + s.deleted + s.conflicts;
  } catch (e) {
    // The model's user emptied the folder on purpose: confirming is what a user would do.
    if (e instanceof RoundError && (e.code === 'mass_delete' || e.code === 'folder_missing')) {
      const s = await w.engine[who].confirmDeletes();
      return s.uploaded + s.downloaded + s.deleted + s.conflicts + 1;
    }
    throw e;
  }
}

async function readOf(w: World, at: Where, p: string): Promise<string | undefined> {
  const tree = await readTree(at === 'A' || at === 'B' ? w.folder[at] : w.ws);
  return tree.get(p);
}

async function writeAt(w: World, at: Where, p: string, content: string): Promise<void> {
  if (at === 'hub') {
    const cur = await readOf(w, 'hub', p);
    w.elsewhere.add(content);
    const status = await api.put(w.user, p, content, cur);
    // 409: a folder sits at the path; anything else is a bug.
    if (status !== 200 && status !== 409) throw new Error(`hub PUT ${p} answered ${status}`);
    return;
  }
  const abs = join(at === 'agent' ? w.ws : w.folder[at], p);
  await mkdir(dirname(abs), { recursive: true });
  await writeFile(abs, content);
}

async function deleteAt(w: World, at: Where, p: string): Promise<void> {
  const cur = await readOf(w, at, p);
  if (cur === undefined) return;
  if (at === 'hub') {
    const status = await api.del(w.user, p, cur);
    if (status !== 204) throw new Error(`hub DELETE ${p} answered ${status}`);
    return;
  }
  await unlink(join(at === 'agent' ? w.ws : w.folder[at], p));
}

async function renameAt(w: World, at: Where, from: string, to: string): Promise<void> {
  if (from === to) return;
  const cur = await readOf(w, at, from);
  if (cur === undefined) return;
  if (at === 'hub') {
    await writeAt(w, 'hub', to, cur);
    await deleteAt(w, 'hub', from);
    return;
  }
  const base = at === 'agent' ? w.ws : w.folder[at];
  await mkdir(dirname(join(base, to)), { recursive: true });
  await rename(join(base, from), join(base, to));
}

/**
 * A direct edit by a person or the agent: a content it destroyed leaves the model only when no
 * one may expect it back (the rules at the top of this file).
 */
async function userEdit(w: World, at: Where, fn: () => Promise<void>): Promise<void> {
  if (at === 'hub') return fn(); // the hub versions what it replaces: nothing may disappear
  const before = await contentsUnder(recoverableDirs(w));
  await fn();
  const after = await contentsUnder(recoverableDirs(w));
  for (const c of before) {
    if (after.has(c)) continue;
    const expected = at === 'agent' ? w.elsewhere.has(c) : w.atHub.has(c);
    if (!expected) w.required.delete(c);
  }
}

/** Notes where each content is now: the hub's workspace, the client folders. */
async function observe(w: World): Promise<void> {
  for (const c of await contentsUnder([w.ws])) w.atHub.add(c);
  for (const c of await contentsUnder([w.folder.A, w.folder.B])) w.elsewhere.add(c);
}

async function syncPoint(w: World): Promise<void> {
  for (const c of await contentsUnder([w.ws, w.folder.A, w.folder.B])) w.required.add(c);
  await observe(w);
}

async function apply(w: World, o: Op): Promise<void> {
  figures.ops++;
  switch (o.t) {
    case 'write': {
      const content = `v${++counter}-${'x'.repeat(counter % 9)}\n`;
      return userEdit(w, o.at, () => writeAt(w, o.at, o.path, content));
    }
    case 'delete':
      return userEdit(w, o.at, () => deleteAt(w, o.at, o.path));
    case 'rename':
      return userEdit(w, o.at, () => renameAt(w, o.at, o.from, o.to));
    case 'case-rename':
      return userEdit(w, o.at, () => renameAt(w, o.at, o.path, toggleCase(o.path)));
    case 'sync':
      await syncPoint(w);
      await sync(w, o.who);
      await observe(w);
      return;
    case 'crash': {
      figures.faults++;
      await syncPoint(w);
      const e = w.engine[o.who];
      if (o.how === 'mid-round') {
        const p = e.syncNow().catch(() => undefined);
        await sleep(o.afterMs);
        await e.stop();
        await p;
      } else {
        await e.stop();
        const file = join(w.state[o.who], 'state.json');
        if (o.how === 'lose-state') await rm(file, { force: true });
        else {
          await mkdir(w.state[o.who], { recursive: true });
          await writeFile(file, '{"version": 1, "base": {"a.md": tr');
        }
      }
      w.engine[o.who] = newEngine(w, o.who);
      return;
    }
  }
}

async function check(ops: Op[]): Promise<void> {
  const id = `m${++run}`;
  const dir = join(root, id);
  const w: World = {
    user: id,
    ws: join(hub.dataDir, id, 'workspace'),
    versions: join(hub.dataDir, id, '.hub', 'versions'),
    folder: { A: join(dir, 'A', 'folder'), B: join(dir, 'B', 'folder') },
    state: { A: join(dir, 'A', 'state'), B: join(dir, 'B', 'state') },
    engine: {} as Record<Client, SyncEngine>,
    required: new Set(),
    atHub: new Set(),
    elsewhere: new Set(),
  };
  await mkdir(w.folder.A, { recursive: true });
  await mkdir(w.folder.B, { recursive: true });
  await mkdir(w.ws, { recursive: true });
  w.engine.A = newEngine(w, 'A');
  w.engine.B = newEngine(w, 'B');
  try {
    for (const o of ops) await apply(w, o);
    // Edits stop: rounds until nobody has anything left to do.
    await syncPoint(w);
    let quiet = 0;
    for (let i = 0; i < 8 && quiet < 2; i++) {
      const work = (await sync(w, 'A')) + (await sync(w, 'B'));
      quiet = work === 0 ? quiet + 1 : 0;
    }
    const hubTree = await readTree(w.ws);
    const a = await readTree(w.folder.A);
    const b = await readTree(w.folder.B);
    expect(Object.fromEntries(a), 'A converges with the hub').toEqual(Object.fromEntries(hubTree));
    expect(Object.fromEntries(b), 'B converges with the hub').toEqual(Object.fromEntries(hubTree));
    const kept = await contentsUnder(recoverableDirs(w));
    const lost = [...w.required].filter((c) => !kept.has(c));
    figures.lost += lost.length;
    expect(lost, 'contents that existed at a sync point and are now nowhere').toEqual([]);
  } finally {
    await w.engine.A.stop();
    await w.engine.B.stop();
  }
}

describe('whole rounds: convergence and nothing lost', () => {
  it(
    'random sequences on hub, agent and two clients, with crashes',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: SOAK ? 40 : 18 }), async (ops) => {
          figures.cases++;
          await check(ops);
        }),
        { numRuns: RUNS, endOnFailure: !SOAK, verbose: 1, examples: Object.values(REGRESSIONS).map((ops) => [ops] as [Op[]]) },
      );
    },
    SOAK ? 3_600_000 : 180_000,
  );
});
