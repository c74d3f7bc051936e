// What the configured registry holds, asked through npm itself so that the registry and
// its credentials are whatever npm is configured for. Look-ups run side by side: each is
// a process start and a round trip.
import { execFile } from 'node:child_process';

function npm(args, env) {
  return new Promise((resolve) => {
    execFile('npm', args, { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ status: error ? (error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function isPublished({ name, version }, env) {
  const result = await npm(['view', `${name}@${version}`, 'version', '--json'], env);
  if (result.status === 0) return result.stdout.trim().length > 0;
  if (/E404|404 Not Found|is not in this registry/.test(result.stderr)) return false;
  throw new Error(`registry lookup: npm view ${name}@${version} failed:\n${result.stderr.trim()}`);
}

/** The entries (`{ name, version }`) the registry holds, in the order given. */
export async function publishedOf(entries, env = process.env) {
  const found = await Promise.all(entries.map((entry) => isPublished(entry, env)));
  return entries.filter((_, index) => found[index]);
}

export async function unpublishAll(entries, env = process.env) {
  await Promise.all(entries.map(({ name, version }) => npm(['unpublish', `${name}@${version}`, '--force'], env)));
}
