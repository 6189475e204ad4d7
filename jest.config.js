// Unit specs live next to the code (packages/NAME/src, *.test.ts); cross-package runs live in test/.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json', isolatedModules: true }],
  },
  moduleNameMapper: {
    '^@dumpstream/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
  },
  testTimeout: 30000,
};
