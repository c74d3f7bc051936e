#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { main } from './run.js';

main(process.argv.slice(2), { cliPath: fileURLToPath(import.meta.url) }).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
