// Canned history and trash for the Version history, Deleted files and guard specs.
import type { HistoryScenario } from './fake-bridge.ts';

const at = (d: number, h: number) => `2026-11-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:15:00.000Z`;
const hash = (c: string) => 'sha256:' + c.repeat(64);

export function historyScenario(): HistoryScenario {
  return {
    versions: {
      'notes/plan.md': [
        { id: '1764238500000-0a1b2c3d', hash: hash('1'), size: 2051, kept_at: at(27, 10), reason: 'overwrite', origin: 'agent' },
        { id: '1764152100000-1b2c3d4e', hash: hash('2'), size: 1834, kept_at: at(26, 9), reason: 'overwrite', origin: 'laptop' },
        // An older hub records no origin (issue 14 adds it): the row says so with a dash.
        { id: '1764065700000-2c3d4e5f', hash: hash('3'), size: 96, kept_at: at(25, 8), reason: 'overwrite' },
      ],
      'reports/budget.xlsx': [{ id: '1764238500000-3d4e5f60', hash: hash('4'), size: 48_213, kept_at: at(27, 10), reason: 'delete', origin: 'laptop' }],
      'new.md': [],
    },
    previews: {
      '1764238500000-0a1b2c3d': { text: true, content: '# Plan\n\n- Draft the outline\n- Section 2 done by the agent\n- Review on Friday\n', truncated: false },
      '1764152100000-1b2c3d4e': { text: true, content: '# Plan\n\n- Draft the outline\n- Write section 2 tonight\n', truncated: true },
      '1764238500000-3d4e5f60': { text: false, truncated: false },
    },
    deleted: {
      entries: [
        { source: 'hub', id: '1764324900000-4e5f6071', path: 'drafts/essay-v2.md', deletedAt: at(28, 11), size: 5120, versions: 3, origin: 'laptop' },
        { source: 'trash', id: '2026-11-28T09-00-00-000Z-a1b2c3/papers/attention.pdf', path: 'papers/attention.pdf', deletedAt: at(28, 9), size: 2_202_009 },
        { source: 'hub', id: '1764238500000-3d4e5f60', path: 'reports/budget.xlsx', deletedAt: at(27, 10), size: 48_213, versions: 1 },
        { source: 'trash', id: '2026-11-26T08-00-00-000Z-d4e5f6/notes/old.txt', path: 'notes/old.txt', deletedAt: at(26, 8), size: 312 },
      ],
    },
    restoreFailures: { '1764238500000-3d4e5f60': 'the hub refused the restore: quota exceeded (507)' },
    guard: {
      restore: { ok: true, message: '41 files brought back' },
      delete: { ok: true, message: '41 files deleted' },
    },
  };
}
