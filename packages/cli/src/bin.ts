#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { backup } from './commands/backup.js';
import { dump } from './commands/dump.js';
import { inspect } from './commands/inspect.js';
import { recover } from './commands/recover.js';
import { torture } from './commands/torture.js';
import { verify } from './commands/verify.js';
import { EXIT_USAGE, reportError } from './output.js';

const program = new Command()
  .name('keel')
  .description('Look into keel stores, check them, dump them, recover them, and crash them on purpose.')
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

/** Every command's action: its exit status, or one line on stderr and the error's status. */
function run<A extends unknown[]>(action: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = await action(...args);
    } catch (error) {
      process.exitCode = reportError(error);
    }
  };
}

program
  .command('inspect')
  .description("which backend's files are at <path> (by their magic), the store's shape, and what a recovery would do; read-only")
  .argument('<path>', 'a journal file or a store directory')
  .option('--json', 'one JSON document on stdout')
  .action(run(inspect));

program
  .command('verify')
  .description('reads everything and checks every checksum and index; exit 0 when clean, 1 when damaged, 2 when not a keel store')
  .argument('<path>')
  .option('--json', 'one JSON document on stdout')
  .action(run(verify));

program
  .command('dump')
  .description('records as JSON Lines: values as UTF-8 when valid, else base64')
  .argument('<path>')
  .option('--from <position>', 'first LSN, offset, payload index, or key')
  .option('--to <position>', 'stop before this position')
  .option('--limit <n>', 'at most n records')
  .option('--follow', 'keep printing new records (journal, segment-log)')
  .option('--hex', 'values (and keys) as hex')
  .option('--json', 'one JSON document on stdout instead of JSON Lines')
  .action(run(dump));

program
  .command('recover')
  .description('shows what open would do to a damaged store (cut, save, rebuild, refuse); does it only with --apply')
  .argument('<path>')
  .option('--apply', 'open for writing (takes the lock) and repair')
  .option('--salvage', 'keep the valid prefix of a log damaged in the middle (explicit opt-in)')
  .option('--json', 'one JSON document on stdout')
  .action(run(recover));

program
  .command('backup')
  .description("an online backup through the store's backup(): a durable, verified copy, made beside a live writer")
  .argument('<path>')
  .argument('<target>', 'where the copy goes (must not exist)')
  .option('--json', 'one JSON document on stdout')
  .action(run(backup));

program
  .command('torture')
  .description('SIGKILLs a writing child process at random moments, reopens, and checks that nothing acknowledged is lost')
  .argument('<backend>', 'journal, segment-log, payload-store, wal-kv, or all')
  .option('--rounds <n>', 'kills per backend (default 5)')
  .option('--seconds <s>', 'time budget for all rounds (at least one round per backend runs)')
  .option('--durability <mode>', 'explicit (default) or every-write')
  .option('--seed <n>', 'replay the kill timings of an earlier run')
  .option('--json', 'one JSON document on stdout')
  .action(run(torture));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Usage errors: commander has printed its message already.
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  else process.exitCode = reportError(error);
}
