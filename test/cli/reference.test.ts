// The one table of exit codes and the CLI reference stay in step with the code: docs/cli.md
// (and README's CLI part) holds every row of EXIT_CODES and a section per command; `vigil help` lists every command and
// the table; every client command's --help shows the whole table.

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { CLIENT_COMMANDS, COMMAND_NAMES, commandUsage, EXIT, EXIT_CODES, overallUsage } from "../../src/cli/usage.ts";

const DOC = readFileSync("docs/cli.md", "utf8");
const squash = (s: string) => s.replace(/\s+/g, " ");
const CLIENTS = CLIENT_COMMANDS;

describe("docs/cli.md", () => {
  // README's CLI part repeats the table: the same rows, so that the two cannot say different things.
  test.each(["docs/cli.md", "README.md"])("%s holds the exit-code table row for row, and no other", (file) => {
    const text = readFileSync(file, "utf8");
    const rows = [...text.matchAll(/^\| (\d) +\| (.+?) +\|$/gm)].map(([, code, meaning]) => [Number(code), meaning]);
    expect(rows).toEqual(EXIT_CODES.map(([code, meaning]) => [code, squash(meaning)]));
  });

  test("has a section for every command", () => {
    for (const name of COMMAND_NAMES) expect(DOC).toMatch(new RegExp(`^## vigil ${name}\\b`, "m"));
  });

  // serve's section sends the reader to README's configuration, simulate's to docs/simulate.md.
  test.each(["validate", "test", "replay"] as const)(
    "the %s section names the variable each of its flags falls back to",
    (name) => {
      const section = DOC.split(/^## /m).find((s) => s.startsWith(`vigil ${name}\n`)) ?? "";
      const variables = [...commandUsage(name).matchAll(/\((VIGIL_[A-Z_]+), default /g)].map((m) => m[1]);
      expect(variables.length).toBeGreaterThan(0);
      for (const variable of variables) expect(section).toContain(`\`${variable}\``);
    },
  );
});

describe("usage", () => {
  test("vigil help lists every command and the exit codes", () => {
    const text = overallUsage();
    for (const name of COMMAND_NAMES) expect(text).toContain(`\n  ${name} `);
    for (const [code, meaning] of EXIT_CODES) expect(squash(text)).toContain(squash(`${code} ${meaning}`));
  });

  test.each(CLIENTS)("%s --help names the server options and every exit code", (name) => {
    const text = commandUsage(name);
    expect(text).toContain("VIGIL_URL, default http://127.0.0.1:8080");
    expect(text).toContain("VIGIL_TOKEN");
    for (const code of Object.values(EXIT)) expect(text).toMatch(new RegExp(`\\n  ${code}  `));
  });
});

/** The synopsis lines of a command's --help (after `usage:`, up to the first blank line). */
function synopsis(name: (typeof COMMAND_NAMES)[number]): string[] {
  const text = commandUsage(name);
  const start = text.indexOf("usage: ");
  return text
    .slice(start + "usage: ".length)
    .split("\n\n")[0]!
    .split("\n")
    .map((line) => line.trim());
}

describe("the reference gives each command as its --help does", () => {
  // simulate's section sends the reader to docs/simulate.md, which spells its options out.
  test.each(COMMAND_NAMES.filter((name) => name !== "simulate"))("docs/cli.md's %s section", (name) => {
    const section = squash(DOC.split(/^## /m).find((s) => new RegExp(`^vigil ${name}\\b`).test(s)) ?? "");
    for (const line of synopsis(name)) expect(section).toContain(line);
  });

  test("docs/simulate.md names every option of vigil simulate --help", () => {
    const page = readFileSync("docs/simulate.md", "utf8");
    const options = [...new Set([...commandUsage("simulate").matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!))];
    expect(options.length).toBeGreaterThan(10);
    expect(options.filter((option) => !new RegExp(`\`${option}[ \`]`).test(page))).toEqual([]);
  });

  test("README's CLI table names only options the command takes", () => {
    const readme = readFileSync("README.md", "utf8");
    const rows = [...readme.matchAll(/^\| `vigil ([a-z]+)([^`]*)`/gm)];
    expect(rows.length).toBe(COMMAND_NAMES.length);
    for (const [, name, rest] of rows) {
      const usage = commandUsage(name as (typeof COMMAND_NAMES)[number]);
      for (const [option] of rest!.matchAll(/--[a-z-]+/g)) expect(usage, `vigil ${name}`).toContain(option);
    }
  });
});
