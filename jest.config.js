/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__test__'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      {
        jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
        module: { type: 'commonjs' },
      },
    ],
  },
  // Under another Node major (scripts/with-node.mjs), native npm modules built for it.
  ...(process.env.OC_NATIVE_MODULES && {
    moduleNameMapper: Object.fromEntries(
      process.env.OC_NATIVE_MODULES.split(',').map(entry => {
        const [name, path] = entry.split('=');
        return [`^${name}$`, path];
      }),
    ),
  }),
  globalSetup: '<rootDir>/__test__/support/global-setup.js',
  testTimeout: 120000,
  // Each file starts a Backstage backend and a mock OpenChoreo: one at a time on 2 cores.
  maxWorkers: 1,
  reporters: ['default', '<rootDir>/__test__/support/count-reporter.js'],
};
