// Native ESM jest (PGlite imports dynamically); TypeScript through swc, typechecked by `tsc --noEmit`.
export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "es6" } }],
  },
  testMatch: ["<rootDir>/{server,client,voiced,test}/**/*.test.ts"],
  testTimeout: 60000,
  // Two workers on two cores: most suites wait on real servers and processes, not the CPU.
  maxWorkers: 2,
};
