/**
 * The floor for any proxy hop on this machine: a do-nothing Node HTTP
 * pass-through. It streams the request body to the upstream over keep-alive
 * connections and streams the answer back, with no parsing, no routing and no
 * logging. Plain JavaScript, run as its own process like the built proxy:
 * `node passthrough.mjs <upstream-url>`; it prints {"msg":"listening","url":...}.
 */
import { createServer, request as httpRequest, Agent } from 'node:http';

const upstream = new URL(process.argv[2] ?? 'http://127.0.0.1:8000');
const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

const server = createServer((req, res) => {
  const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  out.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  req.pipe(out);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${port}` }) + '\n');
});
process.once('SIGTERM', () => process.exit(0));
