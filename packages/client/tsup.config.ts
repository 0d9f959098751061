import { defineConfig } from 'tsup';
import { packagePreset } from '../../config/tsup';

// @ragwire/store is an optional peer, loaded lazily for embedded:// only: never bundle it.
export default defineConfig(packagePreset(['src/index.ts'], { external: ['@ragwire/store'] }));
