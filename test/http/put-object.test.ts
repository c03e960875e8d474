// The PUT /v1/objects/{id} endpoint (routes/objects.ts) that the hono route and the fast path
// share: its check of the body without zod must read every body exactly as putObjectSchema
// does, and refuse what it refuses with zod's own problems.

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { putObjectSchema } from "../../src/contracts/http.ts";
import { newObject } from "../../src/core/object.ts";
import type { GovernorApi, PoliciesApi, PutObjectInput } from "../../src/governor/services.ts";
import { HttpProblem } from "../../src/http/problem.ts";
import { putObjectEndpoint } from "../../src/http/routes/objects.ts";
import { check } from "../../src/http/validation.ts";

/** A governor that records what it is asked to put, and a registry that knows every policy. */
function recorder() {
  const seen: PutObjectInput[] = [];
  const governor = {
    putObject: async (id: string, input: PutObjectInput) => {
      seen.push(input);
      return { created: true, object: newObject({ id, policy: input.policy, at: 0 }) };
    },
  } as unknown as GovernorApi;
  const policies = { get: () => ({ version: "1" }) } as unknown as PoliciesApi;
  return { seen, governor, policies };
}

type Reading = { input: unknown } | { problem: { slug: string; detail: string; errors: unknown } };

const problemOf = (e: unknown) => {
  if (!(e instanceof HttpProblem)) throw e;
  return { problem: { slug: e.slug, detail: e.detail, errors: e.errors } };
};

/** What zod makes of a body (as it arrives: JSON text, parsed): the input, or its problem. */
function zodReading(body: unknown): Reading {
  try {
    return { input: check(putObjectSchema, JSON.parse(JSON.stringify(body)), "object") };
  } catch (e) {
    return problemOf(e);
  }
}

async function endpointReading(body: unknown): Promise<Reading> {
  const r = recorder();
  try {
    await putObjectEndpoint(r.governor, r.policies, {
      id: "w1",
      contentType: "application/json",
      body: () => Promise.resolve(JSON.stringify(body)),
    });
    return { input: r.seen[0] };
  } catch (e) {
    return problemOf(e);
  }
}

const json = fc.jsonValue({ maxDepth: 2 });
/** Bodies near the schema's shape, and off it in every way. */
const bodies = fc.oneof(
  fc.record(
    {
      policy: fc.oneof(fc.constantFrom("queue-worker", ""), json),
      substrate: fc.oneof(
        fc.record(
          {
            driver: fc.oneof(fc.constantFrom("simulated", ""), json),
            config: fc.oneof(fc.dictionary(fc.string(), json), json),
            extra: json,
          },
          { requiredKeys: [] },
        ),
        json,
      ),
      memory: fc.oneof(fc.dictionary(fc.string(), json), json),
      extra: json,
    },
    { requiredKeys: [] },
  ),
  json,
);

describe("the PUT body is read as putObjectSchema reads it", () => {
  test("examples: the defaults zod fills in, and what it refuses", async () => {
    const cases: unknown[] = [
      { policy: "queue-worker" },
      { policy: "queue-worker", substrate: { driver: "simulated" } },
      { policy: "queue-worker", substrate: { driver: "process", config: { command: "sh" } }, memory: { a: [1] } },
      { memory: { a: 1 }, policy: "queue-worker" },
      { policy: "queue-worker", memory: null },
      { policy: "queue-worker", substrate: null },
      { policy: "queue-worker", substrate: { driver: "simulated", config: null } },
      { policy: "queue-worker", substrate: { config: {} } },
      { policy: 1 },
      { policy: "" },
      { policy: "queue-worker", color: "red" },
      [],
      null,
      "queue-worker",
    ];
    for (const body of cases) expect(await endpointReading(body)).toEqual(zodReading(body));
    expect(await endpointReading({ policy: "p", substrate: { driver: "simulated" } })).toEqual({
      input: { policy: "p", substrate: { driver: "simulated", config: {} } },
    });
  });

  test("any body", async () => {
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        // A forbidden key is refused before either reading (parseJsonBody), so leave those out.
        fc.pre(!/"(__proto__|constructor|prototype)"/.test(JSON.stringify(body)));
        // So is a number memory could not keep exactly (an integer past 2^53 - 1).
        fc.pre(!unkeepable(body));
        expect(await endpointReading(body)).toEqual(zodReading(body));
      }),
      { numRuns: 500 },
    );
  });
});

/** A number anywhere in `v` that the body guard refuses: an integer past ±(2^53 - 1). */
function unkeepable(v: unknown): boolean {
  if (typeof v === "number") return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (Array.isArray(v)) return v.some(unkeepable);
  if (v !== null && typeof v === "object") return Object.values(v).some(unkeepable);
  return false;
}
