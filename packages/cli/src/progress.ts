import { SingleBar, Presets } from 'cli-progress';

/** A progress bar on a terminal's stderr; nothing at all when stderr is not a terminal or output is JSON. */
export function progressBar(enabled: boolean, label: string): { update(done: number, total: number): void; stop(): void } {
  if (!enabled || process.stderr.isTTY !== true) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ stream: process.stderr, format: `${label} [{bar}] {percentage}%`, hideCursor: true }, Presets.shades_classic);
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(Math.max(total, 1), 0);
        started = true;
      }
      bar.setTotal(Math.max(total, 1));
      bar.update(done);
    },
    stop() {
      // Idempotent: a command stops its bar before printing, and again on its way out after a failure.
      if (started) bar.stop();
      started = false;
    },
  };
}
