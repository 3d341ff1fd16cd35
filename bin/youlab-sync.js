#!/usr/bin/env node
// Launcher for the headless client: TypeScript runs through tsx, from any working directory.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../app/cli.ts', import.meta.url).href);
