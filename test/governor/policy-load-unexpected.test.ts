// An exception nobody expected while loading a policy (a bug in validation, say) becomes a
// refused file with a message: hot reload must never take the server down.

import { describe, expect, test, vi } from "vitest";
import { loadCandidate, PolicyRegistry } from "../../src/governor/policy-registry.ts";

vi.mock("../../src/contracts/validate-policy.ts", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/contracts/validate-policy.ts")>();
  return {
    ...original,
    validatePolicy: (doc: unknown, name?: string) => {
      if ((doc as { name?: unknown }).name === "boom") throw new TypeError("kaboom");
      return original.validatePolicy(doc, name);
    },
  };
});

const doc = { name: "boom", version: "1", rules: [{ name: "r", conditions: { all: [] }, event: { type: "wake" } }] };

describe("an unexpected exception while loading", () => {
  test("is a refused file that names it, and the registry keeps going", () => {
    const registry = new PolicyRegistry(() => 0);
    const r = registry.loadText(JSON.stringify(doc), "rules/boom.json");
    expect(r).toEqual({
      ok: false,
      error: {
        file: "rules/boom.json",
        at: "1970-01-01T00:00:00.000Z",
        errors: [{ path: "$", message: "the policy could not be loaded: TypeError: kaboom" }],
      },
    });
    expect(registry.list().errors).toHaveLength(1);
  });

  test("is a refused candidate", () => {
    const r = loadCandidate(doc, 0);
    expect(r.ok).toBe(false);
  });
});
