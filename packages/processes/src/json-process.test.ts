import { describe, expect, it } from 'vitest';
import { processCpuSeconds } from './cpu';
import { startJsonProcess } from './json-process';

const script = (code: string) => ['-e', code];

describe('startJsonProcess', () => {
  it('resolves on the announcing line, skipping others, and stops the process', async () => {
    const p = await startJsonProcess({
      name: 'announcer',
      args: script(
        `console.log('booting'); console.log(JSON.stringify({ msg: 'other' })); console.log(JSON.stringify({ msg: 'listening', url: 'x' })); setInterval(() => {}, 1000);`,
      ),
      ready: (json) => json?.msg === 'listening',
    });
    expect(p.announcement).toEqual({ msg: 'listening', url: 'x' });
    expect(p.child.exitCode).toBeNull();
    await p.stop();
    expect(await p.exited).toBe('SIGTERM');
  });

  it('matches a plain-text line too', async () => {
    const p = await startJsonProcess({
      name: 'plain',
      args: script(`console.log('Ready for connections'); setInterval(() => {}, 1000);`),
      ready: (_json, line) => line.includes('Ready'),
    });
    expect(p.announcement).toEqual({ line: 'Ready for connections' });
    await p.kill9();
    expect(await p.exited).toBe('SIGKILL');
  });

  it('rejects with the stderr when the process exits before it is ready', async () => {
    const started = startJsonProcess({ name: 'crasher', args: script(`console.error('bad flag --frob'); process.exit(3);`), ready: () => false });
    await expect(started).rejects.toThrow(/crasher exited \(3\) before it was ready: bad flag --frob/);
  });

  it('kills a process that is not ready in time', async () => {
    const started = startJsonProcess({ name: 'silent', args: script(`setInterval(() => {}, 1000);`), ready: () => false, timeoutMs: 300 });
    await expect(started).rejects.toThrow(/silent was not ready within 300 ms/);
  });

  it('reads a process CPU time from /proc', () => {
    const cpu = processCpuSeconds(process.pid);
    if (process.platform === 'linux') expect(cpu).toBeGreaterThan(0);
    else expect(cpu).toBeNaN();
  });
});
