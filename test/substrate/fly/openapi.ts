// Fly's published OpenAPI document as a request checker for the fake: finds the operation for
// a method and path, and checks path, query and header parameters and the JSON body against
// the operation's schemas (the JSON Schema subset the document uses: $ref, allOf, type,
// properties, required, enum, items, additionalProperties). Objects are checked strictly: a
// property the schema does not name is a violation, so a typo in a driver's body shows up.

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/**
 * A copy of Fly's published document, checked in so that a fresh clone has everything its
 * tests need; `SHARED_SPEC_PATH` is the team's copy beside the repository, and a test fails
 * when the two differ.
 */
export const DEFAULT_SPEC_PATH = fileURLToPath(new URL("./spec/fly-machines-openapi.yaml", import.meta.url));
export const SHARED_SPEC_PATH = fileURLToPath(
  new URL("../../../../shared/contracts/fly-machines-openapi.yaml", import.meta.url),
);

type Schema = {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  items?: Schema;
  additionalProperties?: boolean | Schema;
  pattern?: string;
};

interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

interface SpecDocument {
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

/**
 * Where the fake knowingly departs from the document, each with its reason. `fly.Duration`
 * is rendered there as `{"time.Duration": <int>}`, an artefact of generating the document from
 * Go's embedded time.Duration; Fly's own client library declares the field
 * `swaggertype:"string" example:"10s"` and Fly parses a Go duration string, which is what the
 * driver sends. Pass `overrides: false` to check against the document exactly as written.
 */
export const SCHEMA_OVERRIDES: Record<string, Schema> = {
  "fly.Duration": { type: "string", pattern: "^(?:0|(?:(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$" },
};

export interface MatchedOperation {
  operationId: string;
  template: string;
  method: string;
  params: Record<string, string>;
  operation: Operation;
}

export type Match = { found: MatchedOperation } | { status: 404 | 405; problem: string };

export class OpenApiSpec {
  /** Path prefix of the first server URL (`/v1`). */
  readonly basePath: string;
  private readonly routes: { template: string; regex: RegExp; names: string[] }[];

  constructor(
    readonly doc: SpecDocument,
    private readonly overrides: Record<string, Schema> = SCHEMA_OVERRIDES,
  ) {
    this.basePath = new URL(doc.servers?.[0]?.url ?? "http://x/").pathname.replace(/\/$/, "");
    this.routes = Object.keys(doc.paths).map((template) => {
      const names: string[] = [];
      const source = template
        .split("/")
        .map((seg) => {
          const m = /^\{(.+)\}$/.exec(seg);
          if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
          names.push(m[1]!);
          return "([^/]+)";
        })
        .join("/");
      return { template, regex: new RegExp(`^${source}$`), names };
    });
  }

  /** The operation a request addresses: 404 when no path matches, 405 when the method does not. */
  match(method: string, pathname: string): Match {
    if (!pathname.startsWith(`${this.basePath}/`))
      return { status: 404, problem: `${pathname}: not under ${this.basePath}` };
    const rest = pathname.slice(this.basePath.length);
    // Literal segments beat parameters (as in `/metadata` versus `/{key}`): try templates with fewer params first.
    const candidates = this.routes
      .map((r) => ({ r, m: r.regex.exec(rest) }))
      .filter((x) => x.m !== null)
      .sort((a, b) => a.r.names.length - b.r.names.length);
    if (candidates.length === 0) return { status: 404, problem: `no path in the spec matches ${rest}` };
    for (const { r, m } of candidates) {
      const operation = this.doc.paths[r.template]![method.toLowerCase()];
      if (!operation) continue;
      const params: Record<string, string> = {};
      r.names.forEach((name, i) => (params[name] = decodeURIComponent(m![i + 1]!)));
      return { found: { operationId: operation.operationId, template: r.template, method, params, operation } };
    }
    return { status: 405, problem: `${method} is not an operation of ${candidates[0]!.r.template}` };
  }

  /** Problems with a request's parameters and body; empty when it is as the spec says. */
  checkRequest(
    op: MatchedOperation,
    query: URLSearchParams,
    headers: Headers,
    body: { text: string; contentType: string | null },
  ): string[] {
    const out: string[] = [];
    const declared = op.operation.parameters ?? [];
    for (const p of declared) {
      const raw =
        p.in === "path"
          ? op.params[p.name]
          : p.in === "query"
            ? (query.get(p.name) ?? undefined)
            : p.in === "header"
              ? (headers.get(p.name) ?? undefined)
              : undefined;
      if (raw === undefined) {
        if (p.required) out.push(`${p.in} parameter ${p.name} is required`);
        continue;
      }
      if (p.schema) out.push(...this.checkValue(parseParam(raw, p.schema), p.schema, `${p.in}.${p.name}`));
    }
    for (const name of new Set(query.keys()))
      if (!declared.some((p) => p.in === "query" && p.name === name))
        out.push(`query parameter ${name} is not in the spec`);

    const rb = op.operation.requestBody;
    const present = body.text.trim() !== "";
    if (!rb) {
      if (present) out.push("the operation takes no request body");
      return out;
    }
    if (!present) {
      if (rb.required) out.push("a request body is required");
      return out;
    }
    const schema = rb.content?.["application/json"]?.schema;
    if (!body.contentType?.includes("application/json")) out.push("the request body must be application/json");
    let value: unknown;
    try {
      value = JSON.parse(body.text);
    } catch {
      out.push("the request body is not JSON");
      return out;
    }
    if (schema) out.push(...this.checkValue(value, schema, "body"));
    return out;
  }

