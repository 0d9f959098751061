export { killAllProcesses, nodeArgsFor, startJsonProcess, type JsonProcess, type JsonProcessOptions } from './json-process';
export { processCpuSeconds } from './cpu';
export { freePort, startNats, startNatsCluster, type NatsNode } from './nats-server';
