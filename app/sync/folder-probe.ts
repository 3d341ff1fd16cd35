// What the synced folder's filesystem does with names: does it find a file under another case
// (macOS and Windows by default, a vfat stick, an ext4 casefold folder) or under another Unicode
// normalization (APFS, HFS+)? Found by trying it: a temp file is created in the folder and looked
// up by both other spellings. The answer feeds the planner's case-clash handling (plan.ts), so a
// clash is reported instead of looping as "did not converge".
import { randomBytes } from 'node:crypto';
import { lstat, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { localOsOf, type LocalOs } from '../../shared/local-names.ts';

export interface FolderTraits {
  caseInsensitive: boolean;
  normalizationInsensitive: boolean;
  /** How the traits were found: by the probe, or assumed from the OS because the probe could not run. */
  source: 'probe' | 'assumed';
  /** Why the probe could not run, when assumed. */
  why?: string;
}

/** The file operations the probe needs; the tests pass fakes. */
export interface ProbeFs {
  /** Creates the file; fails if it exists. */
  create(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  remove(path: string): Promise<void>;
}

export const nodeProbeFs: ProbeFs = {
  async create(path) {
    await (await open(path, 'wx')).close();
  },
  exists: (path) =>
    lstat(path).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return false;
        throw e;
      },
    ),
  remove: (path) => unlink(path),
};

/**
 * The probe's file name: ASCII letters to try case (vfat folds ASCII only), an NFC 'é' to try
 * normalization, and a `.tmp` ending the default ignore rules leave out of every scan and watch.
 */
export function probeName(token: string): string {
  return `.youlab-probe-${token}-case-\u00e9.tmp`;
}

/** The same name in other ASCII case, and in NFD. */
export function otherSpellings(name: string): { otherCase: string; otherNormalization: string } {
  return { otherCase: name.replace(/[a-z]/g, (c) => c.toUpperCase()), otherNormalization: name.normalize('NFD') };
}

/** Probe `folder` (it must exist). Throws when the folder cannot take the temp file. */
export async function probeFolder(folder: string, fs: ProbeFs = nodeProbeFs, token = randomBytes(6).toString('hex')): Promise<FolderTraits> {
  const name = probeName(token);
  const { otherCase, otherNormalization } = otherSpellings(name);
  await fs.create(join(folder, name));
  try {
    return {
      caseInsensitive: await fs.exists(join(folder, otherCase)),
      normalizationInsensitive: await fs.exists(join(folder, otherNormalization)),
      source: 'probe',
    };
  } finally {
    await fs.remove(join(folder, name));
  }
}

/** What to assume where the probe cannot run (no folder yet): the OS's usual default. */
export function assumedTraits(os: LocalOs, why: string): FolderTraits {
  const insensitive = os !== 'other';
  return { caseInsensitive: insensitive, normalizationInsensitive: os === 'mac', source: 'assumed', why };
}

/** One log line describing the traits. */
export function traitsLine(folder: string, t: FolderTraits): string {
  const cs = t.caseInsensitive ? 'case-insensitive (names that differ only in case are reported as clashes)' : 'case-sensitive';
  const nf = t.normalizationInsensitive ? ', Unicode-normalization-insensitive' : '';
  return `${folder}: ${cs}${nf}${t.source === 'assumed' ? `; assumed from the OS: ${t.why}` : ''}`;
}

/**
 * The engine's view of its folder: probed once the folder exists, then kept; until then the OS's
 * default is assumed and the probe is tried again at the next round. Each new answer is logged.
 */
export class FolderTraitsCache {
  private probed: FolderTraits | undefined;
  private lastLine: string | undefined;
  readonly os: LocalOs;
  constructor(
    private readonly folder: string,
    platform: string,
    private readonly log: (line: string) => void,
    private readonly fs: ProbeFs = nodeProbeFs,
  ) {
    this.os = localOsOf(platform);
  }

  async get(): Promise<FolderTraits> {
    if (this.probed) return this.probed;
    let t: FolderTraits;
    try {
      t = await probeFolder(this.folder, this.fs);
      this.probed = t;
    } catch (e) {
      t = assumedTraits(this.os, `the folder could not be probed (${(e as Error).message})`);
    }
    const line = traitsLine(this.folder, t);
    if (line !== this.lastLine) this.log(line);
    this.lastLine = line;
    return t;
  }
}
