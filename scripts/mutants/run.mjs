#!/usr/bin/env node
// The mutant catalogue: plants each bug of catalogue.mjs, one at a time, into a throwaway
// copy of the repository at HEAD, runs the backends' conformance suites against it, and
// reports which were caught. Not part of `pnpm test` (it runs each suite once per mutant,
// a few minutes in all): `pnpm mutants`, or `pnpm mutants --only journal --keep`.
//
// Options: --only <text> (mutants whose name contains it), --runs <n> (generated
// scenarios per suite, default 1000), --keep (leave the copy for inspection).
import { spawnSync, execSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MUTANTS } from './catalogue.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** How much of a failing suite's output is kept to name what caught the mutant. */
const OUTPUT_TAIL_CHARACTERS = 400;
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPES = /\u001b\[[0-9;]*m/g;

function option(name) {
  const index = process.argv.indexOf(name);
  return index < 0 ? undefined : process.argv[index + 1];
}

/** A copy of HEAD with its dependencies installed from the local store and the native binding of this checkout. */
function prepareCopy() {
  const copy = mkdtempSync(join(tmpdir(), 'keel-mutants-'));
  execSync(`git -C "${ROOT}" archive --format=tar HEAD | tar -x -C "${copy}"`, { stdio: 'inherit' });
  cpSync(join(ROOT, 'packages/native/binding'), join(copy, 'packages/native/binding'), { recursive: true });
  const install = spawnSync('pnpm', ['install', '--frozen-lockfile', '--offline', '--ignore-scripts'], { cwd: copy, encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`pnpm install in the copy failed:\n${install.stdout}\n${install.stderr}`);
  return copy;
}

/** Applies every edit of `mutant` to the copy; returns the original text to restore, or a reason it does not apply. */
function plant(copy, mutant) {
  const path = join(copy, mutant.file);
  const original = readFileSync(path, 'utf8');
  let text = original;
  for (const edit of mutant.edits) {
    const count = text.split(edit.from).length - 1;
    if (count !== 1) return { error: `patch does not apply: expected its text once in ${mutant.file}, found it ${count} times` };
    text = text.replace(edit.from, edit.to);
  }
  writeFileSync(path, text);
  return { restore: () => writeFileSync(path, original) };
}

/** Runs one backend's conformance suite, stopping at its first failure; returns what caught the mutant, or null. */
function runSuite(copy, backend, runs) {
  const result = spawnSync('pnpm', ['exec', 'vitest', 'run', 'test/conformance.test.ts', '--bail', '1'], {
    cwd: join(copy, 'packages', backend),
    encoding: 'utf8',
    env: { ...process.env, KEEL_CONFORMANCE_RUNS: String(runs), NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  if (result.status === 0) return null;
  const output = `${result.stdout}\n${result.stderr}`.replace(ANSI_ESCAPES, '');
  const failed = /FAIL\s+test\/conformance\.test\.ts > [^>]*> (.*)/.exec(output)?.[1] ?? 'a conformance test';
  const why = /ConformanceViolation: (.*)/.exec(output)?.[1] ?? output.slice(-OUTPUT_TAIL_CHARACTERS);
  return `${backend}: "${failed.trim()}": ${why.trim()}`;
}

function main() {
  const started = Date.now();
  const only = option('--only');
  const runs = Number(option('--runs') ?? 1000);
  const mutants = MUTANTS.filter((mutant) => only === undefined || mutant.name.includes(only));
  const copy = prepareCopy();
  const rows = [];
  try {
    for (const mutant of mutants) {
      const began = Date.now();
      const planted = plant(copy, mutant);
      if (planted.error) {
        rows.push({ mutant, verdict: 'NOT APPLIED', detail: planted.error, seconds: 0 });
        continue;
      }
      let caught = null;
      try {
        for (const backend of mutant.packages) {
          caught = runSuite(copy, backend, runs);
          if (caught !== null) break;
        }
      } finally {
        planted.restore();
      }
      const seconds = Math.round((Date.now() - began) / 1000);
      const verdict = caught !== null ? 'caught' : mutant.survives ? 'survived (equivalent)' : 'SURVIVED';
      rows.push({ mutant, verdict, detail: caught ?? mutant.survives ?? `passed ${mutant.packages.join(', ')}`, seconds });
      console.log(`${verdict.padEnd(21)} ${String(seconds).padStart(3)} s  ${mutant.name}`);
    }
  } finally {
    if (process.argv.includes('--keep')) console.log(`copy kept at ${copy}`);
    else rmSync(copy, { recursive: true, force: true });
  }
  console.log('\n| mutant | kind | verdict | caught by | s |\n|---|---|---|---|---:|');
  for (const row of rows) console.log(`| ${row.mutant.name} | ${row.mutant.category} | ${row.verdict} | ${row.detail.replaceAll('|', '/').slice(0, 300)} | ${row.seconds} |`);
  const caught = rows.filter((row) => row.verdict === 'caught').length;
  const equivalent = rows.filter((row) => row.verdict === 'survived (equivalent)').length;
  console.log(`\n${caught} of ${rows.length} mutants caught (${equivalent} known equivalent) in ${Math.round((Date.now() - started) / 1000)} s`);
  process.exitCode = caught + equivalent === rows.length ? 0 : 1;
}

main();
