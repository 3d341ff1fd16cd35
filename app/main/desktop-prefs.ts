// Desktop-only preferences that the headless client has no use for (today: the Open WebUI
// address behind the tray's "Open workspace in Open WebUI"). Kept beside config.yaml as JSON.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../../shared/node/atomic-fs.ts';

export const DesktopPrefsSchema = z.object({
  openwebui_url: z.string().url().optional(),
});
export type DesktopPrefs = z.infer<typeof DesktopPrefsSchema>;

export function desktopPrefsPath(configPath: string): string {
  return join(dirname(configPath), 'desktop.json');
}

export async function loadDesktopPrefs(path: string): Promise<DesktopPrefs> {
  try {
    const parsed = DesktopPrefsSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : {};
  } catch {
    // no prefs file yet, or a broken one: the defaults
    return {};
  }
}

export async function saveDesktopPrefs(path: string, prefs: DesktopPrefs): Promise<void> {
  await writeJsonAtomic(path, DesktopPrefsSchema.parse(prefs));
}
