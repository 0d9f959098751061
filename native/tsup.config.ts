import { defineConfig } from 'tsup';
import { packagePreset } from '../config/tsup';

export default defineConfig(packagePreset(['lib/index.ts'], { external: ['@ragwire/protocol'] }));
