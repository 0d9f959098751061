import { defineConfig } from 'tsup';
import { packagePreset } from '../../config/tsup';

// Dependencies and peers (the framework, @ragwire/client, the optional @ragwire/store) stay external.
export default defineConfig(packagePreset());
