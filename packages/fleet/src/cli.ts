#!/usr/bin/env node
// ragwire-fleet: the operator's view of a fleet's catalog. Shard maps change only by compare-and-set.
import { Command } from 'commander';
import { InvalidArgumentError } from '@ragwire/protocol';
import { FleetCatalog, evenShardMap } from './catalog';
import { Membership } from './membership';
import { connectNats } from './nats-connection';
import { abortMove, rebalance, type RebalanceOptions } from './rebalance';
import { bucketCounts, planAddShard, planRemoveShard, planSetReplicas } from './rebalance-plan';

const program = new Command('ragwire-fleet')
  .description("Inspect and set a ragwire fleet's shard maps and members (NATS JetStream KV).")
  .option('--nats <url>', 'NATS URL; repeat for every node of a cluster', (v: string, p: string[] = []) => [...p, v])
  .option('--prefix <prefix>', 'subject and bucket prefix (default ragwire)');

function globals(): { servers: string[]; prefix: string } {
  const o = program.opts<{ nats?: string[]; prefix?: string }>();
  return { servers: o.nats ?? ['nats://127.0.0.1:4222'], prefix: o.prefix ?? 'ragwire' };
}

async function withCatalog<T>(fn: (catalog: FleetCatalog, nc: Awaited<ReturnType<typeof connectNats>>) => Promise<T>): Promise<T> {
  const { servers, prefix } = globals();
  const nc = await connectNats({ servers });
  try {
    return await fn(await FleetCatalog.open(nc, { prefix }), nc);
  } finally {
    await nc.close();
  }
}

program
  .command('map-init')
  .description('put the first shard map of a collection: buckets spread evenly over shards (fails if one exists)')
  .requiredOption('--collection <name>')
  .requiredOption('--shards <spec>', 'shards separated by ";", replicas (member ids) by ",": "s0r0,s0r1;s1r0,s1r1"')
  .option('--buckets <n>', 'virtual buckets (default 1024)', (v) => Number(v))
  .action(async (o: { collection: string; shards: string; buckets?: number }) => {
    const shards = o.shards.split(';').map((s) =>
      s
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean),
    );
    const map = evenShardMap(o.buckets ?? 1024, shards);
    const revision = await withCatalog((c) => c.casShardMap(o.collection, map, 0));
    process.stdout.write(JSON.stringify({ collection: o.collection, epoch: map.epoch, revision, shards }) + '\n');
  });

program
  .command('map-show')
  .description("print a collection's shard map: epoch, revision, buckets per shard")
  .requiredOption('--collection <name>')
  .action(async (o: { collection: string }) => {
    const current = await withCatalog((c) => c.shardMap(o.collection));
    if (!current) {
      process.stdout.write(JSON.stringify({ collection: o.collection, map: null }) + '\n');
      return;
    }
    const { map, revision } = current;
    const buckets = bucketCounts(map);
    const pending = map.next ? { move: map.next.id, shards: map.next.shards, buckets: bucketCounts(map.next) } : null;
    process.stdout.write(JSON.stringify({ collection: o.collection, epoch: map.epoch, revision, shards: map.shards, buckets, pending }) + '\n');
  });

program
  .command('members')
  .description('list the live members (heartbeat younger than the TTL)')
  .action(async () => {
    const members = await withCatalog(async (_c, nc) => (await Membership.open(nc, { prefix: globals().prefix })).members());
    process.stdout.write(JSON.stringify({ members }) + '\n');
  });

function memberList(v: string): string[] {
  const ids = v
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new InvalidArgumentError(`--replicas must list member ids separated by ",", got ${JSON.stringify(v)}`);
  return ids;
}

function shardIndex(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`a shard index must be a whole number, got ${JSON.stringify(v)}`);
  return n;
}

function positiveMs(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number of ms, got ${JSON.stringify(v)}`);
    return n;
  };
}

interface MoveFlags {
  collection: string;
  graceMs?: number;
  timeoutMs?: number;
}

function moveCommand(name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .requiredOption('--collection <name>')
    .option(
      '--grace-ms <ms>',
      'old owners keep the buckets they gave away this long, for queries routed by the previous epoch (default 30000)',
      positiveMs('--grace-ms'),
    )
    .option(
      '--timeout-ms <ms>',
      'the new members must catch up with the log within this, else RAGWIRE_ERR_REPLICA_BEHIND and the move stays pending (default 300000)',
      positiveMs('--timeout-ms'),
    );
}

async function runMove(o: MoveFlags, plan: Parameters<typeof rebalance>[1]): Promise<void> {
  const options: RebalanceOptions = {
    collection: o.collection,
    prefix: globals().prefix,
    ...(o.graceMs !== undefined ? { dropGraceMs: o.graceMs } : {}),
    ...(o.timeoutMs !== undefined ? { catchUpTimeoutMs: o.timeoutMs } : {}),
    onProgress: (event) => process.stderr.write(JSON.stringify(event) + '\n'),
  };
  const result = await withCatalog((_c, nc) => rebalance(nc, plan, options));
  process.stdout.write(JSON.stringify(result) + '\n');
}

moveCommand('add-shard', 'add a shard of new members: they load the buckets that balance the map from the log, then the map switches (epoch + 1)')
  .requiredOption('--replicas <ids>', 'the new shard\'s member ids, separated by ","', memberList)
  .action((o: MoveFlags & { replicas: string[] }) => runMove(o, (map) => planAddShard(map, o.replicas)));

moveCommand(
  'remove-shard',
  'drain a shard: its buckets go to the remaining shards (balanced), whose members load them from the log; after the switch and the grace its members hold nothing and can be stopped',
)
  .argument('<shard>', 'the index of the shard to remove (as map-show lists them); the shards after it move down one index', shardIndex)
  .action((shard: number, o: MoveFlags) => runMove(o, (map) => planRemoveShard(map, shard)));

moveCommand('set-replicas', 'change the members of one shard: new members load its buckets first, members left out stop serving it')
  .requiredOption('--shard <n>', 'shard index', shardIndex)
  .requiredOption('--replicas <ids>', 'the shard\'s member ids after the change, separated by ","', memberList)
  .action((o: MoveFlags & { shard: number; replicas: string[] }) => runMove(o, (map) => planSetReplicas(map, o.shard, o.replicas)));

moveCommand('resume', 'finish a pending move (after a timeout or an interrupted command)').action((o: MoveFlags) => runMove(o, 'resume'));

program
  .command('abort-move')
  .description('drop a pending move: the map keeps its layout and epoch; members given buckets stop loading them and drop what they loaded after the grace')
  .requiredOption('--collection <name>')
  .action(async (o: { collection: string }) => {
    const result = await withCatalog((_c, nc) => abortMove(nc, { collection: o.collection, prefix: globals().prefix }));
    process.stdout.write(JSON.stringify(result) + '\n');
  });

program.parseAsync().catch((error: Error & { code?: string }) => {
  process.stderr.write(`ragwire-fleet: ${error.code ? `${error.code}: ` : ''}${error.message}\n`);
  process.exit(2);
});