  /** Problems with a response body the fake is about to send (the fake checks itself too). */
  checkResponse(op: MatchedOperation, status: number, value: unknown): string[] {
    const schema = op.operation.responses?.[String(status)]?.content?.["application/json"]?.schema;
    return schema ? this.checkValue(value, schema, `response ${status}`) : [];
  }

  /** Checks a value against a schema of the document (refs resolved, overrides applied). */
  checkValue(value: unknown, schema: Schema, path: string): string[] {
    if (schema.$ref) return this.checkValue(value, this.resolve(schema.$ref), path);
    const out: string[] = [];
    for (const s of schema.allOf ?? []) out.push(...this.checkValue(value, s, path));
    if (schema.enum && !schema.enum.includes(value))
      out.push(
        `${path}: ${JSON.stringify(value)} is not one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`,
      );
    switch (schema.type) {
      case undefined:
        break;
      case "object": {
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
          out.push(`${path}: expected an object`);
          break;
        }
        const obj = value as Record<string, unknown>;
        for (const key of schema.required ?? []) if (!(key in obj)) out.push(`${path}.${key}: required`);
        for (const [key, v] of Object.entries(obj)) {
          const prop = schema.properties?.[key];
          if (prop) out.push(...this.checkValue(v, prop, `${path}.${key}`));
          else if (typeof schema.additionalProperties === "object")
            out.push(...this.checkValue(v, schema.additionalProperties, `${path}.${key}`));
          else if (schema.additionalProperties !== true) out.push(`${path}.${key}: not a property in the spec`);
        }
        break;
      }
      case "array":
        if (!Array.isArray(value)) out.push(`${path}: expected an array`);
        else if (schema.items) value.forEach((v, i) => out.push(...this.checkValue(v, schema.items!, `${path}[${i}]`)));
        break;
      case "string":
        if (typeof value !== "string") out.push(`${path}: expected a string`);
        else if (schema.pattern && !new RegExp(schema.pattern, "u").test(value))
          out.push(`${path}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
        break;
      case "integer":
        if (!Number.isInteger(value)) out.push(`${path}: expected an integer`);
        break;
      case "number":
        if (typeof value !== "number" || !Number.isFinite(value)) out.push(`${path}: expected a number`);
        break;
      case "boolean":
        if (typeof value !== "boolean") out.push(`${path}: expected a boolean`);
        break;
      default:
        out.push(`${path}: the checker does not know type ${schema.type}`);
    }
    return out;
  }

  private resolve(ref: string): Schema {
    const prefix = "#/components/schemas/";
    if (!ref.startsWith(prefix)) throw new Error(`unsupported $ref ${ref}`);
    const name = ref.slice(prefix.length);
    const schema = this.overrides[name] ?? this.doc.components?.schemas?.[name];
    if (!schema) throw new Error(`the spec has no schema ${name}`);
    return schema;
  }
}

/** Parameters arrive as text; integers and booleans are read before their schema is checked. */
function parseParam(raw: string, schema: Schema): unknown {
  if (schema.type === "integer") return /^-?\d+$/.test(raw) ? Number(raw) : raw;
  if (schema.type === "number") return raw.trim() !== "" && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  if (schema.type === "boolean") return raw === "true" ? true : raw === "false" ? false : raw;
  return raw;
}

/** Reads and parses the spec; fails loudly when the file is missing. */
export function loadSpec(path: string = DEFAULT_SPEC_PATH, overrides = true): OpenApiSpec {
  if (!existsSync(path))
    throw new Error(
      `Fly's OpenAPI document is missing at ${path}: the fly fake is written from it. ` +
        "It is checked in under test/substrate/fly/spec/; copy it from ../shared/contracts/ or pass specPath.",
    );
  const doc = parse(readFileSync(path, "utf8")) as SpecDocument;
  if (!doc?.paths) throw new Error(`${path} is not an OpenAPI document (no paths)`);
  return new OpenApiSpec(doc, overrides ? SCHEMA_OVERRIDES : {});
}
