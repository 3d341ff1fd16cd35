// Compiles the desktop app for Electron with esbuild (already in node_modules through tsx):
//   dist/main/index.js        main process, ESM, npm packages left external (node_modules ships)
//   dist/preload/index.cjs    preload, CommonJS as sandboxed preloads require, only 'electron' external
//   dist/renderer/*.{html,js,css}  one IIFE bundle per page (a sandboxed page cannot load .ts)
// Usage: npx tsx scripts/build-app.ts [--renderer-only] [--out <dir>]
import { build } from 'esbuild';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RENDERER_PAGES = ['settings', 'conflicts', 'activity', 'history', 'deleted'] as const;
/** Electron 45 ships Chromium 142 and Node 22. */
const CHROME = 'chrome140';
const NODE = 'node22';

export async function buildRenderer(outDir = join(root, 'dist', 'renderer')): Promise<string> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: RENDERER_PAGES.map((p) => join(root, 'app', 'renderer', `${p}.ts`)),
    outdir: outDir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: CHROME,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  const src = join(root, 'app', 'renderer');
  for (const f of await readdir(src)) if (f.endsWith('.html')) await copyFile(join(src, f), join(outDir, f));
  await copyFile(join(src, 'common', 'style.css'), join(outDir, 'style.css'));
  return outDir;
}

export async function buildMainAndPreload(outRoot = join(root, 'dist')): Promise<void> {
  await build({
    entryPoints: [join(root, 'app', 'main', 'index.ts')],
    outfile: join(outRoot, 'main', 'index.js'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: NODE,
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  await build({
    entryPoints: [join(root, 'app', 'preload', 'index.ts')],
    outfile: join(outRoot, 'preload', 'index.cjs'),
    bundle: true,
    format: 'cjs',
    platform: 'browser',
    target: CHROME,
    external: ['electron'],
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}

async function cli(): Promise<void> {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const out = outIdx >= 0 && args[outIdx + 1] ? resolve(args[outIdx + 1]!) : join(root, 'dist');
  await buildRenderer(join(out, 'renderer'));
  if (!args.includes('--renderer-only')) await buildMainAndPreload(out);
  console.log(`built desktop app into ${out}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
