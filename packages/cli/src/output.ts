import { isKeelError } from '@keel/core';

/** Exit statuses every command shares (verify's 1 means "damage found"). */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A failure the command has already explained: exits with `status`. */
export class CommandFailure extends Error {
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/**
 * One line on stderr with the KeelError code, and the exit status: 2 for what is not a
 * keel store or a wrong argument (usage), 1 for everything else.
 */
export function reportError(error: unknown): number {
  if (error instanceof CommandFailure) {
    if (error.message !== '') process.stderr.write(`keel: ${error.message}\n`);
    return error.status;
  }
  if (isKeelError(error)) {
    process.stderr.write(`keel: ${error.code}: ${error.message}\n`);
    return error.code === 'KEEL_NOT_FOUND' || error.code === 'KEEL_BAD_ARGUMENT' ? EXIT_USAGE : EXIT_FAILED;
  }
  process.stderr.write(`keel: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT_FAILED;
}

/** `--json`: one JSON document on stdout and nothing else there. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Plain `key: value` lines for people. */
export function printFields(fields: Record<string, unknown>, indent = ''): void {
  for (const [key, value] of Object.entries(fields)) {
    if (Array.isArray(value)) {
      process.stdout.write(`${indent}${key}:\n`);
      for (const item of value) process.stdout.write(`${indent}  - ${typeof item === 'object' && item !== null ? JSON.stringify(item) : String(item)}\n`);
    } else if (value !== null && typeof value === 'object') {
      process.stdout.write(`${indent}${key}:\n`);
      printFields(value as Record<string, unknown>, `${indent}  `);
    } else {
      process.stdout.write(`${indent}${key}: ${String(value)}\n`);
    }
  }
}
