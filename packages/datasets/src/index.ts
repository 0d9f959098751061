export * from './types';
export * from './texmex';
export * from './shared-data';
export { Prng } from '@ragwire/protocol';
export * from './synthetic';
export * from './brute-force';
export * from './scifact';
export * from './clustered-filter';
