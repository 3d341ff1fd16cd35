// The layer order of docs/ARCHITECTURE.md ("Dependency rules") is enforced by eslint.config.js:
// each ban is tried here with an import that points the wrong way, linted as if it were written
// in a real file of that layer, so a pattern that stopped matching fails this test.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

async function restricted(filePath: string, code: string): Promise<boolean> {
  const [res] = await eslint.lintText(code, { filePath });
  return (res?.messages ?? []).some((m) => m.ruleId === 'no-restricted-imports');
}

describe('layer bans', { timeout: 120_000 }, () => {
  const cases: [string, string, string, boolean][] = [
    ['shared/ is pure', 'shared/paths.ts', "import { readFile } from 'node:fs/promises';", true],
    ['shared/ does not reach into shared/node', 'shared/paths.ts', "import { hashFile } from './node/hash.ts';", true],
    ['shared/node may use Node', 'shared/node/hash.ts', "import { readFile } from 'node:fs/promises';", false],
    ['the store does not import the HTTP layer', 'server/workspace/listing.ts', "import { HttpError } from '../http/errors.ts';", true],
    ['coordination does not import the store', 'server/coordination/journal.ts', "import { StoreCore } from '../workspace/store-core.ts';", true],
    ['the HTTP layer may import the store', 'server/http/workspace-routes.ts', "import { FsWorkspaceStore } from '../workspace/fs-store.ts';", false],
    ['the KB planner does no I/O', 'server/openwebui/plan.ts', "import { OpenWebUIClient } from './client.ts';", true],
    ['the engine knows no Electron', 'app/sync/engine.ts', "import { app } from 'electron';", true],
    ['the IPC contract does not import the engine', 'app/ipc/contract.ts', "import type { SyncState } from '../sync/state.ts';", true],
    ['pages use no Node', 'app/renderer/settings.ts', "import { readFile } from 'node:fs';", true],
    ['pages use no Electron', 'app/renderer/settings.ts', "import { ipcRenderer } from 'electron';", true],
    ['pages may import the engine API types', 'app/renderer/activity.ts', "import type { EngineStatus } from '../engine-api/types.ts';", false],
    ['the hub never imports the client', 'server/main.ts', "import { SyncEngine } from '../app/sync/engine.ts';", true],
  ];
  for (const [what, file, code, banned] of cases) {
    it(`${what} (${file})`, async () => {
      expect(await restricted(file, `${code}\nexport {};\n`)).toBe(banned);
    });
  }
});
