/*
 * Device failures give typed errors and leave the CPU path working: a device
 * the machine lacks, a tile that cannot fit, kernels that fail to build, and
 * options no device serves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceKernelError, DeviceOutOfMemoryError, DeviceUnavailableError, InvalidArgumentError, LimitExceededError } from '@ragwire/protocol';
import { createIndex, devices, type IndexOptions } from '@ragwire/native';
import { DEVICE_TARGETS, HAS_CUDA, HAS_OPENCL, NO_DEVICE } from './device-support';
import { expectRagwireError, expectRagwireErrorSync, labelRange } from './support';

const DIM = 16;
const vectors = (n: number): Float32Array => Float32Array.from({ length: n * DIM }, (_, i) => Math.sin(i * 0.71));
const loose = <T>(v: unknown): T => v as T;

/** The CPU engine still adds and searches after a device failure. */
async function expectCpuWorks(): Promise<void> {
  const cpu = createIndex({ dim: DIM, metric: 'l2', kind: 'flat' });
  try {
    await cpu.add(labelRange(50), vectors(50));
    const r = await cpu.search(vectors(50).subarray(3 * DIM, 4 * DIM), 1);
    expect(r.labels[0]).toBe(3);
    expect(cpu.stats().device).toBe('cpu');
  } finally {
    cpu.close();
  }
}

describe('device options', () => {
  it('an unknown device name is refused', () => {
    expectRagwireErrorSync(
      () => createIndex(loose({ dim: DIM, metric: 'l2', kind: 'flat', device: 'tpu' })),
      InvalidArgumentError,
      'RAGWIRE_ERR_INVALID_ARGUMENT',
    );
    expectRagwireErrorSync(
      () => createIndex({ dim: DIM, metric: 'l2', kind: 'flat', device: 'cpu', deviceTileRows: 0 }),
      InvalidArgumentError,
      'RAGWIRE_ERR_INVALID_ARGUMENT',
    );
  });

  it.skipIf(HAS_CUDA)('cuda without a CUDA device is DeviceUnavailableError, and the CPU still works', async () => {
    expectRagwireErrorSync(
      () => createIndex({ dim: DIM, metric: 'l2', kind: 'flat', device: 'cuda' }),
      DeviceUnavailableError,
      'RAGWIRE_ERR_DEVICE_UNAVAILABLE',
    );
    await expectCpuWorks();
  });

  it.skipIf(HAS_OPENCL)('opencl without an OpenCL device is DeviceUnavailableError', async () => {
    expectRagwireErrorSync(
      () => createIndex({ dim: DIM, metric: 'l2', kind: 'flat', device: 'opencl' }),
      DeviceUnavailableError,
      'RAGWIRE_ERR_DEVICE_UNAVAILABLE',
    );
    await expectCpuWorks();
  });

  it('onDevice must be a boolean', () => {
    const index = createIndex({ dim: DIM, metric: 'l2', kind: 'flat' });
    try {
      expectRagwireErrorSync(() => index.searchSync(vectors(1), 1, loose({ onDevice: 'no' })), InvalidArgumentError, 'RAGWIRE_ERR_INVALID_ARGUMENT');
    } finally {
      index.close();
    }
  });

  it("'auto' takes a GPU when there is one, else the CPU", async () => {
    const index = createIndex({ dim: DIM, metric: 'l2', kind: 'flat', device: 'auto' });
    try {
      const gpu = devices().find((d) => d.kind === 'cuda') ?? devices().find((d) => d.kind === 'opencl' && d.gpu);
      expect(index.stats().device).toBe(gpu ? gpu.name : 'cpu');
      await index.add(labelRange(50), vectors(50));
      expect((await index.search(vectors(50).subarray(7 * DIM, 8 * DIM), 1)).labels[0]).toBe(7);
    } finally {
      index.close();
    }
  });
});

