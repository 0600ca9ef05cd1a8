#!/usr/bin/env node
// Runs the TypeScript CLI through tsx (no build step), then exits with its code.
import { register } from 'tsx/esm/api';

register();
const { runCli, processIo } = await import('../src/index.ts');
process.exitCode = await runCli(process.argv.slice(2), processIo());
