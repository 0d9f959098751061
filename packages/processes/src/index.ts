export { killAllProcesses, nodeArgsFor, startJsonProcess, type JsonProcess, type JsonProcessOptions } from './json-process';
export { processCpuSeconds } from './cpu';
