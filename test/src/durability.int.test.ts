// Issue 3 §5: kill -9 during concurrent ingest, 20 rounds; every acknowledged write survives.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { ShardClient } from '@ragwire/client';
import { openStore } from '@ragwire/store';
import { AckedRanges, DURABILITY_COLLECTION, DURABILITY_DIM, findLost, writerBatch } from './durability-data';
import { REPO_ROOT, TS_NODE_ARGS, killAll, startShardProcess, tempDir } from './processes';

const ROUNDS = Number(process.env.RAGWIRE_DURABILITY_ROUNDS ?? 20);
const LANES = 4;
const BATCH = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** 100-300 ms of ingest before the kill: lands at a different point of the commit cycle each round. */
const ingestTime = (round: number) => 100 + ((round * 137) % 200);

afterAll(() => killAll());

describe('durability under kill -9', () => {
  it(`a shard server loses no acknowledged write over ${ROUNDS} kills`, async () => {
    const dir = tempDir('durable-shard');
    const acked = new AckedRanges();
    let next = 0;
    let server = await startShardProcess({ dataDir: dir.path });
    let client = new ShardClient(server.addresses[0]!, { timeoutMs: 5000 });
    await client.createCollection({ collection: DURABILITY_COLLECTION, dim: DURABILITY_DIM, metric: 'l2', kind: 'flat', storage: 'f32' });
    const lostTotal: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      let stop = false;
      const lanes = Array.from({ length: LANES }, async () => {
        while (!stop) {
          const from = next;
          next += BATCH;
          try {
            await client.upsert({ collection: DURABILITY_COLLECTION, dim: DURABILITY_DIM, ...writerBatch(from, from + BATCH) });
            acked.add(from, from + BATCH);
          } catch {
            return; // the server is gone: this batch was never acknowledged
          }
        }
      });
      await sleep(ingestTime(round));
      await server.kill9();
      stop = true;
      await Promise.all(lanes);
      await client.close();

      server = await startShardProcess({ dataDir: dir.path });
      client = new ShardClient(server.addresses[0]!, { timeoutMs: 30_000 });
      const lost = await findLost(acked.all(), (q) => client.query({ collection: DURABILITY_COLLECTION, dim: DURABILITY_DIM, ...q }));
      lostTotal.push(...lost);
      expect(lost, `round ${round}`).toEqual([]);
    }
    console.log(`shard server: ${ROUNDS} kill -9 rounds, ${acked.count} acknowledged documents, ${lostTotal.length} lost`);
    await client.close();
    expect(await server.stop()).toBe(0);
    dir.cleanup();
  });

  it(`an embedded store in a child process loses no acknowledged write over ${ROUNDS} kills`, async () => {
    const dir = tempDir('durable-embedded');
    const acked = new AckedRanges();
    let next = 0;
    let lostTotal = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const child = spawn(process.execPath, [...TS_NODE_ARGS, join(REPO_ROOT, 'test/src/fixtures/embedded-writer.ts'), dir.path, String(next), String(LANES)], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((r) => child.once('exit', r));
      let ready!: () => void;
      const isReady = new Promise<void>((r) => (ready = r));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line === 'ready') ready();
        const m = /^ack (\d+) (\d+)$/.exec(line);
        if (m) acked.add(Number(m[1]), Number(m[2]));
      });
      await Promise.race([isReady, exited.then(() => Promise.reject(new Error('writer exited before ready')))]);
      await sleep(ingestTime(round));
      child.kill('SIGKILL');
      await exited;
      // The child claimed ranges up to some n; start the next child far past anything it could have written.
      next =
        Math.max(
          next,
          ...acked
            .all()
            .slice(-1)
            .map((n) => n + 1),
        ) + 100_000;

      const store = await openStore({ path: dir.path });
      try {
        const c = store.collection(DURABILITY_COLLECTION);
        const lost = await findLost(acked.all(), (q) => c.query(q));
        lostTotal += lost.length;
        expect(lost, `round ${round}`).toEqual([]);
      } finally {
        await store.close();
      }
    }
    console.log(`embedded store: ${ROUNDS} kill -9 rounds, ${acked.count} acknowledged documents, ${lostTotal} lost`);
    expect(acked.count).toBeGreaterThan(0);
    dir.cleanup();
  });
});
