#!/usr/bin/env node
// Launcher for `youlab-hub`: runs the TypeScript sources through tsx, from any cwd.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../server/cli.ts', import.meta.url).href);