describe.skipIf(DEVICE_TARGETS.length === 0)(DEVICE_TARGETS.length ? 'device failures' : `device failures (${NO_DEVICE})`, () => {
  afterEach(() => {
    delete process.env.RAGWIRE_OPENCL_BUILD_OPTIONS;
  });

  for (const device of DEVICE_TARGETS) {
    describe(device, () => {
      const opts = (extra: Partial<IndexOptions> = {}): IndexOptions => ({ dim: DIM, metric: 'l2', kind: 'flat', device, ...extra });

      it('sq8 storage and graph kinds are refused on a device', () => {
        expectRagwireErrorSync(() => createIndex(opts({ storage: 'sq8' })), InvalidArgumentError, 'RAGWIRE_ERR_INVALID_ARGUMENT');
        expectRagwireErrorSync(() => createIndex(opts({ kind: 'bq' })), InvalidArgumentError, 'RAGWIRE_ERR_INVALID_ARGUMENT');
      });

      it('k above 1024 is LimitExceededError; k 1024 works', async () => {
        const index = createIndex(opts());
        try {
          await index.add(labelRange(2000), vectors(2000));
          await expectRagwireError(() => index.search(vectors(1), 1025), LimitExceededError, 'RAGWIRE_ERR_LIMIT');
          const r = await index.search(vectors(1), 1024);
          expect(new Set(r.labels).size).toBe(1024);
        } finally {
          index.close();
        }
      });

      it('onDevice: false runs on the CPU kernels over the host rows: k above 1024 is answered, results equal', async () => {
        const index = createIndex(opts());
        try {
          await index.add(labelRange(2000), vectors(2000));
          const q = vectors(40).subarray(0, 20 * DIM);
          const [onCpu, onDev] = [await index.search(q, 10, { onDevice: false }), await index.search(q, 10, { onDevice: true })];
          expect(onCpu.labels).toEqual(onDev.labels);
          expect(onCpu.scores).toEqual(onDev.scores);
          const wide = index.searchSync(vectors(1), 1025, { onDevice: false });
          expect(new Set(wide.labels).size).toBe(1025);
          expect(index.stats().deviceKind).toBe(device);
        } finally {
          index.close();
        }
      });

      it('a tile larger than the device is DeviceOutOfMemoryError, and the CPU still works', async () => {
        const dev = devices().find((d) => d.kind === device)!;
        // 65,536 dims x 4 bytes = 256 KiB a row: this many rows exceed the device's memory.
        const rows = Math.min(0xffffffff, Math.ceil(dev.memoryBytes / (65_536 * 4)) + 1);
        expectRagwireErrorSync(() => createIndex(opts({ dim: 65_536, deviceTileRows: rows })), DeviceOutOfMemoryError, 'RAGWIRE_ERR_DEVICE_OUT_OF_MEMORY');
        await expectCpuWorks();
      });

      it.runIf(device === 'opencl')('kernels that fail to build give DeviceKernelError with the log; later builds work', async () => {
        // Extra compiler options reach the real OpenCL compiler: this one breaks every `float` in the source.
        process.env.RAGWIRE_OPENCL_BUILD_OPTIONS = '-Dfloat=no_such_type';
        expectRagwireErrorSync(() => createIndex(opts({ metric: 'ip' })), DeviceKernelError, 'RAGWIRE_ERR_DEVICE_KERNEL');
        expect(() => createIndex(opts({ metric: 'ip' }))).toThrow(/no_such_type/);
        delete process.env.RAGWIRE_OPENCL_BUILD_OPTIONS;
        await expectCpuWorks();
        const index = createIndex(opts({ metric: 'ip' }));
        try {
          await index.add(labelRange(50), vectors(50));
          expect((await index.search(vectors(50).subarray(5 * DIM, 6 * DIM), 1)).labels.length).toBe(1);
          expect(index.stats().deviceKind).toBe('opencl');
        } finally {
          index.close();
        }
      });
    });
  }
});
