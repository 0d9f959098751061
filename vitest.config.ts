import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['ragwire-source'] },
  ssr: { resolve: { conditions: ['ragwire-source'] } },
  test: {
    include: ['{packages,servers,native,test,examples}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', '**/build/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: '.ci/out/vitest.json' },
  },
});
