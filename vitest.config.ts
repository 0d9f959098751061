import { defineConfig } from 'vitest/config';

// Two projects: `unit` (*.test.ts: in-process, seconds) and `integration` (*.int.test.ts: child
// processes, sockets, NATS, devices, fuzzing at volume, real data sets). `pnpm test` runs both;
// `pnpm test:unit` and `pnpm test:int` one each.
const roots = '{packages,servers,native,test,examples}/**';

export default defineConfig({
  resolve: { conditions: ['ragwire-source'] },
  ssr: { resolve: { conditions: ['ragwire-source'] } },
  test: {
    exclude: ['**/node_modules/**', '**/dist/**', '**/build/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: '.ci/out/vitest.json' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: [`${roots}/*.test.ts`], exclude: ['**/node_modules/**', '**/dist/**', '**/build/**', '**/*.int.test.ts'] },
      },
      { extends: true, test: { name: 'integration', include: [`${roots}/*.int.test.ts`] } },
    ],
  },
});
