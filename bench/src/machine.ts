/** What a benchmark ran on, printed and written with every result. */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { engineThreads, isa } from '@ragwire/native';

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  isa: string;
  engineThreads: number;
  node: string;
  platform: string;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: fall through
  }
  return cpus()[0]?.model ?? 'unknown';
}

export function describeMachine(): Machine {
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    isa: isa(),
    engineThreads: engineThreads(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, ragwire ISA ${m.isa} with ${m.engineThreads} engine threads, Node ${m.node} (${m.platform})`;
}
