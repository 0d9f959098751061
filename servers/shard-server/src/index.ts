export { startShardServer, type ShardServer } from './server';
export { resolveConfig, parseListen, isLoopbackHost, type ShardServerOptions, type ListenAddress } from './config';
export { TokenTable, Principal, parseTokenSpec, REQUIRED_SCOPE, type Scope, type TokenGrant } from './auth';
export { ShardMetrics } from './metrics';
