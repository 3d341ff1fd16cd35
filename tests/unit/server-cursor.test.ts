import { describe, expect, it } from 'vitest';
import { formatCursor, parseCursor } from '../../server/coordination/cursor.ts';
import { ChangeJournal } from '../../server/coordination/journal.ts';

describe('cursor parsing', () => {
  it('round-trips', () => {
    expect(parseCursor(formatCursor({ epoch: 'ab12', seq: 42 }))).toEqual({ epoch: 'ab12', seq: 42 });
    expect(parseCursor('ab12:0')).toEqual({ epoch: 'ab12', seq: 0 });
  });
  it.each([undefined, 42, '', 'ab12', 'ab12:', ':1', 'ab12:-1', 'ab12:01', 'ab12:1.5', 'AB12:1', 'a:b:1', 'ab12:99999999999999999', 'ab 12:1'])(
    'refuses %j',
    (c) => {
      expect(parseCursor(c)).toBeUndefined();
    },
  );
});

describe('change journal', () => {
  const ch = (path: string, hash: string | null = null) => ({ path, hash });

  it('returns changes after a cursor, newest per path, and a cursor to continue from', () => {
    const j = new ChangeJournal();
    const c0 = j.cursor('u');
    j.append('u', ch('a'));
    j.append('u', ch('b'));
    j.append('u', ch('a', 'sha256:' + '1'.repeat(64)));
    const r = j.read('u', c0);
    expect(r.changes.map((c) => c.path)).toEqual(['b', 'a']);
    expect(r.changes[1]!.hash).toMatch(/^sha256:1/);
    expect(r.cursor).toBe(j.cursor('u'));
    expect(j.read('u', r.cursor).changes).toEqual([]);
  });

  it('keeps users apart', () => {
    const j = new ChangeJournal();
    const c = j.cursor('u');
    j.append('v', ch('x'));
    expect(j.read('u', c).changes).toEqual([]);
  });

  it('answers reset for another epoch, a future seq, garbage, and a seq older than the journal keeps', () => {
    const j = new ChangeJournal({ maxEntries: 3 });
    const c0 = j.cursor('u');
    for (const p of ['a', 'b', 'c', 'd', 'e']) j.append('u', ch(p));
    expect(j.read('u', 'other:0').reset).toBe(true);
    expect(j.read('u', `${j.epoch}:99`).reset).toBe(true);
    expect(j.read('u', 'garbage').reset).toBe(true);
    expect(j.read('u', c0).reset).toBe(true);
    // seq 2 is the oldest position still covered (entries 3..5 kept).
    const r = j.read('u', `${j.epoch}:2`);
    expect(r.reset).toBeUndefined();
    expect(r.changes.map((c) => c.path)).toEqual(['c', 'd', 'e']);
    expect(j.read('u', `${j.epoch}:1`).reset).toBe(true);
  });

  it('a waiting poll wakes on a change and ends on abort or close', async () => {
    const j = new ChangeJournal();
    const c = j.cursor('u');
    const p = j.wait('u', c, 30_000);
    setTimeout(() => j.append('u', ch('late')), 20);
    expect((await p).changes.map((x) => x.path)).toEqual(['late']);

    const ac = new AbortController();
    const q = j.wait('u', j.cursor('u'), 30_000, ac.signal);
    ac.abort();
    expect((await q).changes).toEqual([]);

    const r = j.wait('u', j.cursor('u'), 30_000);
    j.close();
    expect((await r).changes).toEqual([]);
  });

  it('a zero wait answers at once', async () => {
    const j = new ChangeJournal();
    expect(await j.wait('u', j.cursor('u'), 0)).toEqual({ cursor: j.cursor('u'), changes: [] });
  });
});
