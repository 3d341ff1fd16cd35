// `youlab-hub` command line: `keys create|list|revoke`, else serve.
import { parseArgs } from 'node:util';
import { KeyStore } from './auth/keys.ts';
import { CONFIG_TABLE } from './config.ts';
import { serve } from './main.ts';

const USAGE = `usage:
  youlab-hub [--port N] [--host H] [--data-dir DIR]        serve
  youlab-hub keys create --user <id> [--label L] [--data-dir DIR]
  youlab-hub keys create --service [--label L] [--data-dir DIR]
  youlab-hub keys list [--data-dir DIR]
  youlab-hub keys revoke <key-id> [--data-dir DIR]
`;

function dataDirOf(flag: string | undefined): string {
  return flag ?? (process.env[CONFIG_TABLE.dataDir.env] || CONFIG_TABLE.dataDir.default);
}

export async function keysCommand(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      label: { type: 'string' },
      service: { type: 'boolean' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const store = KeyStore.forDataDir(dataDirOf(values['data-dir']));
  const [cmd, arg] = positionals;
  if (cmd === 'create') {
    if (values.service === Boolean(values.user)) throw new Error('give either --user <id> or --service');
    const { key } = await store.create({ userId: values.user, service: values.service, label: values.label });
    out(`${key}\n`);
    return 0;
  }
  if (cmd === 'list') {
    const rows = store.list().map(({ hash: _hash, ...r }) => r);
    if (values.json) {
      out(JSON.stringify(rows, null, 2) + '\n');
      return 0;
    }
    out(['id', 'label', 'user', 'service', 'created', 'revoked'].join('\t') + '\n');
    for (const r of rows) out([r.id, r.label, r.user_id ?? '-', r.service, r.created, r.revoked ?? '-'].join('\t') + '\n');
    return 0;
  }
  if (cmd === 'revoke') {
    if (!arg) throw new Error('give the key id to revoke (see `youlab-hub keys list`)');
    if (!(await store.revoke(arg))) throw new Error(`no key with id ${arg}`);
    process.stderr.write(`revoked ${arg}\n`);
    return 0;
  }
  throw new Error(`unknown keys command: ${cmd ?? '(none)'}`);
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (argv[0] === 'keys') {
    try {
      process.exitCode = await keysCommand(argv.slice(1));
    } catch (e) {
      process.stderr.write(`youlab-hub keys: ${(e as Error).message}\n${USAGE}`);
      process.exitCode = 2;
    }
    return;
  }
  if (argv[0] === 'serve') argv = argv.slice(1);
  await serve(argv);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`youlab-hub: ${(err as Error).message}\n`);
  process.exit(1);
});
