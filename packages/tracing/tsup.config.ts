import { defineConfig } from 'tsup';
import { packagePreset } from '../../config/tsup';

export default defineConfig(packagePreset(['src/index.ts', 'src/receiver.ts']));
