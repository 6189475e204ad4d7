// Two projects: `unit` (pure code, no servers: specs next to the code in packages/NAME/src, the
// real-transcript suites in test/corpus, deploy file checks in test/deploy, pictures rendered by
// headless Chromium in test/render: the machine's chromium, or on the Docker path an image of it) and `integration` (test/infra, test/integration,
// test/e2e: real Kafka and Redis, started once by test/support/globalSetup.ts), `faults`
// (test/faults: fault injection, each scenario on a broker and a Redis of its own), and `compose`
// (test/compose: docker-compose.yml run end to end; only with DUMPSTREAM_COMPOSE=1).
// `npx jest --selectProjects unit` runs the quick half.

const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
};
const moduleNameMapper = {
  '^@dumpstream/(ingest|parse)$': '<rootDir>/services/$1/src/index.ts',
  '^@dumpstream/detect-service$': '<rootDir>/services/detect/src/index.ts',
  '^@dumpstream/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
};

// The fault scenarios small and quick enough for every `npm test` (and CI).
const FAULTS_QUICK = ['kill-workers', 'replay'];

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
    {
      // Fault injection (test/faults): each scenario owns a broker and a Redis it breaks, and runs
      // the services as child processes from dist/ (built first). `npm run test:faults` runs them all
      // with a fleet of 200; plain `npm test` runs FAULTS_QUICK with a fleet of 40 (see docs/RELIABILITY.md).
      displayName: 'faults',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/faults'],
      testMatch: process.env.FAULTS_SUITE === 'full' ? ['<rootDir>/test/faults/**/*.test.ts'] : FAULTS_QUICK.map((f) => `<rootDir>/test/faults/${f}.test.ts`),
      testPathIgnorePatterns: ['/node_modules/', '/dist/'],
      transform,
      moduleNameMapper,
      globalSetup: '<rootDir>/test/faults/support/globalSetup.ts',
    },
    {
      // docker-compose.yml run for real on private Docker engines (test/compose): minutes, and it
      // needs root, docker.io, docker-compose and debootstrap, so it runs only with
      // DUMPSTREAM_COMPOSE=1 (.ci/run; `npm run test:compose`), else it says it is skipped.
      displayName: 'compose',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/compose'],
      testMatch: ['<rootDir>/test/compose/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/dist/'],
      transform,
      moduleNameMapper,
    },
  ],
  testTimeout: 60000,
};
