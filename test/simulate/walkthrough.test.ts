// The walkthrough in docs/policy-authors.md ("Compare two policies before you deploy") runs as
// written: every `npx vigil simulate` command there prints exactly the output shown under it.

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { runSimulate } from "../../src/cli/simulate.ts";

const doc = readFileSync(new URL("../../docs/policy-authors.md", import.meta.url), "utf8");
const start = doc.indexOf("## Compare two policies before you deploy");
const section = doc.slice(start, doc.indexOf("\n## ", start + 1));

/** Each ```sh block of `npx vigil simulate` with the ```text block right after it. */
const examples = [...section.matchAll(/```sh\n(npx vigil simulate[\s\S]*?)```\n\n```text\n([\s\S]*?)```/g)].map(
  (m) => ({
    command: m[1]!.replace(/\\\n\s*/g, "").trim(),
    output: m[2]!,
  }),
);

describe("docs/policy-authors.md: compare two policies", () => {
  test("the section is there, with its examples", () => {
    expect(start).toBeGreaterThan(0);
    expect(examples.length).toBe(2);
  });

  test.each(examples)("$command", async ({ command, output }) => {
    const out: string[] = [];
    const code = await runSimulate(command.split(/\s+/).slice(3), (s) => out.push(s));
    expect(code).toBe(0);
    expect(out.join("")).toBe(output);
  });

  test("the traffic line it quotes is the fixture's first", () => {
    const quoted = /```text\n(\{"at".*)\n```/.exec(section)![1];
    const first = readFileSync(new URL("../../fixtures/traffic/queue-burst.jsonl", import.meta.url), "utf8").split(
      "\n",
    )[0];
    expect(quoted).toBe(first);
  });
});

describe("docs/policy-authors.md: the check-in hold it suggests", () => {
  test("saves 98.5% on the walkthrough's traffic, with twelve wakes", async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "vigil-walkthrough-"));
    try {
      const policy = JSON.parse(readFileSync(new URL("../../rules/queue-worker.json", import.meta.url), "utf8"));
      delete policy.$schema;
      policy.name = "queue-worker-checkin";
      policy.rules.push({
        name: "check-in",
        conditions: { all: [{ fact: "trigger", path: "$.name", operator: "equal", value: "wake" }] },
        event: { type: "hold-active", params: { for: "PT5M" } },
      });
      writeFileSync(join(dir, "queue-worker-checkin.json"), JSON.stringify(policy));
      const out: string[] = [];
      const args = ["--rules", dir, "--policy", "queue-worker-checkin", "--json"];
      args.push("--traffic", "fixtures/traffic/queue-burst.jsonl", "--until", "2026-03-03T00:00:00Z");
      expect(await runSimulate(args, (s) => out.push(s))).toBe(0);
      const row = JSON.parse(out.join("")).rows[0];
      expect((row.saving * 100).toFixed(1)).toBe("98.5");
      expect(row.wakes).toBe(12);
      expect(row.waited.count).toBe(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
