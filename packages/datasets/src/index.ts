export * from './types';
export * from './texmex';
export * from './shared-data';
export * from './prng';
export * from './synthetic';
export * from './brute-force';
export * from './scifact';
