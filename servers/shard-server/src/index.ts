export { startShardServer, type ShardServer } from './server';
export { resolveConfig, parseListen, isLoopbackHost, type ShardServerOptions, type ListenAddress } from './config';
export { TokenTable, Principal, parseTokenSpec, REQUIRED_SCOPE, type Scope, type TokenGrant } from './auth';
export { ShardMetrics, type CloseReason } from './metrics';
export { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connection-limits';
export { storeApplyTarget } from './store-apply-target';
