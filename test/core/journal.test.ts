// Folding a journal into the memory it leads to (core/journal.ts foldJournal): what compaction
// writes as a snapshot and replay starts from must be the object's memory exactly.

import { describe, expect, test } from "vitest";
import { foldJournal } from "../../src/core/journal.ts";
import { applyMergePatch } from "../../src/core/merge-patch.ts";
import type { JsonObject } from "../../src/core/types.ts";

describe("foldJournal", () => {
  test("entry 0 is the creation memory whole, nulls included; later patches merge", () => {
    const created: JsonObject = { owner: null, work: { pending: 0, note: null } };
    const patch: JsonObject = { extra: 1, work: { note: null, pending: 2 } };
    const live = applyMergePatch(created, patch).memory;
    expect(live).toEqual({ owner: null, work: { pending: 2 }, extra: 1 });
    expect(
      foldJournal([
        { seq: 0, patch: created },
        { seq: 1, patch },
      ]),
    ).toEqual(live);
  });

  test("a snapshot replaces what came before it; a patch after it merges", () => {
    expect(
      foldJournal([
        { seq: 0, patch: { a: 1 } },
        { seq: 4, patch: { b: null, c: 1 }, kind: "snapshot" },
        { seq: 5, patch: { c: null, d: 2 } },
      ]),
    ).toEqual({ b: null, d: 2 });
  });
});
