// README "CloudEvents": "`data` must be a JSON object. A bad event is a 422 naming the attribute
// (`$.subject`, or `$.headers.ce-subject` in binary mode)". In binary mode the data is the body;
// a body that is not an object is a 422 at `$` (test/http/cloudevents.test.ts). A binary-mode
// event with no data (an empty body, which CloudEvents allows) was a 400 "malformed-request",
// unlike the same event in structured mode (422 at `$.data`); it is a 422 at `$` now.

import { afterEach, beforeEach, expect, test } from "vitest";
import { setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
  await h.services.governor.putObject("w1", { policy: "queue-worker" });
});
afterEach(async () => {
  await h.close();
});

const attributes = { specversion: "1.0", id: "evt-1", source: "/queues/jobs", type: "t", subject: "w1" };

test("an event without data is a 422 naming the data in both modes", async () => {
  const structured = await h.call("POST", "/v1/cloudevents", {
    raw: JSON.stringify(attributes),
    headers: { "content-type": "application/cloudevents+json" },
  });
  expect(structured.status).toBe(422);
  expect(structured.body.errors).toContainEqual(expect.objectContaining({ path: "$.data" }));

  const binary = await h.call("POST", "/v1/cloudevents", {
    raw: "",
    headers: {
      "content-type": "application/json",
      ...Object.fromEntries(Object.entries(attributes).map(([k, v]) => [`ce-${k}`, v])),
    },
  });
  expect({ status: binary.status, type: binary.body.type, errors: binary.body.errors }).toEqual({
    status: 422,
    type: "https://vigil.dev/problems/validation",
    errors: [{ path: "$", message: expect.any(String) }],
  });
  expect((await h.services.governor.getObject("w1"))!.memoryVersion).toBe(0);
});
