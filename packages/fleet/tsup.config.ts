import { defineConfig } from 'tsup';
import { serverPreset } from '../../config/tsup';

export default defineConfig(serverPreset());
