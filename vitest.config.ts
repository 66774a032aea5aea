import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The files that exercise the proxy: the runtime API against a real HAProxy, the proxy module on
 * the local engine (switch under load, restart, reload), and deploys on the sandbox under load.
 * `integration-haproxy-3.0` runs them again on HAProxy 3.0 (test/integration/helpers/proxy-line.ts).
 */
const PROXY_FILES = [
  'test/integration/proxy-runtime.test.ts',
  'test/integration/proxy-switch.test.ts',
  'test/integration/deploy.test.ts',
  'test/integration/proxy-shared.test.ts',
  'test/integration/proxy-tls.test.ts',
  'test/integration/proxy-tls-port.test.ts',
  'test/integration/acme.test.ts',
  'test/integration/acme-deploy.test.ts',
];

const integration = {
  globalSetup: ['test/integration/global-setup.ts'],
  fileParallelism: false,
  testTimeout: 180_000,
  hookTimeout: 600_000,
};

// Four projects: unit tests are pure and fast; `package` packs and installs the tarball (no
// sandbox); integration tests share one sandbox (started once in globalSetup) and run files one
// after another because they share hosts; `integration-haproxy-3.0` is the proxy files on HAProxy
// 3.0 (run it with `integration` in one vitest run to share the sandbox: npm run test:integration).
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
          ...integration,
        },
      },
      {
        test: {
          name: 'integration-haproxy-3.0',
          include: PROXY_FILES,
          env: { GANGWAY_TEST_PROXY: '3.0' },
          ...integration,
        },
      },
    ],
  },
});
