// A Content-Type whose charset names another encoding than UTF-8: bodies are read as UTF-8 only
// (RFC 8259), so such a body is a 415 naming the charset, nothing applied, on every route that
// reads JSON, the server's fast path and CloudEvents' three modes included. UTF-8 declared in
// any spelling, or no charset, is read as ever.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { rawRequest } from "../helpers/raw-http.ts";
import { expectProblem, servedDoors, setup, type Harness } from "./harness.ts";

const FACTS = '{"facts":{"n":"\u00e9"}}';
const EVENT = { specversion: "1.0", id: "e1", source: "/s", type: "t", subject: "w1", data: { n: "\u00e9" } };

describe("through the app", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await setup();
    await h.services.governor.putObject("w1", { policy: "queue-worker" });
  });
  afterAll(() => h.close());

  const memory = async () => (await h.call("GET", "/v1/objects/w1")).body.memory;

  test.each(["iso-8859-1", "ISO-8859-1", '"latin1"', "utf-16le", "windows-1252"])(
    "charset=%s is a 415 naming it, nothing applied",
    async (charset) => {
      const before = await memory();
      const routes: [string, string, string, string][] = [
        ["POST", "/v1/objects/w1/facts", "application/json", FACTS],
        ["PUT", "/v1/objects/w2", "application/json", '{"policy":"queue-worker"}'],
        ["POST", "/v1/facts", "application/merge-patch+json", '{"items":[{"objectId":"w1","facts":{"n":1}}]}'],
        ["POST", "/v1/objects/w1/evaluate", "application/json", FACTS],
        ["POST", "/v1/cloudevents", "application/cloudevents+json", JSON.stringify(EVENT)],
        ["POST", "/v1/cloudevents", "application/cloudevents-batch+json", JSON.stringify([EVENT])],
      ];
      for (const [method, path, type, raw] of routes) {
        const reply = await h.call(method, path, { raw, headers: { "content-type": `${type}; charset=${charset}` } });
        const problem = expectProblem(reply, 415, "unsupported-media-type");
        expect(problem.detail, `${method} ${path}`).toContain(`charset ${JSON.stringify(charset)}`);
      }
      const binary = await h.call("POST", "/v1/cloudevents", {
        raw: '{"n":1}',
        headers: {
          "content-type": `application/json; charset=${charset}`,
          "ce-specversion": "1.0",
          "ce-id": "e2",
          "ce-source": "/s",
          "ce-type": "t",
          "ce-subject": "w1",
        },
      });
      expectProblem(binary, 415, "unsupported-media-type");
      expect(await memory()).toEqual(before);
      expect((await h.call("GET", "/v1/objects/w2")).status).toBe(404);
    },
  );

  test.each(["utf-8", "UTF-8", '"utf-8"', "utf8", "us-ascii"])("charset=%s is read as UTF-8", async (charset) => {
    const reply = await h.call("POST", "/v1/objects/w1/facts", {
      raw: FACTS,
      headers: { "content-type": `application/json; charset=${charset}` },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.object.memory.n).toBe("\u00e9");
  });

  // A `;` inside a quoted parameter value (RFC 9110 5.6.6) does not start a parameter.
  test.each(['foo="a;charset=latin1"', 'foo="a\\";charset=latin1"', 'foo="x;y"; charset=utf-8'])(
    "%s is read as UTF-8: the charset is inside a quoted value",
    async (params) => {
      const reply = await h.call("POST", "/v1/objects/w1/facts", {
        raw: FACTS,
        headers: { "content-type": `application/json; ${params}` },
      });
      expect(reply.status).toBe(200);
      expect(reply.body.object.memory.n).toBe("\u00e9");
    },
  );

  // A `"` that does not open a parameter's value (one within a token, as `b"c`) starts no quoted
  // string: read as one, it hid the charset after it and the latin1 body was read as UTF-8.
  test.each(['foo="a;b"; charset=latin1', 'foo=b"c; charset=latin1', 'fo"o=b; charset=latin1'])(
    "%s is still a 415 naming the charset",
    async (params) => {
      const reply = await h.call("POST", "/v1/objects/w1/facts", {
        raw: FACTS,
        headers: { "content-type": `application/json; ${params}` },
      });
      expect(expectProblem(reply, 415, "unsupported-media-type").detail).toContain('charset "latin1"');
    },
  );
});

test("the fast path refuses it too, over a real socket", async () => {
  const s = await servedDoors([], 1024 * 1024);
  try {
    const sent = await rawRequest(s.port, {
      method: "POST",
      path: "/v1/objects/w1/facts",
      headers: { "content-type": "application/json; charset=iso-8859-1" },
      // "Ã©" in Latin-1 are the bytes of "é" in UTF-8: read as UTF-8 they would store "é".
      body: Buffer.from(FACTS, "utf8"),
    });
    expect(sent.status).toBe(415);
    expect(sent.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(sent.text).detail).toContain('charset "iso-8859-1"');
    const object = await rawRequest(s.port, { method: "GET", path: "/v1/objects/w1" });
    expect(JSON.parse(object.text).memory).toEqual({});
  } finally {
    await s.close();
  }
});
