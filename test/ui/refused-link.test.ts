// A link to the objects list whose filters or cursor the API refuses (a state that is none, a
// limit past 500, a cursor cut short): the list comes without them, and the page says so, in
// chromium. The refusal, a 422 at every read, was said as a server that could not be read and
// read again for good; with a token just given, the page stayed behind the sign-in form. And a
// link's page size the menu does not offer (?limit=2) is shown in it, and kept by Apply.

import { expect, test } from "vitest";
import { NAME_HELP } from "../../src/contracts/policy.ts";
import { ids, ADMIN_TOKEN, READ_TOKEN, READER_AND_ADMIN, SIMULATED, synced, uiSuite } from "./browser.ts";

const ui = uiSuite();

test("a link with a state and a limit the API refuses: after signing in, the list without them", async () => {
  const server = await ui.start({ tokens: READER_AND_ADMIN });
  for (const id of ["w-1", "w-2"])
    await server.call("PUT", `/v1/objects/${id}`, { policy: "queue-worker", substrate: SIMULATED }, ADMIN_TOKEN);
  const page = await ui.open("/ui?state=asleep&policy=queue-worker&limit=1000");
  await page.getByLabel("Read token").fill(READ_TOKEN);
  await page.getByRole("button", { name: "Use token" }).click();
  await synced(page);
  expect(await ids(page)).toEqual(["w-1", "w-2"]);
  expect(await page.locator("#auth").isHidden()).toBe(true);
  expect(await page.locator("#load-error").isHidden()).toBe(true);
  // The policy, which the API took, is kept; the refused parts are gone from the URL and the form.
  expect(new URL(page.url()).search).toBe("?policy=queue-worker&limit=50");
  expect(await page.getByLabel("State").inputValue()).toBe("");
  expect(await page.getByLabel("Per page").inputValue()).toBe("50");
  const status = await page.locator("#list-status").textContent();
  expect(status).toMatch(/^The link's state and limit were refused \(state must be one of .*; limit must be /);
  expect(status).toMatch(/, and left out\. 2 objects\.$/);
  // Choosing a view again: the page no longer speaks of the link.
  await page.getByLabel("State").selectOption("dormant");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.locator("#list-status").getByText("2 objects.", { exact: true }).waitFor();
});

test('a link with a policy name the API refuses says so once, not "policy policy names are"', async () => {
  const server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await ui.open("/ui?policy=not%20a%20name");
  await synced(page);
  expect(await ids(page)).toEqual(["w-1"]);
  expect(new URL(page.url()).search).toBe("?limit=50");
  expect(await page.locator("#list-status").textContent()).toBe(
    `The link's policy was refused (policy names are ${NAME_HELP}), and left out. 1 object.`,
  );
});

test("a link with a cursor no server issued shows the first page", async () => {
  const server = await ui.start();
  await server.call("PUT", "/v1/objects/w-1", { policy: "queue-worker", substrate: SIMULATED });
  const page = await ui.open("/ui?limit=25&cursor=not*a*cursor");
  await synced(page);
  expect(await ids(page)).toEqual(["w-1"]);
  expect(await page.locator("#load-error").isHidden()).toBe(true);
  expect(new URL(page.url()).search).toBe("?limit=25");
  expect(await page.getByRole("button", { name: "First page" }).isDisabled()).toBe(true);
  expect(await page.locator("#list-status").textContent()).toBe(
    "The link's cursor was refused (cursor not a cursor this server issued), and left out. 1 object.",
  );
});

test("a link's page size the menu does not offer is shown in it, and kept when the filters change", async () => {
  const server = await ui.start();
  for (const id of ["w-1", "w-2", "w-3"])
    await server.call("PUT", `/v1/objects/${id}`, { policy: "queue-worker", substrate: SIMULATED });
  const page = await ui.open("/ui?limit=2");
  await synced(page);
  expect(await ids(page)).toEqual(["w-1", "w-2"]);
  // It showed blank, and Apply sent no limit: the API's 100, all three listed.
  expect(await page.getByLabel("Per page").inputValue()).toBe("2");
  await page.getByLabel("State").selectOption("dormant");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/state=dormant/);
  expect(new URL(page.url()).search).toBe("?state=dormant&limit=2");
  await page.locator("#list-status").getByText("2 objects, more on the next page.", { exact: true }).waitFor();
  expect(await ids(page)).toEqual(["w-1", "w-2"]);
});
