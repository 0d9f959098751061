// Run by optional-libraries.int.test.ts in a child process whose environment points the engine at
// OpenCL and UCX libraries that are not there: prints what the engine offers, as JSON.
import { createIndex, devices, transports } from '@ragwire/native';

async function main(): Promise<void> {
  const cpu = createIndex({ dim: 4, metric: 'l2', kind: 'flat' });
  await cpu.add(Uint32Array.of(1, 2), Float32Array.of(0, 0, 0, 1, 1, 1, 1, 1));
  const found = await cpu.search(Float32Array.of(1, 1, 1, 1), 1);
  let opencl: { code?: string; message: string } | null = null;
  try {
    const dev = createIndex({ dim: 4, metric: 'l2', kind: 'flat', device: 'opencl' });
    await dev.add(Uint32Array.of(1), Float32Array.of(0, 0, 0, 1));
    await dev.search(Float32Array.of(1, 1, 1, 1), 1);
  } catch (error) {
    opencl = { code: (error as { code?: string }).code, message: (error as Error).message };
  }
  const report = { devices: devices().map((d) => d.kind), cpuLabel: found.labels[0], opencl, ucx: transports().ucx };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

void main();
