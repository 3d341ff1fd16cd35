// The Open WebUI side of the KB scenario: the emulator (tests/fakes/openwebui-emulator/) on
// 127.0.0.1, port 0. The hub is pointed at it with RALPH_OPENWEBUI_URL / RALPH_OPENWEBUI_API_KEY
// (the admin's key, which the bench also uses to read the KB).
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
  if (!existsSync(EMULATOR_DIR)) return 'not available: tests/fakes/openwebui-emulator/ missing';
  const { startEmulator } = await import('../../fakes/openwebui-emulator/index.ts');
  const e = await startEmulator();
  return { url: e.url, apiKey: e.adminApiKey, stop: () => e.stop() };
}
