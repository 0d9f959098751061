// Issue 13 §5: removing a shard from a fleet of 4 while clients write and query, through the real
// ragwire-fleet CLI (a child process), on a real nats-server and real shard server processes. The removed
// shard's buckets go to the 3 remaining shards, whose members already hold others: they load them up to
// their log position, then apply them from the log. After the move: every acknowledged id is on exactly
// one remaining shard (and no deleted id on any), no query failed or counted a document twice, the buckets are balanced within 10%,
// the removed member holds nothing after the grace, and the map no longer names it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetCatalog, bucketOf } from '@ragwire/fleet';
import { fleetCli, lookUpEach, settleDocs, startFleetSession, writersAndQueriers, type FleetSession } from './fleet-harness';
import { REPO_ROOT, TS_NODE_ARGS, killAll } from './processes';

const DIM = 8;
const MIN_DOCS = 3000;
const BATCH = 20;
// Writers pause between batches: a few thousand writes over the whole move.
const WRITE_PAUSE_MS = 100;
const GRACE_MS = 3000;
const REMOVED = 1;
// d0 .. d(DELETED - 1) are deleted before the move.
const DELETED = 200;
const collection = 'drain';

describe('fleet: removing a shard while clients write and query', () => {
  let session: FleetSession;

  beforeAll(async () => {
    session = await startFleetSession({ collection, shards: 4, replicas: 1, dim: DIM });
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    killAll();
  });

  it("moves the removed shard's buckets to the others with no write lost, no query failed, each document once", async () => {
    const { nats, fleet } = session;
    let movedAt = 0;
    // Writes go on for a while after the switch: the remaining shards apply the moved buckets, the removed one passes them over.
    const load = writersAndQueriers(session, {
      writers: 2,
      readers: 2,
      batch: BATCH,
      pauseMs: WRITE_PAUSE_MS,
      until: () => movedAt > 0 && Date.now() - movedAt > 1500 && load.next >= MIN_DOCS,
    });
    // Deletes before the move (by id, and by filter on the every-bucket subject): the remaining shards
    // replay them for the buckets they load, restricted to those buckets.
    await load.acknowledged(MIN_DOCS / 3);
    const deleter = session.open();
    const evens = Array.from({ length: DELETED / 2 }, (_, i) => 2 * i);
    const odds = evens.map((n) => n + 1);
    await deleter.delete({ ids: evens.map((n) => `d${n}`) });
    await deleter.delete({ filter: { must: [{ key: 'n', in: odds }] } });
    await load.acknowledged(MIN_DOCS / 2);
    const result = (await fleetCli(
      nats.url,
      'remove-shard',
      String(REMOVED),
      '--collection',
      collection,
      '--grace-ms',
      String(GRACE_MS),
      '--timeout-ms',
      '120000',
    )) as { epoch: number; moved: number; buckets: number[]; shards: string[][]; caughtUpTo: number; catchUpMs: number };
    const ackedAtSwitch = load.acked;
    movedAt = Date.now();
    await load.finish();
    const { next: total, queries, failed, doubled, failures } = load;
    expect(load.acked).toBe(total);

    // The map no longer names the removed shard; its buckets are spread within 10% of the mean.
    expect(result.epoch).toBe(2);
    expect(result.shards).toEqual([['s0r0'], ['s2r0'], ['s3r0']]);
    expect(result.moved).toBe(256);
    const mean = 1024 / 3;
    for (const b of result.buckets) expect(Math.abs(b - mean)).toBeLessThanOrEqual(mean * 0.1);
    expect(await fleetCli(nats.url, 'map-show', '--collection', collection)).toMatchObject({ epoch: 2, buckets: result.buckets, pending: null });
    const map = await session.currentMap();
    expect(map.shards.flat()).not.toContain(`s${REMOVED}r0`);

    // Every remaining member converges to exactly the documents of its shard's buckets; the removed one
    // drops everything after the grace.
    const idsPerShard = new Array<number>(3).fill(0);
    for (let n = DELETED; n < total; n++) idsPerShard[map.owner[bucketOf(`d${n}`, map.buckets)]!]!++;
    const expected: Record<string, number> = { s0r0: idsPerShard[0]!, s1r0: 0, s2r0: idsPerShard[1]!, s3r0: idsPerShard[2]! };
    const docs = await settleDocs(session, new Map(fleet.members.flat().map((m) => [m.id, m.url!] as const)), expected);
    console.log(
      `remove-shard: ${total} writes acknowledged (${ackedAtSwitch} before the switch), ${result.moved} buckets moved, catch-up ${result.catchUpMs} ms to log position ${result.caughtUpTo}; ` +
        `buckets per shard ${JSON.stringify(result.buckets)}; docs per member ${JSON.stringify(docs)} vs expected ${JSON.stringify(expected)}; ` +
        `${queries} queries during the move, ${failed} failed, ${doubled} with a document twice${failures.length ? `: ${failures.join(' | ')}` : ''}`,
    );
    expect(failed).toBe(0);
    expect(doubled).toBe(0);
    expect(queries).toBeGreaterThan(0);
    expect(docs).toEqual(expected);
    expect(idsPerShard.reduce((a, b) => a + b, 0)).toBe(total - DELETED);

    // The drained member can be stopped: a client that learns the 3-shard map finds each id exactly once.
    await fleet.kill9(REMOVED, 0);
    const reader = session.open();
    const all = Array.from({ length: total }, (_, n) => n);
    // (a deleted id answered again is `unexpected`)
    expect(await lookUpEach(reader, all, DIM, (n) => n >= DELETED)).toEqual({ found: total - DELETED, missing: [], unexpected: [] });
    expect(reader.shardCount).toBe(3);
  }, 420_000);

  it('refuses, with a code, to remove an unknown shard, the last shard, or while a move is pending', async () => {
    const { nats, nc } = session;
    const refusal = (...args: string[]) =>
      fleetCli(nats.url, ...args).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
    const unknown = await refusal('remove-shard', '3', '--collection', collection);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/RAGWIRE_ERR_INVALID_ARGUMENT: shard must be an integer in 0\.\.2, got 3/);
    // A pending move (as an interrupted command leaves it) blocks another.
    const catalog = await FleetCatalog.open(nc);
    const { map, revision } = (await catalog.shardMap(collection))!;
    await catalog.casShardMap(collection, { ...map, next: { shards: map.shards, owner: map.owner, id: 'interrupted' } }, revision);
    const pending = await refusal('remove-shard', '0', '--collection', collection);
    expect(pending.code).toBe(2);
    expect(pending.stderr).toMatch(/RAGWIRE_ERR_INVALID_ARGUMENT: a move of drain \(interrupted\) is pending/);
    expect(await fleetCli(nats.url, 'abort-move', '--collection', collection)).toMatchObject({ aborted: 'interrupted', epoch: 2 });
    // A collection of one shard keeps it.
    await fleetCli(nats.url, 'map-init', '--collection', 'solo', '--shards', 'x0', '--buckets', '16');
    const last = await refusal('remove-shard', '0', '--collection', 'solo');
    expect(last.code).toBe(2);
    expect(last.stderr).toMatch(/RAGWIRE_ERR_INVALID_ARGUMENT: shard 0 is the collection's only shard/);
    const help = await promisify(execFile)('node', [...TS_NODE_ARGS, join(REPO_ROOT, 'packages/fleet/src/cli.ts'), '--help'], { cwd: REPO_ROOT });
    expect(help.stdout).toMatch(/remove-shard \[options\] <shard>/);
  }, 120_000);
});
