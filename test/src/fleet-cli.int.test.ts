// ragwire-fleet against a real nats-server: the first shard map, its compare-and-set refusal, members.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { Membership } from '@ragwire/fleet';
import { startNats } from '@ragwire/processes';
import { REPO_ROOT, TS_NODE_ARGS } from './processes';

const run = promisify(execFile);
const CLI = join(REPO_ROOT, 'packages/fleet/src/cli.ts');

describe('ragwire-fleet CLI', () => {
  let nats: Awaited<ReturnType<typeof startNats>>;
  const fleet = (...args: string[]) => run('node', [...TS_NODE_ARGS, CLI, '--nats', nats.url, ...args], { cwd: REPO_ROOT });

  beforeAll(async () => {
    nats = await startNats();
  }, 30_000);
  afterAll(async () => nats?.cleanup());

  it('puts a first shard map once, shows it, and lists members', async () => {
    const init = JSON.parse((await fleet('map-init', '--collection', 'docs', '--shards', 's0r0,s0r1;s1r0,s1r1', '--buckets', '64')).stdout);
    expect(init).toMatchObject({
      collection: 'docs',
      epoch: 1,
      shards: [
        ['s0r0', 's0r1'],
        ['s1r0', 's1r1'],
      ],
    });
    const shown = JSON.parse((await fleet('map-show', '--collection', 'docs')).stdout);
    expect(shown).toMatchObject({ epoch: 1, revision: init.revision, buckets: [32, 32] });
    const again = await fleet('map-init', '--collection', 'docs', '--shards', 'x').then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(again?.code).toBe(2);
    expect(again?.stderr).toContain('RAGWIRE_ERR_STALE_EPOCH');
    const nc = await connect({ servers: nats.url });
    const stop = (await Membership.open(nc)).heartbeat({ id: 'm1', addresses: ['tcp://127.0.0.1:7070'] }, 1000, () => undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect(JSON.parse((await fleet('members')).stdout).members.map((m: { id: string }) => m.id)).toEqual(['m1']);
    stop();
    await nc.close();
  }, 60_000);
});
