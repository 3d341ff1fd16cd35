// The compiled commands (scripts/build-cli.ts: what `npm run build:cli` installs and the bench
// measures) behave like the TypeScript ones: the hub serves and manages keys, the client syncs
// both ways. A bundling mistake (a module that starts itself twice, a missing import) fails here.
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, type BuiltCli } from '../../scripts/build-cli.ts';
import { runOnce } from '../helpers/client.ts';
import { REPO_ROOT, runHubCli, startHub, type HubHandle } from '../helpers/hub.ts';

let built: BuiltCli;
let outDir: string;
let hub: HubHandle;
let tmp: string;

beforeAll(async () => {
  // Inside the repo, so the bundles resolve their npm packages from node_modules as installed.
  outDir = join(REPO_ROOT, 'dist', `cli-test-${process.pid}`);
  built = await buildCli(outDir);
  hub = await startHub({ bin: built.hub });
  tmp = await mkdtemp(join(tmpdir(), 'youlab-compiled-'));
}, 120_000);

afterAll(async () => {
  await hub?.stop();
  await rm(outDir, { recursive: true, force: true });
  await rm(tmp, { recursive: true, force: true });
});

describe('compiled youlab-hub and youlab-sync', () => {
  it('create a key, upload a file, download an agent file', async () => {
    // `keys create` must exit: a bundle in which server/main.ts starts serving on import would not.
    const created = await runHubCli(['keys', 'create', '--user', 'alice'], { dataDir: hub.dataDir, bin: built.hub });
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim().split('\n').pop()!.trim();
    expect(key).toMatch(/^ylk_/);

    const folder = join(tmp, 'folder');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'from-laptop.md'), 'laptop bytes\n');
    const opts = { server: hub.url, key, folder, stateDir: join(tmp, 'state'), bin: built.sync };
    const first = await runOnce(opts);
    expect(first.code, first.stderr).toBe(0);
    const ws = join(hub.dataDir, 'alice', 'workspace');
    expect(await readFile(join(ws, 'from-laptop.md'), 'utf8')).toBe('laptop bytes\n');

    await writeFile(join(ws, 'from-agent.md'), 'agent bytes\n');
    const second = await runOnce(opts);
    expect(second.code, second.stderr).toBe(0);
    expect(await readFile(join(folder, 'from-agent.md'), 'utf8')).toBe('agent bytes\n');
  }, 120_000);
});
