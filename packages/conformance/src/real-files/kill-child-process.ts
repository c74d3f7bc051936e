import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The module hooks that let a plain `node` child run the workspace's TypeScript sources. */
export const TYPESCRIPT_HOOKS_PATH = fileURLToPath(new URL('../../hooks/register-ts.mjs', import.meta.url));

export interface KillChildOptions {
  /** The child's script (TypeScript or JavaScript); it reports each acknowledgement as a line on stdout. */
  script: string;
  args: readonly string[];
  /** Called with each whole line the child prints; returning true SIGKILLs the child at once. */
  onLine(line: string): boolean;
}

export interface KilledChild {
  /** 'SIGKILL' when the kill landed; anything else means the child ended on its own. */
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/**
 * Runs a writer child and SIGKILLs it the moment `onLine` says so. The kill follows what
 * the child reported, never a timer, so the test is about acknowledgements, not timing.
 */
export function runChildUntilKilled(options: KillChildOptions): Promise<KilledChild> {
  const child = spawn(process.execPath, ['--import', TYPESCRIPT_HOOKS_PATH, options.script, ...options.args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let partial = '';
  let stderr = '';
  let killed = false;
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (killed) return;
      if (options.onLine(line)) {
        killed = true;
        child.kill('SIGKILL');
      }
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ signal, code, stderr }));
  });
}
