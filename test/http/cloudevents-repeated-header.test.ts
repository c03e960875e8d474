// A binary-mode CloudEvent whose `ce-id` (or another attribute's header) came twice: Node joins the
// two fields into one value, `a, b`, and that was taken as the attribute, a key no producer sent.
// An attribute has one value: a repeated header is a 422 naming it, and nothing is applied. Real
// HTTP on port 0 (app.request() has no fields to count), the replies read as a client reads them.

import { afterAll, beforeAll, expect, test } from "vitest";
import { pipelined, servedDoors, TOKEN_CONFIG, TOKENS } from "./harness.ts";

let served: Awaited<ReturnType<typeof servedDoors>>;
let port: number;
beforeAll(async () => {
  served = await servedDoors(TOKEN_CONFIG, 64 * 1024);
  ({ port } = served);
});
afterAll(() => served.close());

const attributes: [string, string][] = [
  ["ce-specversion", "1.0"],
  ["ce-id", "evt-1"],
  ["ce-source", "/queues/jobs"],
  ["ce-type", "queue.depth"],
  ["ce-subject", "w1"],
];

/** A binary-mode POST with these header fields, one line each (a name may come twice). */
function post(fields: [string, string][]): string {
  const body = JSON.stringify({ queue: { depth: 3 } });
  const lines = [
    `host: 127.0.0.1:${port}`,
    `authorization: Bearer ${TOKENS.facts}`,
    "content-type: application/json",
    `content-length: ${Buffer.byteLength(body)}`,
    ...fields.map(([k, v]) => `${k}: ${v}`),
  ];
  return `POST /v1/cloudevents HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n${body}`;
}

test.each(["ce-id", "ce-source", "ce-type", "ce-specversion", "ce-subject"])(
  "%s sent twice is a 422 naming it; nothing is applied",
  async (name) => {
    const before = await served.services.governor.getObject("w1");
    const fields = attributes.flatMap(([k, v]): [string, string][] =>
      k === name
        ? [
            [k, v],
            [k.toUpperCase(), v === "1.0" ? "1.0" : `${v}-b`],
          ]
        : [[k, v]],
    );
    const [reply] = await pipelined(port, [post(fields)], 1);
    expect(reply!.status).toBe(422);
    const problem = JSON.parse(reply!.body);
    expect(problem.errors).toEqual([{ path: `$.headers.${name}`, message: expect.stringMatching(/more than once/) }]);
    expect(await served.services.governor.getObject("w1")).toEqual(before);
  },
);

test("control: each attribute once is applied", async () => {
  const [reply] = await pipelined(port, [post(attributes)], 1);
  expect(reply!.status).toBe(200);
  console.log(reply!.body);
});
