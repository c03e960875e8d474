import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Debian's chromium for the dashboard's browser tests, installed once when missing (as root).
    globalSetup: ["test/setup/chromium.ts"],
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ["default", "json"],
    outputFile: { json: ".test-results/vitest.json" },
  },
});
