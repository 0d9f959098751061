/** Progress for long steps: a bar on a terminal, start and end lines otherwise. */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

const interactive = process.stderr.isTTY === true;

export function startProgress(label: string, total: number): Progress {
  const started = performance.now();
  if (interactive) {
    const bar = new cliProgress.SingleBar(
      { format: `${label.padEnd(34)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      update: (done) => bar.update(done),
      stop: () => {
        bar.update(total);
        bar.stop();
      },
    };
  }
  process.stderr.write(`${label} ...\n`);
  return {
    update: () => undefined,
    stop: () => process.stderr.write(`${label}: done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`),
  };
}

/** Runs `step` under a progress display. */
export async function withProgress<T>(label: string, total: number, step: (p: Progress) => Promise<T> | T): Promise<T> {
  const p = startProgress(label, total);
  try {
    return await step(p);
  } finally {
    p.stop();
  }
}
