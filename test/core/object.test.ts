// A governed object's identity (checkObjectId) and its record as it is born (newObject).

import { describe, expect, test } from "vitest";
import { VigilError } from "../../src/core/errors.ts";
import { checkObjectId, newObject, OBJECT_ID_HELP } from "../../src/core/object.ts";
import type { LifecycleState } from "../../src/core/types.ts";
import { T0, makeObject } from "../helpers/records.ts";

describe("checkObjectId", () => {
  test.each([
    ["one character", "a"],
    ["every allowed kind of character", "Az09._:-"],
    ["128 characters", "x".repeat(128)],
    ["dots only", ".."],
  ])("accepts %s", (_name, id) => {
    expect(() => checkObjectId(id)).not.toThrow();
  });

  test.each([
    ["empty", ""],
    ["129 characters", "x".repeat(129)],
    ["a slash", "a/b"],
    ["a space", "a b"],
    ["a trailing newline", "a\n"],
    ["a non-ASCII letter", "é"],
    ["a percent escape", "a%2Fb"],
  ])("refuses %s with an invalid error naming $.id", (_name, id) => {
    let error: unknown = null;
    try {
      checkObjectId(id);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VigilError);
    expect(error).toMatchObject({
      kind: "invalid",
      message: "invalid object id",
      problems: [{ path: "$.id", message: OBJECT_ID_HELP }],
    });
  });
});

describe("newObject", () => {
  test("by default: dormant since creation, empty memory, simulated driver, nothing observed", () => {
    expect(newObject({ id: "w1", policy: "queue-worker", at: T0 })).toEqual(
      makeObject({ id: "w1", policy: "queue-worker" }),
    );
  });

  test("keeps the memory and substrate it is given; times are the creation time", () => {
    const at = T0 + 5_000;
    const o = newObject({
      id: "w2",
      policy: "p",
      at,
      memory: { queue: { depth: 2 } },
      substrate: { driver: "fly", config: { app: "a" } },
    });
    expect(o).toEqual(
      makeObject({
        id: "w2",
        policy: "p",
        memory: { queue: { depth: 2 } },
        substrate: { driver: "fly", config: { app: "a" }, observed: null },
        stateSince: at,
        lastFactAt: at,
        createdAt: at,
        updatedAt: at,
      }),
    );
  });

  test.each<[LifecycleState, number | null]>([
    ["dormant", null],
    ["waking", T0],
    ["active", T0],
    ["sleeping", null],
    ["failed", null],
  ])("starting %s: wokeAt is %s", (state, wokeAt) => {
    expect(newObject({ id: "s", policy: "p", at: T0, state })).toMatchObject({ state, stateSince: T0, wokeAt });
  });

  test("two new objects share nothing mutable", () => {
    const a = newObject({ id: "a", policy: "p", at: T0 });
    const b = newObject({ id: "b", policy: "p", at: T0 });
    expect(a.memory).not.toBe(b.memory);
    expect(a.timers).not.toBe(b.timers);
    expect(a.substrate.config).not.toBe(b.substrate.config);
  });
});
