// The client's side of .youlabignore (docs/SYNC-SPEC.md "Ignore rules"): the planner brings the
// rule file down before anything else, and FolderIgnore reads the folder's copy again before each
// round (a change takes effect at the next round; no file, a folder, a symlink or an oversize
// file give no rules).
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderIgnore } from '../../app/sync/folder-ignore.ts';
import { planRound, type PlanInput } from '../../app/sync/plan.ts';
import { runQuickRound } from '../../app/sync/quick-round.ts';
import type { RoundContext } from '../../app/sync/round-context.ts';
import { MAX_IGNORE_FILE_BYTES } from '../../shared/ignore-rules.ts';

const h = (c: string) => 'sha256:' + c.repeat(64);

function input(local: Record<string, string>, remote: Record<string, string>, base: Record<string, string> = {}): PlanInput {
  return {
    base: new Map(Object.entries(base)),
    local: new Map(Object.entries(local).map(([k, v]) => [k, { rel: k, hash: v, size: 1 }])),
    localDirs: new Set(),
    remote: new Map(Object.entries(remote).map(([k, v]) => [k, { hash: v, size: 1, modified: '' }])),
    device: 'laptop',
    now: new Date(Date.UTC(2026, 0, 1)),
    localRoot: 'ok',
  };
}

describe('planner: the rule file first', () => {
  it('a download of .youlabignore runs alone; the rest is planned next round under its rules', () => {
    const plan = planRound(input({ 'mine.md': h('1') }, { '.youlabignore': h('2'), 'debug.log': h('3') }));
    expect(plan.steps).toEqual([{ kind: 'download', key: '.youlabignore', rel: '.youlabignore', hash: h('2') }]);
    expect(plan.work).toBe(1);
  });

  it('an upload of .youlabignore goes with the rest (the local rules apply already)', () => {
    const plan = planRound(input({ '.youlabignore': h('2'), 'mine.md': h('1') }, {}));
    expect(plan.steps.map((s) => `${s.kind}:${s.key}`).sort()).toEqual(['upload:.youlabignore', 'upload:mine.md']);
  });
});

describe('quick rounds', () => {
  it('a quick round that names .youlabignore hands over to a full round', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'youlab-quick-'));
    try {
      const state = { conflicts: [], base: {}, cache: {}, failures: {} };
      const ctx = { folder, state, store: { save: async () => {} } } as unknown as RoundContext & { ignore: FolderIgnore };
      ctx.ignore = new FolderIgnore(folder, []);
      // The same round without the rule file is simple (nothing on either side) and needs no full round.
      expect((await runQuickRound(ctx, new Set(['notes.md']), new Map())).needFull).toBe(false);
      expect((await runQuickRound(ctx, new Set(['.youlabignore', 'notes.md']), new Map())).needFull).toBe(true);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('FolderIgnore', () => {
  let dir: string;
  const logs: string[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'youlab-ignore-'));
    logs.length = 0;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("adds the file's rules to the user's and the defaults; a change applies at the next refresh", async () => {
    const ig = new FolderIgnore(dir, ['*.draft'], (l) => logs.push(l));
    expect(await ig.refresh()).toBe(false);
    expect(ig.ignores('debug.log')).toBe(false);
    await writeFile(join(dir, '.youlabignore'), '*.log\n../escape\n');
    expect(ig.ignores('debug.log')).toBe(false);
    expect(await ig.refresh()).toBe(true);
    expect(ig.ignores('debug.log')).toBe(true);
    expect(ig.ignores('x.draft')).toBe(true);
    expect(ig.ignores('node_modules/a.js')).toBe(true);
    expect(logs).toEqual([expect.stringMatching(/^\.youlabignore: rule left out: line 2: /)]);
    expect(await ig.refresh()).toBe(false);
    await rm(join(dir, '.youlabignore'));
    expect(await ig.refresh()).toBe(true);
    expect(ig.ignores('debug.log')).toBe(false);
  });

  it('a folder, a symlink or an oversize file named .youlabignore gives no rules', async () => {
    const ig = new FolderIgnore(dir, [], (l) => logs.push(l));
    await writeFile(join(dir, 'elsewhere'), '*.md\n');
    await symlink(join(dir, 'elsewhere'), join(dir, '.youlabignore'));
    expect(await ig.refresh()).toBe(false);
    expect(ig.ignores('a.md')).toBe(false);
    await rm(join(dir, '.youlabignore'));
    await mkdir(join(dir, '.youlabignore'));
    expect(await ig.refresh()).toBe(false);
    await rm(join(dir, '.youlabignore'), { recursive: true });
    await writeFile(join(dir, '.youlabignore'), `*.md\n${'#'.repeat(MAX_IGNORE_FILE_BYTES)}\n`);
    expect(await ig.refresh()).toBe(false);
    expect(ig.ignores('a.md')).toBe(false);
    expect(logs).toEqual([expect.stringMatching(/is over \d+ bytes/)]);
  });
});
