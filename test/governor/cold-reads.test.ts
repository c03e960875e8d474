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

  test("a failed query is read again id by id: only the callers of an id that fails alone are rejected", async () => {
    const { cold, queries } = reads((ids) => ids.includes("o00003"));
    const ids = Array.from({ length: COLD_READ_BATCH + 1 }, (_, i) => `o${String(i).padStart(5, "0")}`);
    const settled = await Promise.allSettled([...ids, "o00003"].map((id) => cold.get(id)));
    expect(settled.filter((s) => s.status === "rejected")).toHaveLength(2);
    expect(settled[3]).toMatchObject({ status: "rejected", reason: { message: "disk on fire" } });
    expect(settled[COLD_READ_BATCH + 1]).toMatchObject({ status: "rejected" });
    expect(settled[0]).toMatchObject({ status: "fulfilled", value: { id: "o00000" } });
    expect(settled[COLD_READ_BATCH]).toMatchObject({ status: "fulfilled", value: { id: ids[COLD_READ_BATCH] } });
    // The failing chunk, then each of its ids alone, then the next chunk (one id) whole.
    expect(queries.map((q) => q.length)).toEqual([COLD_READ_BATCH, ...Array(COLD_READ_BATCH + 1).fill(1)]);
    expect(queries.at(-1)).toEqual([ids[COLD_READ_BATCH]]);
  });
});
