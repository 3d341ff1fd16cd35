// The knowledge-base replica in the model: random edits in the workspace (through the store, as
// the hub would write them) and in the user's knowledge base (web uploads, removals), with
// dropped connections injected into KB rounds, driving the REAL KbSync against the Open WebUI
// emulator. Once edits stop: the workspace and the KB hold the same paths with the same bytes,
// leaving out what the rules exclude (a file under node_modules/, and b.md while the workspace's
// .youlabignore names it), and every content that existed at a sync point is still somewhere
// (workspace, the store's versions, or a file Open WebUI still holds).
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenWebUIClient } from '../../server/openwebui/client.ts';
import { KbSync } from '../../server/openwebui/kb-sync.ts';
import { DEFAULT_EXTENSIONS } from '../../server/openwebui/plan.ts';
import { loadState } from '../../server/openwebui/state.ts';
import { startEmulator, type OpenWebUIEmulator } from '../fakes/openwebui-emulator/index.ts';
import { asUser, deleteFile, emulatorTarget, folderStore, putFile, tempRoot } from '../helpers/openwebui.ts';
import { contentsUnder, figures, readTree, reportFigures } from './model-helpers.ts';

const SOAK = process.env.YOULAB_SOAK === '1';
const RUNS = SOAK ? 200 : 15;

type Op =
  | { t: 'ws-write'; path: string }
  | { t: 'ws-delete'; path: string }
  | { t: 'kb-upload'; name: string }
  | { t: 'kb-remove'; pick: number }
  | { t: 'ws-ignore'; rule: 'b.md' | '' }
  | { t: 'sync'; drop: 'none' | 'upload' | 'listing' | 'remove' };

const wsPath = fc.constantFrom('a.md', 'b.md', 'd/c.md', 'w1.md', 'node_modules/m.md');
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('ws-write' as const), path: wsPath }), weight: 4 },
  { arbitrary: fc.record({ t: fc.constant('ws-delete' as const), path: wsPath }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('kb-upload' as const), name: fc.constantFrom('w1.md', 'w2.md') }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('kb-remove' as const), pick: fc.nat(5) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('ws-ignore' as const), rule: fc.constantFrom('b.md' as const, '' as const) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('sync' as const), drop: fc.constantFrom('none', 'none', 'upload', 'listing', 'remove') }), weight: 4 },
);

// Shrunk cases worth replaying on every run (the first two were mistakes of the model's KB view;
// the third a hub bug: docs/RELIABILITY.md "Bugs found and fixed", 10).
const REGRESSIONS: Record<string, Op[]> = {
  'web upload and workspace write of one name: the KB file stands for the conflict copy': [
    { t: 'sync', drop: 'upload' },
    { t: 'kb-upload', name: 'w1.md' },
    { t: 'kb-upload', name: 'w2.md' },
    { t: 'ws-write', path: 'w1.md' },
    { t: 'ws-write', path: 'b.md' },
  ],
  'three web uploads with one name: the first stands for the path, the rest are left alone': [
    { t: 'sync', drop: 'upload' },
    { t: 'ws-delete', path: 'w1.md' },
    { t: 'kb-upload', name: 'w2.md' },
    { t: 'kb-upload', name: 'w2.md' },
    { t: 'kb-upload', name: 'w2.md' },
    { t: 'sync', drop: 'upload' },
    { t: 'sync', drop: 'upload' },
    { t: 'sync', drop: 'listing' },
    { t: 'ws-delete', path: 'd/c.md' },
  ],
  // CI seed 1274754980. Two conflicts at w1.md within one second (the second web upload came after
  // the first conflict's upload was dropped) named their copies alike: the second copy's write
  // found the name taken and the conflict was never settled. Timing-dependent before the fix
  // (failed about 3 runs in 5 alone); plan.ts now picks a free copy name.
  'two conflicts at one path within a second: each gets its own conflict copy': [
    { t: 'kb-upload', name: 'w2.md' },
    { t: 'ws-write', path: 'a.md' },
    { t: 'kb-upload', name: 'w2.md' },
    { t: 'sync', drop: 'none' },
    { t: 'ws-delete', path: 'w1.md' },
    { t: 'kb-upload', name: 'w2.md' },
    { t: 'kb-upload', name: 'w1.md' },
    { t: 'ws-write', path: 'w1.md' },
    { t: 'ws-delete', path: 'a.md' },
    { t: 'sync', drop: 'upload' },
    { t: 'kb-upload', name: 'w1.md' },
    { t: 'sync', drop: 'remove' },
  ],
};

let emu: OpenWebUIEmulator;
let root: string;
let counter = 0;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  emu = await startEmulator();
  root = await tempRoot('youlab-kb-model-');
}, 60_000);

