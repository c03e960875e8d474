// Every fixture in fixtures/ runs here too: `npm test` covers them all (the same loader and
// runner as `vigil test`).

import { describe, expect, test } from "vitest";
import { findFixtureFiles } from "../../src/what-if/fixtures.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { fixtureSuite } from "../helpers/fixture-suite.ts";
import { RULES_DIR } from "../helpers/services.ts";

const registry = new PolicyRegistry();
const refused = registry.loadDirectory(RULES_DIR);
const files = findFixtureFiles(["fixtures"]);

describe("fixtures/", () => {
  test("the example policies load and there are fixtures to run", () => {
    expect(refused).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  fixtureSuite(files, registry, () => registry.list().items, "example policy");
});
