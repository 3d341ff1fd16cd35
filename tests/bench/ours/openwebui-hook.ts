// ===========================================================================================
// HOOK for the Open WebUI emulator (tests/fakes/openwebui-emulator/, built by another engineer).
// The KB scenario needs: a running emulator URL, an admin/service API key for the hub to use,
// and a way to stop it. Wire `startOpenWebui` to the emulator's real entry point once it exists;
// until then the KB rows of the table read "not available yet".
// ===========================================================================================
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export interface OpenWebui {
  url: string;
  /** The key the hub uses (RALPH_OPENWEBUI_API_KEY) and the bench uses to read the KB. */
  apiKey: string;
  stop: () => Promise<void>;
}

const EMULATOR_DIR = resolve(import.meta.dirname, '../../fakes/openwebui-emulator');

export async function startOpenWebui(): Promise<OpenWebui | string> {
  if (!existsSync(EMULATOR_DIR)) return 'not available yet: tests/fakes/openwebui-emulator/ missing';
  // TODO(lead): import the emulator's start function here, e.g.
  //   const { startEmulator } = await import('../../fakes/openwebui-emulator/index.ts');
  //   const e = await startEmulator({ port: 0 });
  //   return { url: e.url, apiKey: e.adminKey, stop: () => e.close() };
  return 'not wired yet: connect tests/bench/ours/openwebui-hook.ts to the emulator';
}
