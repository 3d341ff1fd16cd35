// Compiles the two command lines to plain JavaScript with esbuild (already in node_modules through tsx):
//   dist/cli/youlab-sync.mjs   the headless client (app/cli.ts)
//   dist/cli/youlab-hub.mjs    the hub (server/cli.ts)
// The hub leaves its npm packages external (node_modules ships beside it; pino and express load
// parts of themselves by path); the client bundles them (below). bin/*.js run the TypeScript through
// tsx instead, which is what development wants (always the current sources) but costs start-up
// time (~0.2-0.4 s) and memory (~30 MiB) that an installed command should not pay; the bench
// measures these compiled files, as a user would run them.
// Usage: npx tsx scripts/build-cli.ts [--out <dir>]
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The oldest Node the product supports (package.json engines). */
const NODE = 'node20';

export interface BuiltCli {
  sync: string;
  hub: string;
}

export async function buildCli(outDir = join(root, 'dist', 'cli')): Promise<BuiltCli> {
  const common = {
    bundle: true,
    format: 'esm' as const,
    platform: 'node' as const,
    target: NODE,
    packages: 'external' as const,
    sourcemap: 'linked' as const,
    logLevel: 'warning' as const,
    banner: { js: '#!/usr/bin/env node' },
  };
  const sync = join(outDir, 'youlab-sync.mjs');
  const hub = join(outDir, 'youlab-hub.mjs');
  // The client bundles its npm packages too (keytar, a native module, stays outside): a `--once`
  // run from cron pays module loading every time, and one file loads in ~0.1 s less and ~20 MiB
  // smaller than a few hundred resolved one by one. `require` is provided for the CommonJS parts.
  await build({
    ...common,
    packages: undefined,
    external: ['keytar'],
    banner: { js: `#!/usr/bin/env node\nimport { createRequire as __youlabRequire } from 'node:module';\nconst require = __youlabRequire(import.meta.url);` },
    entryPoints: [join(root, 'app', 'cli.ts')],
    outfile: sync,
  });
  await build({
    ...common,
    entryPoints: [join(root, 'server', 'cli.ts')],
    outfile: hub,
    // server/main.ts starts serving when it is the entry file (`node server/main.ts`); bundled,
    // every module shares the bundle's URL, so that check must be false here: cli.ts decides.
    define: { 'import.meta.url': '"bundled:youlab-hub"' },
  });
  return { sync, hub };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const out = outIdx >= 0 && args[outIdx + 1] ? resolve(args[outIdx + 1]!) : undefined;
  buildCli(out).then(
    (b) => console.log(`built ${b.sync} and ${b.hub}`),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