afterAll(async () => {
  reportFigures('kb-rounds');
  await emu?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

async function check(ops: Op[]): Promise<void> {
  const user = emu.addUser('Student', `m${++counter}-${Date.now()}@example.test`);
  const uid = user.id;
  const store = folderStore(root);
  const client = new OpenWebUIClient({ url: emu.url, apiKey: emu.adminApiKey, retries: 2, retryBackoffLimitMs: 20 });
  const sync = new KbSync({ client, store, extensions: DEFAULT_EXTENSIONS, processTimeoutMs: 5_000, retryBaseMs: 1 });
  const web = asUser(emulatorTarget(emu), emu.tokenFor(user));
  let kbId: string | undefined;
  const required = new Set<string>();
  const ws = join(root, uid, 'workspace');
  const versions = join(root, uid, 'versions');
  const kbContents = () => new Set([...emu.files.values()].filter((f) => f.user_id === uid || f.meta.data?.path).map((f) => f.bytes.toString('utf8')));
  const everywhere = async () => new Set([...(await contentsUnder([ws, versions])), ...kbContents()]);
  const kbFiles = () => (kbId ? [...(emu.knowledge.get(kbId)?.files ?? [])].map((id) => emu.files.get(id)!) : []);
  const syncPoint = async () => {
    for (const c of (await readTree(ws)).values()) required.add(c);
    for (const f of kbFiles()) required.add(f.bytes.toString('utf8'));
  };
  const round = async () => {
    const s = await sync.sync(uid);
    kbId = s.knowledge_id;
  };

  for (const o of ops) {
    figures.ops++;
    const content = `kb v${++counter} ${'.'.repeat(counter % 5)}\n`;
    if (o.t === 'ws-write') await putFile(store, uid, o.path, content);
    else if (o.t === 'ws-ignore') await putFile(store, uid, '.youlabignore', `# ${content}${o.rule}\n`);
    else if (o.t === 'ws-delete') await deleteFile(store, uid, o.path).catch(() => undefined);
    else if (o.t === 'kb-upload' && kbId) {
      const fid = await web.upload(o.name, content);
      await web.waitProcessed(fid);
      await web.addToKnowledge(kbId, fid).catch(() => undefined);
    } else if (o.t === 'kb-remove' && kbId) {
      const files = kbFiles();
      const f = files[o.pick % Math.max(1, files.length)];
      if (f) {
        // A user's own removal: what only the KB held leaves the model.
        const before = await everywhere();
        await web.removeFromKnowledge(kbId, f.id);
        const after = await everywhere();
        for (const c of before) if (!after.has(c)) required.delete(c);
      }
    } else if (o.t === 'sync') {
      await syncPoint();
      if (o.drop !== 'none') {
        figures.faults++;
        if (o.drop === 'remove') {
          // Dropping a KB file is `POST .../file/remove` before 0.12.4 and one `DELETE /files/{id}` from it.
          emu.faults.http.push({ method: 'POST', path: /\/file\/remove$/, count: 1, kind: 'drop' });
          emu.faults.http.push({ method: 'DELETE', path: /^\/api\/v1\/files\/[^/]+$/, count: 1, kind: 'drop' });
        } else {
          const path = o.drop === 'upload' ? /^\/api\/v1\/files\/?$/ : /\/files$/;
          emu.faults.http.push({ method: o.drop === 'listing' ? 'GET' : 'POST', path, count: 1, kind: 'drop' });
        }
      }
      await round().catch(() => undefined);
      emu.faults.http.length = 0;
    }
  }
  await syncPoint();
  for (let i = 0; i < 4; i++) await round();
  const wsTree = await readTree(ws);
  // What the rules keep out of the KB: node_modules/ always, b.md while .youlabignore names it.
  const ignoredB = /^b\.md$/m.test(wsTree.get('.youlabignore') ?? '');
  const excluded = (p: string) => p.startsWith('node_modules/') || (ignoredB && p === 'b.md');
  const wsView = Object.fromEntries([...wsTree].filter(([p]) => p.endsWith('.md') && !excluded(p)).map(([p, c]) => [p, sha(c)]));
  // Which KB file stands for which path: the hub's mapping (a web upload that lost a conflict
  // stands for its conflict copy), else the hub's upload metadata, else the web name; of two web
  // uploads with one name the first by created_at, then by file id, stands for the path (as in
  // plan.ts, and as Open WebUI lists them), later ones are left alone.
  const state = await loadState(store.stateDir(uid), uid);
  const byId = new Map(Object.values(state.files).map((f) => [f.openwebui_file_id, f.path] as const));
  const kbView: Record<string, string> = {};
  for (const f of kbFiles().sort((x, y) => x.created_at - y.created_at || x.id.localeCompare(y.id))) {
    const mapped = byId.get(f.id);
    const p = mapped ?? String(f.meta.data?.path ?? f.filename);
    if (!(p in kbView) || mapped || f.meta.data?.path) kbView[p] = sha(f.bytes);
  }
  expect(kbView, 'the KB converges with the workspace').toEqual(wsView);
  const kept = await everywhere();
  const lost = [...required].filter((c) => !kept.has(c));
  figures.lost += lost.length;
  expect(lost, 'contents lost').toEqual([]);
}

describe('KB replica: workspace <-> knowledge base rounds', () => {
  it(
    'random edits on both sides with dropped connections converge and lose nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: SOAK ? 30 : 14 }), async (ops) => {
          figures.cases++;
          await check([{ t: 'sync', drop: 'none' }, ...ops]);
        }),
        { numRuns: RUNS, endOnFailure: !SOAK, examples: Object.values(REGRESSIONS).map((ops) => [ops] as [Op[]]) },
      );
    },
    SOAK ? 3_600_000 : 180_000,
  );
});
