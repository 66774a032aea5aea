import { configDefaults, defineConfig } from 'vitest/config';

// Three projects: unit tests are pure and fast; `package` packs and installs the tarball (no
// sandbox); integration tests share one sandbox (started once in globalSetup) and run files one
// after another because they share hosts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'package',
          include: ['test/integration/package.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'examples/testing/example.test.ts'],
          exclude: [...configDefaults.exclude, 'test/integration/package.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
