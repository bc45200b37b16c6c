/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  // Examples import the library by its package name, as a user's stack does.
  moduleNameMapper: {
    "^consul-mesh-gateway$": "<rootDir>/components/index.ts",
    "^consul-mesh-gateway/mesh$": "<rootDir>/mesh/index.ts",
    "^consul-mesh-gateway/gateway$": "<rootDir>/gateway/index.ts",
    "^consul-mesh-gateway/consul$": "<rootDir>/consul/index.ts",
  },
  testTimeout: 30000,
  reporters: ["default", "<rootDir>/test/support/summary-reporter.js"],
};
