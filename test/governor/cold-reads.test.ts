// Cold reads gathered per turn of the event loop: one query for the ids asked together, at most
// COLD_READ_BATCH ids a query, each caller told its own row (or that there is none), and a
// failed query failing only the callers whose ids it carried.

import { describe, expect, test } from "vitest";
import type { ObjectRecord } from "../../src/core/types.ts";
import { COLD_READ_BATCH, ColdReads } from "../../src/governor/cold-reads.ts";
import { makeObject } from "../helpers/records.ts";

function reads(fail?: (ids: readonly string[]) => boolean) {
  const queries: string[][] = [];
  const cold = new ColdReads(async (ids) => {
    queries.push([...ids]);
    if (fail?.(ids)) throw new Error("disk on fire");
    return ids.filter((id) => !id.startsWith("missing")).map((id): ObjectRecord => makeObject({ id }));
  });
  return { cold, queries };
}

describe("ColdReads", () => {
  test("ids asked for in the same turn are read in one query, in id order, each once", async () => {
    const { cold, queries } = reads();
    const got = await Promise.all(["b", "a", "missing-1", "b"].map((id) => cold.get(id)));
    expect(got.map((o) => o?.id)).toEqual(["b", "a", undefined, "b"]);
    expect(queries).toEqual([["a", "b", "missing-1"]]);
    // A later turn is a query of its own.
    expect((await cold.get("c"))?.id).toBe("c");
    expect(queries).toHaveLength(2);
  });

  test(`at most ${COLD_READ_BATCH} ids go in one query`, async () => {
    const { cold, queries } = reads();
    const ids = Array.from({ length: COLD_READ_BATCH * 2 + 1 }, (_, i) => `o${String(i).padStart(5, "0")}`);
    const got = await Promise.all(ids.map((id) => cold.get(id)));
    expect(got.map((o) => o!.id)).toEqual(ids);
    expect(queries.map((q) => q.length)).toEqual([COLD_READ_BATCH, COLD_READ_BATCH, 1]);
  });

  test("a failed query rejects the callers of its ids only", async () => {
    const { cold } = reads((ids) => ids.includes("o00000"));
    const ids = Array.from({ length: COLD_READ_BATCH + 1 }, (_, i) => `o${String(i).padStart(5, "0")}`);
    const settled = await Promise.allSettled(ids.map((id) => cold.get(id)));
    expect(settled.slice(0, COLD_READ_BATCH).every((s) => s.status === "rejected")).toBe(true);
    expect(settled[COLD_READ_BATCH]).toMatchObject({ status: "fulfilled", value: { id: ids[COLD_READ_BATCH] } });
  });
});
