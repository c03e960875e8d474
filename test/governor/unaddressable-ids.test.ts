// `.` and `..` are valid characters of an object id but, alone, no URL can name them: clients
// resolve them as path segments (`/v1/objects/..` is `/v1/`). A new object of such an id could
// never be read, sent facts or deleted, so it is refused; ids that merely contain dots are not.

import { afterEach, expect, test } from "vitest";
import { makeServices, type TestServices } from "../helpers/services.ts";

let services: TestServices | null = null;
afterEach(async () => {
  await services?.close();
  services = null;
});

test.each([".", ".."])("PUT of a new object %j is a 422 naming $.id; nothing is created", async (id) => {
  services = await makeServices();
  await expect(services.governor.putObject(id, { policy: "queue-worker" })).rejects.toMatchObject({
    kind: "invalid",
    problems: [{ path: "$.id", message: expect.stringMatching(/path segment/) }],
  });
  expect(await services.governor.getObject(id)).toBeNull();
});

test.each(["...", "a..b", ".hidden", "v1.2"])("an id with dots, %j, is created", async (id) => {
  services = await makeServices();
  expect((await services.governor.putObject(id, { policy: "queue-worker" })).created).toBe(true);
});
