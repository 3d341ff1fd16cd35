// Builds the renderer pages exactly as the app ships them, and the fake bridge for injection.
import { build } from 'esbuild';
import { join, resolve } from 'node:path';
import { buildRenderer } from '../../scripts/build-app.ts';

const root = resolve(import.meta.dirname, '..', '..');
export const RENDERER_DIR = join(root, 'dist', 'renderer');
export const FAKE_BRIDGE_JS = join(root, 'dist', 'e2e', 'fake-bridge.js');

export default async function globalSetup(): Promise<void> {
  await buildRenderer(RENDERER_DIR);
  await build({
    entryPoints: [join(root, 'tests', 'e2e', 'fake-bridge.ts')],
    outfile: FAKE_BRIDGE_JS,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'warning',
  });
}
