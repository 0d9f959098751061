/**
 * The transport's floor (issue 14 §5, the 64-byte round trip): between two processes of one host,
 * the Node TCP echo and the ucx:// echo (both with JavaScript on each side), beside ragwire's UCX
 * byte stream with no JavaScript on either side (native/tools/ucx_pingpong.cpp: served connections
 * answering on their progress threads, polling and sleeping) and the same ping-pong over loopback
 * TCP in C. One run, side by side; ratios against the Node TCP echo. Then a frame of 1,000 1536-d
 * vectors (6,144,016 bytes) each way over the Node echoes and the C ping-pong: transfer throughput
 * (a frame that large always goes to JavaScript on a shard: only QUERY frames of 64 KiB or less are
 * answered natively).
 *
 *   pnpm --filter @ragwire/bench transport-floor [--rounds 20000] [--markdown]
 *   UCX_TLS=sm,self pnpm --filter @ragwire/bench transport-floor     (shared memory only)
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transports } from '@ragwire/native';
import { describeMachine, machineLine } from '../machine';
import { renderTable } from '../table';
import { echoLatency, ucxEchoLatency } from './load';
import { killChildren, startChild, stopChild } from './processes';
import { argValue } from '../args';
import { datedResultsPath } from '../results';

const argv = process.argv.slice(2);
const arg = argValue(argv);
const ROUNDS = Number(arg('rounds', '20000'));
const markdown = argv.includes('--markdown');
const log = (s: string) => process.stderr.write(`${s}\n`);
process.on('exit', killChildren);

const ucx = transports().ucx;
if (!ucx.available) throw new Error(`ucx:// is not available here: ${ucx.error}`);
const tls = process.env.UCX_TLS ?? 'default';
const machine = describeMachine();
log(machineLine(machine));

// The ping-pong tool, built beside the addon (EXCLUDE_FROM_ALL: built on demand).
const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'native');
log('building ragwire_ucx_pingpong ...');
execFileSync('cmake', ['--build', join(nativeDir, 'build'), '--target', 'ragwire_ucx_pingpong'], { stdio: ['ignore', 'ignore', 'inherit'] });
const tool = join(nativeDir, 'build', 'ragwire_ucx_pingpong');

interface PingPong {
  ucx: { p50_us: number; p99_us: number };
  tcp: { p50_us: number; p99_us: number };
}
const pingPong = (spinUs: number, bytes = 64, rounds = ROUNDS): PingPong =>
  JSON.parse(
    execFileSync(tool, ['--rounds', String(rounds), '--warmup', String(Math.ceil(rounds / 10)), '--spin-us', String(spinUs), '--bytes', String(bytes)], {
      encoding: 'utf8',
    }),
  ) as PingPong;
/** A QUERY frame of 1,000 1536-d vectors: 16 bytes of header and meta room plus the floats. */
const BIG = 1000 * 1536 * 4 + 16;
const BIG_ROUNDS = 100;

const echo = await startChild<{ port: number; ucxPort?: number; pid: number }>('echo-server.ts', []);
log('64-byte echo over node:net ...');
const nodeTcp = await echoLatency(echo.port, ROUNDS);
log('64-byte echo over ucx:// ...');
const nodeUcx = await ucxEchoLatency(echo.ucxPort!, ROUNDS);
await stopChild(echo.child);
log('64-byte ping-pong, no JavaScript, progress threads polling ...');
const polling = pingPong(-1);
log('64-byte ping-pong, no JavaScript, progress threads sleeping when idle ...');
const sleeping = pingPong(0);
log('1,000 x 1536-d frames over each path ...');
const bigEcho = await startChild<{ port: number; ucxPort?: number; pid: number }>('echo-server.ts', []);
const bigNodeTcp = await echoLatency(bigEcho.port, BIG_ROUNDS, BIG);
const bigNodeUcx = await ucxEchoLatency(bigEcho.ucxPort!, BIG_ROUNDS, BIG);
await stopChild(bigEcho.child);
const bigC = pingPong(-1, BIG, BIG_ROUNDS).tcp;

const f = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 2 });
const base = nodeTcp.p50Us;
const rows: string[][] = [
  ['Node TCP echo (node:net, both sides JavaScript)', f(nodeTcp.p50Us), f(nodeTcp.p99Us), '1.00'],
  [`ucx:// echo, both sides JavaScript (UCX_TLS=${tls})`, f(nodeUcx.p50Us), f(nodeUcx.p99Us), f(base / nodeUcx.p50Us)],
  ['C TCP ping-pong, blocking sockets', f(polling.tcp.p50_us), f(polling.tcp.p99_us), f(base / polling.tcp.p50_us)],
  [`ragwire UCX stream, no JavaScript, polling (UCX_TLS=${tls})`, f(polling.ucx.p50_us), f(polling.ucx.p99_us), f(base / polling.ucx.p50_us)],
  [`ragwire UCX stream, no JavaScript, sleeping when idle (UCX_TLS=${tls})`, f(sleeping.ucx.p50_us), f(sleeping.ucx.p99_us), f(base / sleeping.ucx.p50_us)],
];
const table = renderTable(['64-byte round trip, 2 processes', 'p50 us', 'p99 us', 'Node TCP echo p50 / this p50'], rows, markdown);
// GB/s moved: the frame there and back per round trip.
const gbps = (p50Us: number) => f((2 * BIG) / (p50Us * 1000));
const bigRows: string[][] = [
  ['Node TCP echo (node:net, both sides JavaScript)', f(bigNodeTcp.p50Us / 1000), gbps(bigNodeTcp.p50Us)],
  [`ucx:// echo, both sides JavaScript (UCX_TLS=${tls})`, f(bigNodeUcx.p50Us / 1000), gbps(bigNodeUcx.p50Us)],
  ['C TCP ping-pong, blocking sockets', f(bigC.p50_us / 1000), gbps(bigC.p50_us)],
];
const bigTable = renderTable(['1,000 x 1536-d frame (6.1 MB) each way, 2 processes', 'round trip p50 ms', 'GB/s'], bigRows, markdown);
console.log(
  `\nmachine: ${machineLine(machine)}\nUCX ${ucx.version}, ${ROUNDS} round trips each\ncommand: ${process.env.UCX_TLS ? `UCX_TLS=${tls} ` : ''}pnpm --filter @ragwire/bench transport-floor ${argv.join(' ')}\n\n${table}\n\n${bigTable}\n`,
);

writeFileSync(
  datedResultsPath('transport-floor'),
  JSON.stringify(
    {
      machine,
      command: `pnpm --filter @ragwire/bench transport-floor ${argv.join(' ')}`,
      ucxTls: tls,
      ucxVersion: ucx.version,
      rounds: ROUNDS,
      nodeTcp,
      nodeUcx,
      polling,
      sleeping,
    },
    null,
    2,
  ),
);
