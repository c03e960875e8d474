// The shape of the source tree, held by the test suite (CI runs only `npm test`): the lint
// configuration that forbids import cycles and imports against the layering passes on src/,
// and fails when a cycle or a forbidden import is planted in a copy of it. Files past 400
// lines say why.

import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OXLINT = join(ROOT, "node_modules", ".bin", "oxlint");

/** Lints `dir`'s src/ with the project's own configuration, as `npm run lint` does. */
function lint(dir: string): { status: number | null; output: string } {
  const r = spawnSync(OXLINT, ["-c", join(dir, ".oxlintrc.json"), "--deny-warnings", "src"], {
    cwd: dir,
    encoding: "utf8",
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const copies: string[] = [];
afterAll(() => {
  for (const d of copies) rmSync(d, { recursive: true, force: true });
});

/** A copy of src/ and the lint configuration, for planting a violation. */
function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), "vigil-arch-"));
  copies.push(dir);
  cpSync(join(ROOT, "src"), join(dir, "src"), { recursive: true });
  cpSync(join(ROOT, ".oxlintrc.json"), join(dir, ".oxlintrc.json"));
  return dir;
}

describe("imports", () => {
  test("src/ has no import cycle and respects the layering", () => {
    const r = lint(ROOT);
    expect(r.output).toContain("Found 0 warnings and 0 errors");
    expect(r.status).toBe(0);
  });

  test("a planted cycle fails the lint", () => {
    const dir = copy();
    writeFileSync(join(dir, "src/http/a.ts"), 'import { b } from "./b.ts";\nexport const a = b;\n');
    writeFileSync(
      join(dir, "src/http/b.ts"),
      'import type { a } from "./a.ts";\nexport const b = 1 as unknown as typeof a;\n',
    );
    const r = lint(dir);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/import\(no-cycle\)[\s\S]*src\/http\/a\.ts/);
  });

  test.each([
    ["src/core to src/contracts", "src/core/json.ts", 'import "../contracts/json.ts";'],
    ["src/core to anything outside it", "src/core/types.ts", 'import "../log.ts";'],
    ["src/core to a runtime module", "src/core/paths.ts", 'import "node:fs";'],
    ["the governor to a concrete store", "src/governor/arrival.ts", 'import "../storage/memory-store.ts";'],
    ["the governor to what-if", "src/governor/ingest.ts", 'import "../what-if/service.ts";'],
    ["an adapter to the governor", "src/storage/schema.ts", 'import "../governor/events.ts";'],
    ["a route to the store", "src/http/views.ts", 'import "../storage/schema.ts";'],
    ["the simulator to the edges", "src/simulate/model.ts", 'import "../http/app.ts";'],
    ["the report drawing to the CLI", "src/report/svg.ts", 'import "../cli/usage.ts";'],
  ])("an import from %s fails the lint", (_what, file, line) => {
    const dir = copy();
    appendFileSync(join(dir, file), `\n${line}\n`);
    const r = lint(dir);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain("no-restricted-imports");
  });
});

describe("files", () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
    );

  test("a source file past 400 lines says why", () => {
    const long = files(join(ROOT, "src"))
      .map((f) => ({ f, text: readFileSync(f, "utf8") }))
      .filter(({ text }) => text.split("\n").length > 400 && !/past 400 lines because/i.test(text));
    expect(long.map(({ f }) => f.slice(ROOT.length))).toEqual([]);
  });

  test("every source file opens with a line saying what it is for", () => {
    const silent = files(join(ROOT, "src")).filter((f) => !readFileSync(f, "utf8").startsWith("//"));
    expect(silent.map((f) => f.slice(ROOT.length))).toEqual([]);
  });

  // docs/architecture.md maps src/core/ file by file, the one part of the tree it does: a file
  // added there without a row leaves the reader of the map without it.
  test("docs/architecture.md's table of src/core/ names every file in it", () => {
    const doc = readFileSync(join(ROOT, "docs", "architecture.md"), "utf8");
    const table = doc.slice(doc.indexOf("### `src/core/`"), doc.indexOf("### `src/contracts/`"));
    const unnamed = readdirSync(join(ROOT, "src", "core")).filter(
      (f) => f.endsWith(".ts") && !table.includes(`\`${f}\``),
    );
    expect(unnamed).toEqual([]);
  });
});
