// The knowledge-base section's trees: markdown notes of 2-6 KB in 20 folders, the same bytes on
// every run (a seeded generator, as trees.ts does for the file-sync trees), but text that Open
// WebUI extracts and embeds like a user's notes: headings, sentences, lists. Every note differs
// from every other (Open WebUI refuses duplicate content within a knowledge base).
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const NOTE_FOLDERS = 20;

const WORDS = (
  'sync workspace note agent hub folder file change round listing upload knowledge base vector ' +
  'embedding chunk query answer student course lesson reading summary draft outline idea plan ' +
  'method result figure table source citation review question topic theory model data sample ' +
  'measure error test proof claim example context memory search index retrieval prompt reply ' +
  'history version conflict merge copy rename delete create update schedule debounce watcher ' +
  'latency throughput budget target ratio median spread machine disk network loopback server'
).split(' ');

/** A small deterministic generator (xorshift32) seeded from a string. */
function rng(seed: string): () => number {
  let x = createHash('sha256').update(seed).digest().readUInt32LE(0) || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function sentence(next: () => number, tag: string): string {
  const n = 6 + Math.floor(next() * 12);
  const words = Array.from({ length: n }, () => WORDS[Math.floor(next() * WORDS.length)]!);
  // The tag makes every sentence, and so every note, unique.
  return `${words[0]![0]!.toUpperCase()}${words[0]!.slice(1)} ${words.slice(1).join(' ')} (${tag}).`;
}

function paragraph(next: () => number, tag: string): string {
  if (next() < 0.25) return Array.from({ length: 3 + Math.floor(next() * 4) }, (_, i) => `- ${sentence(next, `${tag}.${i}`)}`).join('\n');
  return Array.from({ length: 2 + Math.floor(next() * 4) }, (_, i) => sentence(next, `${tag}.${i}`)).join(' ');
}

/** `topic-07/note-0147.md`: note i of n, in folder i mod 20; names are unique across folders. */
export function notePath(i: number, n: number): string {
  const width = Math.max(4, String(n - 1).length);
  return `topic-${String(i % NOTE_FOLDERS).padStart(2, '0')}/note-${String(i).padStart(width, '0')}.md`;
}

const MIN_NOTE = 2048;
const MAX_NOTE = 6144;

/** Note i's text: 2-6 KiB (the size is drawn from the note's own seed; a part that would pass 6 KiB ends the note). */
export function noteText(i: number, version = 0): string {
  const next = rng(`youlab-bench-kb-note-${i}-v${version}`);
  const size = MIN_NOTE + Math.floor(next() * (MAX_NOTE - MIN_NOTE));
  const parts = [`# Note ${i}${version ? ` (revision ${version})` : ''}: ${sentence(next, `n${i}v${version}`)}`];
  let length = parts[0]!.length;
  for (let s = 0; length < size; s++) {
    const part = s % 3 === 0 ? `## Section ${s / 3 + 1}` : paragraph(next, `n${i}v${version}s${s}`);
    if (length + part.length + 2 > MAX_NOTE && length >= MIN_NOTE) break;
    parts.push(part);
    length += part.length + 2;
  }
  return `${parts.join('\n\n')}\n`;
}

export interface NotesTree {
  root: string;
  count: number;
  paths: string[];
  bytes: number;
}

/** Writes n notes into `root` (a folder the caller owns: edits rewrite these files in place). */
export async function writeNotes(root: string, n: number): Promise<NotesTree> {
  const paths = Array.from({ length: n }, (_, i) => notePath(i, n));
  for (let f = 0; f < Math.min(n, NOTE_FOLDERS); f++) await mkdir(join(root, dirname(paths[f]!)), { recursive: true });
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const text = noteText(i);
    bytes += Buffer.byteLength(text);
    await writeFile(join(root, paths[i]!), text);
  }
  return { root, count: n, paths, bytes };
}

/** Edit k of a run: which note changes, and its new bytes (a new revision of that note). */
export function editOf(k: number, n: number): { index: number; rel: string; content: Buffer } {
  // Spread over the folders and the tree; a prime stride never repeats a note within n edits.
  const index = (k * 7919 + 13) % n;
  return { index, rel: notePath(index, n), content: Buffer.from(noteText(index, k + 1)) };
}
