// parseTokens: the VIGIL_TOKENS format, and clear errors that never echo a token.

import { describe, expect, test } from "vitest";
import { grants, parseTokens } from "../../src/http/auth.ts";

const T1 = "0123456789abcdef0123";
const T2 = "fedcba9876543210fedc";

describe("parseTokens", () => {
  test.each(["", "   ", "\n", ",,"])("no tokens in %j", (text) => {
    expect(parseTokens(text)).toEqual([]);
  });

  test("one entry with several scopes", () => {
    expect(parseTokens(`ingest:${T1}:write:facts+read`)).toEqual([
      { name: "ingest", token: T1, scopes: ["write:facts", "read"] },
    ]);
  });

  test("entries separated by commas, whitespace or newlines", () => {
    const text = ` ops:${T1}:admin ,\n  reader:${T2}:read\n`;
    expect(parseTokens(text)).toEqual([
      { name: "ops", token: T1, scopes: ["admin"] },
      { name: "reader", token: T2, scopes: ["read"] },
    ]);
  });

  test("tokens may use the whole b64token alphabet", () => {
    const token = "aZ09-._~+/aZ09-._~+/==";
    expect(parseTokens(`x:${token}:read`)[0]!.token).toBe(token);
  });

  test("duplicate scopes collapse", () => {
    expect(parseTokens(`x:${T1}:read+read`)[0]!.scopes).toEqual(["read"]);
  });

  test.each([
    ["a token without scopes", `ingest:${T1}`, /entry 1 \("ingest"\): expected name:token:scope/],
    ["a bare word (a token, maybe: not quoted)", "justatoken", /entry 1: expected name:token:scope/],
    ["an empty scope", `ingest:${T1}:`, /unknown scope ""/],
    ["a trailing +", `ingest:${T1}:read+`, /unknown scope ""/],
    [
      "an unknown scope",
      `ingest:${T1}:write`,
      /unknown scope "write"; scopes are read, write:facts, write:objects, admin/,
    ],
    ["scopes joined with a colon", `ingest:${T1}:read:admin`, /unknown scope "read:admin"/],
    ["a misspelt scope (maybe a token's end: not quoted)", `ingest:${T1}:wrte`, /an unknown scope, not shown/],
    ["an empty name", `:${T1}:read`, /entry 1: the name must be/],
    ["a bad name", `my/name!:${T1}:read`, /the name must be/],
    ["a short token", "ingest:short:read", /at least 16 characters/],
    ["an empty token", "ingest::read", /the token may use only/],
    ["a token with odd characters", `ingest:${T1}"\u00e9:read`, /the token may use only/],
    ["a duplicate name", `a:${T1}:read,a:${T2}:read`, /entry 2 \("a"\): the name "a" is used twice/],
    ["a duplicate token", `a:${T1}:read,b:${T1}:admin`, /entry 2 \("b"\): the same token is configured twice/],
  ])("rejects %s", (_label, text, message) => {
    expect(() => parseTokens(text)).toThrow(message);
  });

  test.each([
    ["with its scopes after it", `ops:${T1}:${T2}:admin`, /entry 1 \("ops"\): the token holds a ":"/],
    ["with no scopes after it", `ops:${T1}:${T2}`, /entry 1 \("ops"\): an unknown scope, not shown/],
    ["its end all letters", `ops:${T1}:abcdefghijklmnopqrst`, /entry 1 \("ops"\): an unknown scope, not shown/],
  ])("a token holding a colon, %s, is refused without showing the part after the colon", (_label, text, message) => {
    expect(() => parseTokens(text)).toThrow(message);
    expect(() => parseTokens(text)).not.toThrow(T2);
    expect(() => parseTokens(text)).not.toThrow("abcdefghijklmnopqrst");
  });

  test.each([
    ["then scopes", `ops:${T1}:QmZxab:admin`, /entry 1 \("ops"\): the token holds a ":"/],
    ["then a scope and an unknown one", `ops:${T1}:QmZx:read+write`, /entry 1 \("ops"\): an unknown scope, not shown/],
    ["and nothing after them", `ops:${T1}:QmZxab`, /entry 1 \("ops"\): an unknown scope, not shown/],
  ])("a token holding a colon, its end a few letters, %s, is refused without showing them", (_label, text, message) => {
    expect(() => parseTokens(text)).toThrow(message);
    expect(() => parseTokens(text)).not.toThrow("QmZx");
  });

  test("errors never contain the token, even where the entry lacks its name", () => {
    for (const text of [
      `a:${T1}:nope`,
      `a:${T1}:read,a:${T2}:read`,
      `a:${T1}:read,b:${T1}:read`,
      T1,
      `${T1}:admin`,
      `${T1}:write:facts`,
      `${T1}:read+admin`,
    ]) {
      let message = "";
      try {
        parseTokens(text);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).not.toBe("");
      expect(message).not.toContain(T1);
      expect(message).not.toContain(T2);
    }
  });
});

describe("grants", () => {
  test.each([
    [["read"], "read", true],
    [["read"], "write:facts", false],
    [["write:facts"], "read", false],
    [["write:objects", "write:facts"], "write:facts", true],
    [["admin"], "read", true],
    [["admin"], "write:objects", true],
    [["admin"], "admin", true],
    [["read", "write:facts", "write:objects"], "admin", false],
  ] as const)("%j grants %s: %s", (scopes, scope, expected) => {
    expect(grants(scopes, scope)).toBe(expected);
  });
});
