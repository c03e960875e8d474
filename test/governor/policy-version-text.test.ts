// A policy's `version` is any string of 1 to 64 characters, and JSON can write any of them: a NUL
// (`\u0000`) or half of a surrogate pair (`\ud800`) too. SQLite keeps neither as text: it reads a
// text column only up to a NUL, and libsql writes a lone surrogate as U+FFFD. The version a
// decision names must be the version it was taken under, after a restart as before it, and the
// version a restart serves from the database (its file gone) the one its file's load served.
// Real servers on a libsql file, started in turn.

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { rulesServers } from "../helpers/rules-servers.ts";

const { workDir, serve, closeLast } = rulesServers("vigil-version-text-");

const json = { "content-type": "application/json" };

/** Sets the version of the policy file `file`, written with JSON's escapes as an author would. */
function setVersion(file: string, version: string): void {
  const doc = JSON.parse(readFileSync(file, "utf8")) as { version: string };
  doc.version = version;
  // JSON.stringify writes a lone surrogate as `\ud800` and a NUL as `\u0000`: the file is UTF-8.
  writeFileSync(file, JSON.stringify(doc, null, 2));
}

async function versionsOf(url: string, id: string): Promise<string[]> {
  const got = await fetch(`${url}/v1/objects/${id}/decisions`);
  expect(got.status).toBe(200);
  const { items } = (await got.json()) as { items: { policy: { version: string } }[] };
  return items.map((d) => d.policy.version);
}

test.each([
  ["a NUL", "2\u0000rc"],
  ["a lone surrogate", "2\ud800"],
])("a version with %s is the one decisions name after a restart, and the one a restart serves", async (_, version) => {
  const dir = workDir();
  const file = join(dir, "rules", "on-demand.json");
  setVersion(file, version);
  const first = await serve(dir);
  const policy = (await (await fetch(`${first.url}/v1/policies/on-demand`)).json()) as { version: string };
  expect(policy.version).toBe(version);
  const put = await fetch(`${first.url}/v1/objects/o1`, {
    method: "PUT",
    headers: json,
    body: JSON.stringify({ policy: "on-demand" }),
  });
  expect(put.status).toBe(201);
  expect(await versionsOf(first.url, "o1")).toEqual([version]);
  await closeLast();

  // The same file: the decision taken before the restart still names its version.
  const second = await serve(dir);
  expect(await versionsOf(second.url, "o1")).toEqual([version]);
  await closeLast();

  // The file gone: the version stored in the database serves, under its own version.
  rmSync(file);
  const third = await serve(dir);
  const served = (await (await fetch(`${third.url}/v1/policies/on-demand`)).json()) as { version: string };
  expect(served.version).toBe(version);
  const facts = await fetch(`${third.url}/v1/objects/o1/facts`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ facts: { work: { pending: 1 } } }),
  });
  expect(facts.status).toBe(200);
  expect(await versionsOf(third.url, "o1")).toEqual([version, version]);
});
