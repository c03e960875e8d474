import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll waits on work done elsewhere: the dashboard tests' browser drawing what came over
    // its event stream, a server answering over a socket. Its own default gives up after 1 s, of
    // which a page taking 50 live decisions used 0.75 s on a loaded core. Polls wait on the thing
    // itself; 30 s, under the test's 60, is a hang-guard that still reports the last value seen.
    expect: { poll: { timeout: 30_000 } },
    pool: "forks",
    // Two test files at once, whatever the core count: vitest's default on a machine of two cores
    // (CI's, and ours) is one less than the cores, one file at a time, though many of the files
    // mostly wait on something real (a process's exit 10 s after its SIGKILL, a server starting,
    // a browser): run one by one, the suite took over 15 minutes of a CI run.
    maxWorkers: 2,
    // Debian's chromium for the dashboard's browser tests, installed once when missing (as root).
    globalSetup: ["test/setup/debian-packages.ts"],
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ["default", "json"],
    outputFile: { json: ".test-results/vitest.json" },
  },
});
