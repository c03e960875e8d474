// Prints `N passed, N failed` from vitest's JSON report (the line CI reads).
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2];
if (!file || !existsSync(file)) {
  console.log("0 passed, 1 failed");
  console.error(`no test report at ${file}: the tests did not run (type-check failed?)`);
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, "utf8"));
const failed =
  r.numFailedTests + (r.numRuntimeErrorTests ?? 0) + (r.success === false && r.numFailedTests === 0 ? 1 : 0);
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${r.numPassedTests} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(failed === 0 && r.numPassedTests > 0 ? 0 : 1);
