// Two projects: `unit` (pure code, no servers: specs next to the code in packages/NAME/src, the
// real-transcript suites in test/corpus, deploy file checks in test/deploy, pictures rendered by
// headless Chromium in test/render: needs /usr/bin/chromium) and `integration` (test/infra, test/integration,
// test/e2e: real Kafka and Redis, started once by test/support/globalSetup.ts).
// `npx jest --selectProjects unit` runs the quick half.

const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
};
const moduleNameMapper = {
  '^@dumpstream/(ingest|parse)$': '<rootDir>/services/$1/src/index.ts',
  '^@dumpstream/detect-service$': '<rootDir>/services/detect/src/index.ts',
  '^@dumpstream/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/test/corpus', '<rootDir>/test/deploy', '<rootDir>/test/render'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/'],
      transform,
      moduleNameMapper,
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['<rootDir>/test/{infra,integration,e2e}/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/'],
      transform,
      moduleNameMapper,
      globalSetup: '<rootDir>/test/support/globalSetup.ts',
      globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
    },
  ],
  testTimeout: 60000,
};
