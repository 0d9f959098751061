// Plain-text tables of where each answer's time went.
import type { AbReport } from '@ragwire/proxy';
import type { Answer } from './rag-chain';

const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(x < 1 ? 3 : x < 10 ? 2 : 1));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** One row per answer: embed, retrieve, each shard, merge, TTFT, generate, total (ms). */
export function stageTable(answers: Answer[]): string {
  const shardCount = Math.max(0, ...answers.map((a) => a.stages.shards?.length ?? 0));
  const shardHeads = Array.from({ length: shardCount }, (_, i) => (shardCount === 1 ? 'search' : `shard ${i}`));
  const rows = answers.map((a, i) => [
    `Q${i + 1}`,
    ms(a.stages.embed),
    ms(a.stages.retrieve),
    ...Array.from({ length: shardCount }, (_, s) => ms(a.stages.shards?.[s])),
    ms(a.stages.merge),
    ms(a.stages.ttft),
    ms(a.stages.generate),
    ms(a.stages.total),
  ]);
  const median = (pick: (a: Answer) => number | undefined) => {
    const xs = answers
      .map(pick)
      .filter((x): x is number => x !== undefined && !Number.isNaN(x))
      .sort((a, b) => a - b);
    return xs.length === 0 ? undefined : xs[Math.floor((xs.length - 1) / 2)];
  };
  rows.push([
    'p50',
    ms(median((a) => a.stages.embed)),
    ms(median((a) => a.stages.retrieve)),
    ...Array.from({ length: shardCount }, (_, s) => ms(median((a) => a.stages.shards?.[s]))),
    ms(median((a) => a.stages.merge)),
    ms(median((a) => a.stages.ttft)),
    ms(median((a) => a.stages.generate)),
    ms(median((a) => a.stages.total)),
  ]);
  return table(['ms', 'embed', 'retrieve', ...shardHeads, 'merge', 'TTFT', 'generate', 'total'], rows);
}

/** Each question, its sources and the start of its answer. */
export function answerList(answers: Answer[]): string {
  return answers
    .map((a, i) => `Q${i + 1} ${a.question}\n   sources: ${[...new Set(a.sources)].join(', ') || '(none)'}\n   answer:  ${shorten(a.answer, 140)}`)
    .join('\n');
}

/** The A/B: both paths' stages side by side and the speedup. */
export function abTable(r: AbReport): string {
  const stages = Object.keys(r.baseline.stages);
  const rows = stages.map((s) => [s, ms(r.baseline.stages[s]), ms(r.ragwire.stages[s]), `${(r.baseline.stages[s]! / r.ragwire.stages[s]!).toFixed(2)}x`]);
  rows.push(['total', ms(r.baseline.totalMs), ms(r.ragwire.totalMs), `${r.speedup.toFixed(2)}x`]);
  return `A/B: "${r.question}"\n${table(['ms', r.baseline.label, r.ragwire.label, 'speedup'], rows)}`;
}
