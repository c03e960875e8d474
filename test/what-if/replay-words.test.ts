// `vigil replay`'s report counts its decisions in words that agree with them: one recorded
// decision, and one that differs, were "1 recorded decisions" and "1 differ".

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { formatReport } from "../../src/cli/replay.ts";
import { makeServices, RULES_DIR } from "../helpers/services.ts";

test("a replay of one decision that differs says so in the singular", async () => {
  const s = await makeServices();
  try {
    await s.governor.putObject("w", { policy: "on-demand", memory: { work: { pending: 1 } } });
    await s.advance(1000);
    // The candidate wakes for more than 5 pending: the creation's wake is not taken.
    const candidate = JSON.parse(readFileSync(join(RULES_DIR, "on-demand.json"), "utf8"));
    candidate.version = "2";
    candidate.rules[0].conditions.all[0].value = 5;
    const one = formatReport(await s.whatIf.replay("w", candidate)).split("\n")[1];
    expect(one).toBe("1 recorded decision, 1 under the candidate, 1 differs");

    // More than one stays plural.
    await s.governor.postFacts("w", { work: { pending: 0 } });
    await s.advance(1000);
    const two = formatReport(await s.whatIf.replay("w", candidate)).split("\n")[1];
    expect(two).toBe("2 recorded decisions, 2 under the candidate, 2 differ");
  } finally {
    await s.close();
  }
});
