import type { Config } from 'jest';

// ESM TypeScript under Jest: ts-jest transpiles each file on its own (type checking is
// `npm run typecheck`'s job, which keeps the suite fast on two cores), and the `.js`
// suffixes that NodeNext requires in imports are mapped back to the `.ts` sources.
const config: Config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }],
  },
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 30_000,
  maxWorkers: 2,
};

export default config;
