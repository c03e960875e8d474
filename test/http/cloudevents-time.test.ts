// A CloudEvent's `time` is an RFC 3339 timestamp, whose date must be one the calendar has (RFC
// 3339 5.7): `2026-02-30T00:00:00Z` matched the pattern (any day up to 31 in any month) and was
// taken. Real HTTP, structured, binary and batch modes.

import { afterAll, beforeAll, expect, test } from "vitest";
import { servedDoors } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
beforeAll(async () => {
  served = await servedDoors([], 1 << 20);
});
afterAll(() => served.close());

let n = 0;
async function send(contentType: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${served.port}/v1/cloudevents`, {
    method: "POST",
    headers: { "content-type": contentType, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}
const event = (time: string) => ({
  specversion: "1.0",
  id: `e${n++}`,
  source: "s",
  type: "t",
  subject: "w1",
  time,
  data: { a: n },
});

test.each(["2026-02-29T00:00:00Z", "2026-04-31T12:00:00Z", "2100-02-29T00:00:00+01:00", "1900-02-29T00:00:00Z"])(
  "%s is refused in each mode, nothing applied",
  async (time) => {
    const structured = await send("application/cloudevents+json", event(time));
    expect(structured.status).toBe(422);
    expect(structured.body.errors).toEqual([{ path: "$.time", message: "is not a date the calendar has" }]);

    const binary = await send(
      "application/json",
      { a: 1 },
      {
        "ce-specversion": "1.0",
        "ce-id": `b${n++}`,
        "ce-source": "s",
        "ce-type": "t",
        "ce-subject": "w1",
        "ce-time": time,
      },
    );
    expect(binary.status).toBe(422);
    expect(binary.body.errors).toEqual([{ path: "$.headers.ce-time", message: "is not a date the calendar has" }]);

    const batch = await send("application/cloudevents-batch+json", [event(time)]);
    expect(batch.status).toBe(200);
    expect(batch.body.results[0].error.errors).toEqual([
      { path: "$[0].time", message: "is not a date the calendar has" },
    ]);
    expect((await served.services.governor.getObject("w1"))?.memoryVersion).toBe(0);
  },
);

test.each(["2024-02-29T00:00:00Z", "2000-02-29T23:59:60Z", "2026-12-31t23:59:59.5-08:00", "0000-02-29T00:00:00Z"])(
  "%s is taken",
  async (time) => {
    expect((await send("application/cloudevents+json", event(time))).status).toBe(200);
  },
);

test("a timestamp of the wrong form is told that alone", async () => {
  const res = await send("application/cloudevents+json", event("2026-02-30"));
  expect(res.body.errors).toEqual([{ path: "$.time", message: "expected an RFC 3339 timestamp" }]);
});
