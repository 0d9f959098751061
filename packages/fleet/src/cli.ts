#!/usr/bin/env node
// ragwire-fleet: the operator's view of a fleet's catalog. Shard maps change only by compare-and-set.
import { Command } from 'commander';
import { FleetCatalog, evenShardMap } from './catalog';
import { Membership } from './membership';
import { connectNats } from './nats-connection';

const program = new Command('ragwire-fleet')
  .description('Inspect and set a ragwire fleet\'s shard maps and members (NATS JetStream KV).')
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
    const shards = o.shards.split(';').map((s) => s.split(',').map((m) => m.trim()).filter(Boolean));
    const map = evenShardMap(o.buckets ?? 1024, shards);
    const revision = await withCatalog((c) => c.casShardMap(o.collection, map, 0));
    process.stdout.write(JSON.stringify({ collection: o.collection, epoch: map.epoch, revision, shards }) + '\n');
  });

program
  .command('map-show')
  .description('print a collection\'s shard map: epoch, revision, buckets per shard')
  .requiredOption('--collection <name>')
  .action(async (o: { collection: string }) => {
    const current = await withCatalog((c) => c.shardMap(o.collection));
    if (!current) {
      process.stdout.write(JSON.stringify({ collection: o.collection, map: null }) + '\n');
      return;
    }
    const { map, revision } = current;
    const buckets = map.shards.map((_, s) => map.owner.filter((o) => o === s).length);
    process.stdout.write(JSON.stringify({ collection: o.collection, epoch: map.epoch, revision, shards: map.shards, buckets }) + '\n');
  });

program
  .command('members')
  .description('list the live members (heartbeat younger than the TTL)')
  .action(async () => {
    const members = await withCatalog(async (_c, nc) => (await Membership.open(nc, { prefix: globals().prefix })).members());
    process.stdout.write(JSON.stringify({ members }) + '\n');
  });

program.parseAsync().catch((error: Error & { code?: string }) => {
  process.stderr.write(`ragwire-fleet: ${error.code ? `${error.code}: ` : ''}${error.message}\n`);
  process.exit(2);
});
