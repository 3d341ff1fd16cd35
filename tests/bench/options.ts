// Command-line and environment options of `npm run bench`. Full defaults match issue 6; `--quick`
// and `--scale` shrink every tree so a developer can try the harness in a minute or two.
import { parseArgs } from 'node:util';

export const TOOLS = ['rsync', 'unison', 'syncthing', 'youlab', 'oikb'] as const;
export type ToolName = (typeof TOOLS)[number];
/** `files`: the file-sync section (trees, reference tools, our client and hub); `kb`: the knowledge-base section. */
export const SECTIONS = ['files', 'kb'] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface BenchOptions {
  /** Multiplies every file count (not file sizes). */
  scale: number;
  quick: boolean;
  /** Repeats of cheap scenarios (rsync, Unison on 10k, no-change rounds). */
  repeats: number;
  /** Edits per propagation run (issue 6 asks for at least 50). */
  edits: number;
  tools: Set<ToolName>;
  /** Run the 100k-file tree at all, and with Syncthing (the slowest part of a full run). */
  big: boolean;
  syncthingBig: boolean;
  /** Unison has no fs watcher here (unison-fsmonitor is not packaged): poll with `-repeat 1`. */
  unisonRepeat: boolean;
  /** Edits for Syncthing at its default 10 s watcher delay (~11 s each). */
  syncthingDefaultEdits: number;
  /** Seconds our first sync may run before it is reported as partial (default 180 × scale, min 30). */
  youlabBudgetS: number | undefined;
  keep: boolean;
  /** Measure bin/*.js (sources through tsx) instead of the compiled commands. */
  tsx: boolean;
  workDir: string | undefined;
  outDir: string;
  sections: Set<SectionName>;
  /** Knowledge-base section: note counts, one KB pair each (issue 12: 200 and 1,000). */
  kbNotes: number[];
  /** Knowledge-base section: edits per tool and size for the changed-file latency. */
  kbEdits: number;
  /** oikb's `--concurrency` (upload workers) for its syncs; 1 is its default. */
  oikbWorkers: number;
}

const HELP = `npm run bench -- [options]
  --quick              scale 0.05, 1 repeat, 20 edits (a couple of minutes)
  --scale <f>          multiply file counts (env BENCH_SCALE), default 1
  --repeats <n>        repeats of cheap scenarios (env BENCH_REPEATS), default 3
  --edits <n>          edits per propagation run (env BENCH_EDITS), default 50
  --tools <list>       comma list of ${TOOLS.join(',')} (env BENCH_TOOLS), default all
  --no-big             skip the 100,000-file tree
  --no-syncthing-big   skip Syncthing on the 100,000-file tree
  --syncthing-default-edits <n>  edits for Syncthing at its default 10 s watcher delay, default 20 (~11 s each)
  --no-unison-repeat   skip Unison's polling propagation run
  --work-dir <dir>     where trees and replicas go (env BENCH_WORK_DIR), default a new dir in the OS temp dir
  --youlab-budget <s>  stop our first sync after s seconds and report the share done (env BENCH_YOULAB_BUDGET)
  --keep               keep the work dir afterwards
  --tsx                run our commands from the sources through tsx (bin/*.js), not compiled (dist/cli)
  --out <dir>          results dir, default tests/bench/results
  --only <list>        comma list of sections ${SECTIONS.join(',')} (env BENCH_ONLY), default all
  --no-kb              skip the knowledge-base section (real Open WebUI, oikb vs the hub)
  --kb-notes <list>    note counts of the knowledge-base section (env BENCH_KB_NOTES), default 200,1000 (--quick: 50)
  --kb-edits <n>       changed-file edits per tool and size (env BENCH_KB_EDITS), default 20 (--quick: 10)
  --oikb-workers <n>   oikb's upload workers, oikb sync --concurrency (env BENCH_OIKB_WORKERS), default 1`;

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      scale: { type: 'string' },
      repeats: { type: 'string' },
      edits: { type: 'string' },
      tools: { type: 'string' },
      'no-big': { type: 'boolean', default: false },
      'no-syncthing-big': { type: 'boolean', default: false },
      'no-unison-repeat': { type: 'boolean', default: false },
      'syncthing-default-edits': { type: 'string' },
      'work-dir': { type: 'string' },
      'youlab-budget': { type: 'string' },
      keep: { type: 'boolean', default: false },
      tsx: { type: 'boolean', default: false },
      out: { type: 'string' },
      only: { type: 'string' },
      'no-kb': { type: 'boolean', default: false },
      'kb-notes': { type: 'string' },
      'kb-edits': { type: 'string' },
      'oikb-workers': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const quick = values.quick || env.BENCH_QUICK === '1';
  const num = (flag: string | undefined, envName: string, dflt: number): number => {
    const raw = flag ?? env[envName];
    if (raw === undefined || raw === '') return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${envName.toLowerCase()}: not a positive number: ${raw}`);
    return n;
  };
  const toolList = (values.tools ?? env.BENCH_TOOLS ?? TOOLS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const t of toolList) if (!(TOOLS as readonly string[]).includes(t)) throw new Error(`unknown tool ${t}`);
  const sections = listOf(values.only ?? env.BENCH_ONLY, SECTIONS, 'section');
  if (values['no-kb']) sections.delete('kb');
  const kbNotes = (values['kb-notes'] ?? env.BENCH_KB_NOTES ?? (quick ? '50' : '200,1000')).split(',').map((s) => Math.round(num(s.trim(), 'BENCH_KB_NOTES', 200)));
  return {
    scale: num(values.scale, 'BENCH_SCALE', quick ? 0.05 : 1),
    quick,
    repeats: Math.round(num(values.repeats, 'BENCH_REPEATS', quick ? 1 : 3)),
    edits: Math.round(num(values.edits, 'BENCH_EDITS', quick ? 20 : 50)),
    tools: new Set(toolList as ToolName[]),
    big: !values['no-big'],
    syncthingBig: !values['no-syncthing-big'],
    unisonRepeat: !values['no-unison-repeat'],
    syncthingDefaultEdits: Math.round(num(values['syncthing-default-edits'], 'BENCH_SYNCTHING_DEFAULT_EDITS', quick ? 5 : 20)),
    youlabBudgetS: values['youlab-budget'] ?? env.BENCH_YOULAB_BUDGET ? num(values['youlab-budget'], 'BENCH_YOULAB_BUDGET', 180) : undefined,
    keep: values.keep,
    tsx: values.tsx || env.BENCH_TSX === '1',
    workDir: values['work-dir'] ?? env.BENCH_WORK_DIR,
    outDir: values.out ?? 'tests/bench/results',
    sections,
    kbNotes,
    kbEdits: Math.round(num(values['kb-edits'], 'BENCH_KB_EDITS', quick ? 10 : 20)),
    oikbWorkers: Math.round(num(values['oikb-workers'], 'BENCH_OIKB_WORKERS', 1)),
  };
}

/** A comma list of names from `all` (every one when the list is absent). */
function listOf<T extends string>(raw: string | undefined, all: readonly T[], what: string): Set<T> {
  const names = (raw ?? all.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(all as readonly string[]).includes(n)) throw new Error(`unknown ${what} ${n}`);
  return new Set(names as T[]);
}
