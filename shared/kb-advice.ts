// What the user sees of the knowledge-base leg, without zod (the renderer pages bundle this): the
// states a path can be in, the counts of a status answer, and one sentence of what to do about a
// failed or held file. The desktop app and `youlab-sync kb-status` say the same.
import type { KbCounts, KbFileStatus, KbStatus } from './kb-status.ts';

export const KB_FILE_STATES = ['synced', 'pending', 'processing', 'failed', 'ignored', 'held'] as const;
export type KbFileState = (typeof KB_FILE_STATES)[number];

/** Counts of a status answer; an older hub without them is counted from its files. */
export function kbCounts(s: KbStatus): KbCounts {
  if (s.counts) return s.counts;
  const c: KbCounts = { total: s.files.length, synced: 0, pending: 0, processing: 0, failed: 0, ignored: 0, held: 0 };
  for (const f of s.files) c[f.state === 'skipped' ? 'ignored' : f.state]++;
  return c;
}

/** What the user can do about a failed or held file, one sentence (the app and the CLI say the same). */
export function kbWhatToDo(f: KbFileStatus): string {
  if (f.state === 'held') {
    return f.action === 'delete_in_workspace'
      ? 'It was removed from the knowledge base; confirm the deletes to remove it from the workspace too, or add it to the knowledge base again.'
      : 'Confirm the deletes if you meant to delete these files; otherwise put them back in the workspace (the hub keeps deleted versions).';
  }
  switch (f.reason) {
    case 'unsupported_type':
      return 'Open WebUI does not take this type of file. Save it as PDF, Markdown or text to make it searchable.';
    case 'processing_failed':
      return 'Open WebUI could not read text from this file (empty, scanned or damaged). Save it again with text in it; it is retried when it changes.';
    case 'duplicate_content':
      return 'The knowledge base already holds a file with the same text; nothing to do unless you change this one.';
    case 'too_large':
      return 'The file is over Open WebUI’s size limit. Make it smaller or split it.';
    case 'workspace_refused':
      return 'The workspace refused this file from Open WebUI (name, size or quota). Rename or shrink it in Open WebUI.';
    default:
      return 'It is tried again by itself; if it keeps failing, ask your administrator to look at the hub log.';
  }
}
