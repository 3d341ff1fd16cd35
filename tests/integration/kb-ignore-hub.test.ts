// The KB exclusion rules inside a real hub process (bin/youlab-hub.js) against the emulator: what
// the agent writes under node_modules/, a virtualenv or a .youlabignore rule never reaches the KB,
// RALPH_SYNC_MAX_KB_FILE_BYTES is honoured, and GET .../status lists every left-out file as
// `ignored` with its rule (docs/SYNC-SPEC.md "Hub and knowledge base").
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, type HubHandle } from '../helpers/hub.ts';
import { loadKbExclusion } from '../../server/openwebui/kb-ignore-file.ts';
import { MAX_IGNORE_FILE_BYTES } from '../../shared/ignore-rules.ts';
import { folderStore, kbOf, putFile, startEmulatorTarget, startHubWithOpenWebUI, tempRoot, type OpenWebUITarget } from '../helpers/openwebui.ts';

describe('KB exclusions in a real hub (emulated Open WebUI)', () => {
  let target: OpenWebUITarget;
  let hub: HubHandle;

  beforeAll(async () => {
    target = await startEmulatorTarget();
    hub = await startHubWithOpenWebUI(target, { RALPH_SYNC_MAX_KB_FILE_BYTES: '2000', RALPH_SYNC_DEBOUNCE_MS: '60000' });
  });
  afterAll(async () => {
    await hub?.stop();
    await target?.stop();
  });

  it('left-out files never reach the KB and show as ignored, with the rule, in GET /status', async () => {
    const uid = (await target.createUser('Student')).id;
    const key = await hub.createKey(uid);
    const ws = join(hub.dataDir, uid, 'workspace');
    const agentWrites = async (files: Record<string, string>): Promise<void> => {
      for (const [p, body] of Object.entries(files)) {
        await mkdir(dirname(join(ws, p)), { recursive: true });
        await writeFile(join(ws, p), body);
      }
    };
    await agentWrites({
      'report.md': '# Report\n',
      'node_modules/pkg/README.md': '# pkg\n',
      'tools/env/pyvenv.cfg': 'home = /usr/bin\n',
      'tools/env/lib/site.py': 'print(1)\n',
      'out/run.txt': 'output\n',
      'huge.md': 'x'.repeat(3000),
      '.youlabignore': 'out/\n../elsewhere/\n',
    });
    const base = `${hub.url}/users/${uid}/workspace`;
    const sync = await fetch(`${base}/sync`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: '{}' });
    expect(sync.status).toBe(200);
    const summary = (await sync.json()) as { uploaded: string[]; skipped: { path: string; reason: string }[] };
    expect(summary.uploaded).toEqual(['report.md']);
    // A bad line of .youlabignore costs only itself, and says so.
    expect(summary.skipped).toContainEqual({ path: '.youlabignore', reason: expect.stringMatching(/^rule left out: line 2: /) });
    expect((await kbOf(target, uid))?.paths).toEqual(['report.md']);

    const status = (await (await fetch(`${base}/status`, { headers: auth(key) })).json()) as { files: { path: string; state: string; rule?: string }[] };
    expect(status.files.map((f) => [f.path, f.state, f.rule])).toEqual([
      ['.youlabignore', 'ignored', 'default: .youlabignore'],
      ['huge.md', 'ignored', 'too large: over 2000 bytes'],
      ['node_modules/pkg/README.md', 'ignored', 'default: node_modules/'],
      ['out/run.txt', 'ignored', '.youlabignore: out/'],
      ['report.md', 'synced', undefined],
      ['tools/env/lib/site.py', 'ignored', 'default: virtualenv tools/env/ (holds pyvenv.cfg)'],
      ['tools/env/pyvenv.cfg', 'ignored', 'default: virtualenv tools/env/ (holds pyvenv.cfg)'],
    ]);
  });

  it('.youlabignore as the KB leg reads it: a bad line is left out and reported, an oversize file is not read', async () => {
    const root = await tempRoot();
    try {
      const store = folderStore(root);
      await putFile(store, 'u', '.youlabignore', '*.log\n../outside\n');
      const one = await loadKbExclusion(store, 'u', (await store.list('u')).files, 0);
      expect(one.errors).toEqual([expect.stringMatching(/^line 2: /)]);
      expect(one.exclusion.ruleFor('a.log')).toBe('.youlabignore: *.log');
      await putFile(store, 'u', '.youlabignore', `*.log\n${'#'.repeat(MAX_IGNORE_FILE_BYTES)}\n`);
      const big = await loadKbExclusion(store, 'u', (await store.list('u')).files, 0);
      expect(big.errors).toEqual([expect.stringMatching(/is over \d+ bytes: not read/)]);
      expect(big.exclusion.ruleFor('a.log')).toBeUndefined();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
