// `vigil objects list|get|put|delete`: the objects a running server governs, through
// /v1/objects. Text by default (a table, or one object's fields), the server's JSON with --json.

import { parseCommandLine } from "./parse-args.ts";
import { CliError, processIo, reporting, request, seg, targetOf, usageError, type Io, type Target } from "./client.ts";
import { shellWord, targetFlags } from "./command-line.ts";
import { objectPage, objectReply } from "../contracts/api-replies.ts";
import { jsonArgument, nonEmpty, replyBody, positiveInt, printJson, show, table } from "./output.ts";
import { printable } from "./printable.ts";
import { isNameList } from "./values.ts";
import { CLIENT_PARSE_OPTIONS, EXIT, printUsage } from "./usage.ts";

/** The fields of an Object (README, "HTTP API v1") this command prints. */
interface ObjectView {
  id: string;
  policy: { name: string; version: string | null };
  state: string;
  stateSince: string;
  memory: unknown;
  memoryVersion: number;
  substrate: { driver: string; config: unknown; observed: { status: string; at: string | null } | null };
  holdUntil: string | null;
  timers: { name: string; dueAt: string; kind: string }[];
  lastDecisionId: string | null;
}

const SUBCOMMANDS = ["list", "get", "put", "delete"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

/** The options each subcommand takes besides --url, --token and --json. */
const OWN_OPTIONS: Record<Subcommand, string[]> = {
  list: ["state", "policy", "limit", "cursor"],
  get: [],
  put: ["policy", "driver", "config", "memory"],
  delete: ["compute"],
};

const OPTIONS = {
  ...CLIENT_PARSE_OPTIONS,
  state: { type: "string" },
  policy: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  driver: { type: "string" },
  config: { type: "string" },
  memory: { type: "string" },
  compute: { type: "string" },
} as const;

type Values = ReturnType<typeof parse>["values"];
const parse = (args: string[]) => parseCommandLine({ args, options: OPTIONS, allowPositionals: true, strict: true });

export async function runObjects(args: string[], partial: Partial<Io> = {}): Promise<number> {
  const io = processIo(partial);
  const { values, positionals } = parse(args);
  if (values.help) return printUsage("objects", io.out);
  return reporting("objects", io, async () => {
    const [sub, ...rest] = positionals;
    if (!SUBCOMMANDS.includes(sub as Subcommand))
      throw usageError("objects", sub === undefined ? "which subcommand?" : `unknown subcommand "${sub}"`);
    const command = sub as Subcommand;
    for (const name of Object.keys(values))
      if (name in OPTIONS && !(name in CLIENT_PARSE_OPTIONS) && !OWN_OPTIONS[command].includes(name))
        throw usageError("objects", `--${name} does not apply to objects ${command}`);
    const wanted = command === "list" ? 0 : 1;
    if (rest.length !== wanted)
      throw usageError("objects", wanted === 0 ? "objects list takes no ID" : `objects ${command} takes one ID`);
    if (values.policy !== undefined && isNameList(values.policy))
      throw usageError("objects", `--policy names one policy, not the list "${values.policy}"`);
    const target = targetOf("objects", values, io);
    const id = rest[0]!;
    if (command === "list") return list(target, values, io);
    if (command === "get") return get(target, id, values.json, io);
    if (command === "put") return put(target, id, values, io);
    return remove(target, id, values, io);
  });
}

async function list(target: Target, values: Values, io: Io): Promise<number> {
  const limit = positiveInt("objects", "--limit", values.limit);
  const query = {
    state: nonEmpty("objects", "--state", values.state),
    policy: nonEmpty("objects", "--policy", values.policy),
    limit,
    cursor: nonEmpty("objects", "--cursor", values.cursor),
  };
  const reply = await request(target, "GET", "/v1/objects", { query });
  const page = replyBody<{ items: ObjectView[]; nextCursor?: string }>(reply.body, objectPage, "a list of objects");
  if (values.json) {
    printJson(io, page);
    return EXIT.ok;
  }
  if (page.items.length === 0) io.out("no objects\n");
  else
    io.out(
      table(
        ["ID", "STATE", "POLICY", "SINCE"],
        page.items.map((o) => [o.id, o.state, policyText(o.policy), o.stateSince]),
      ),
    );
  if (page.nextCursor) {
    // The same server, filters and page size: the cursor is only where the next page starts.
    const given = (["state", "policy", "limit"] as const).flatMap((k) =>
      values[k] === undefined ? [] : [`--${k}`, shellWord(values[k])],
    );
    const words = ["vigil objects list", ...targetFlags(values, target), ...given];
    io.out(`more: ${[...words, "--cursor", shellWord(page.nextCursor)].join(" ")}\n`);
  }
  return EXIT.ok;
}

async function get(target: Target, id: string, json: boolean, io: Io): Promise<number> {
  const reply = await request(target, "GET", `/v1/objects/${seg("objects", id)}`);
  const object = replyBody<ObjectView>(reply.body, objectReply, "an object");
  if (json) printJson(io, object);
  else io.out(describeObject(object));
  return EXIT.ok;
}

async function put(target: Target, id: string, values: Values, io: Io): Promise<number> {
  if (!values.policy) throw usageError("objects", "objects put needs --policy NAME");
  nonEmpty("objects", "--driver", values.driver);
  if (values.config !== undefined && !values.driver) throw usageError("objects", "--config needs --driver");
  if (values.config === "-" && values.memory === "-")
    throw usageError("objects", "only one of --config and --memory can read stdin");
  const body: Record<string, unknown> = { policy: values.policy };
  if (values.driver) {
    const config = values.config === undefined ? {} : await jsonArgument("objects", "--config", values.config, io);
    body.substrate = { driver: values.driver, config };
  }
  if (values.memory !== undefined) body.memory = await jsonArgument("objects", "--memory", values.memory, io);
  const reply = await request(target, "PUT", `/v1/objects/${seg("objects", id)}`, { json: body });
  const object = replyBody<ObjectView>(reply.body, objectReply, "an object");
  if (values.json) printJson(io, object);
  else io.out(`${reply.status === 201 ? "created" : "updated"} ${describeObject(object)}`);
  return EXIT.ok;
}

async function remove(target: Target, id: string, values: Values, io: Io): Promise<number> {
  const compute = values.compute ?? "stop";
  if (compute !== "stop" && compute !== "keep") throw usageError("objects", "--compute takes stop or keep");
  const reply = await request(target, "DELETE", `/v1/objects/${seg("objects", id)}`, { query: { compute } });
  // The server answers 204; another 2xx (another service on the URL) deleted nothing we know of.
  if (reply.status !== 204)
    throw new CliError(EXIT.serverError, `the server's reply is not a deletion (${reply.status}, not 204 No Content)`);
  if (values.json) printJson(io, { id, deleted: true, compute });
  else io.out(`deleted ${id} (${compute === "stop" ? "its compute was stopped" : "its compute was left running"})\n`);
  return EXIT.ok;
}

const policyText = (p: ObjectView["policy"]) => `${p.name}@${p.version ?? "(not loaded)"}`;

/** One object as lines: what it is governed by, where it is, what is pending, its memory. */
export function describeObject(o: ObjectView): string {
  const observed = o.substrate.observed;
  const timers = o.timers.map((t) => `${t.name} at ${t.dueAt} (${t.kind})`);
  const rows: [string, string][] = [
    ["policy", policyText(o.policy)],
    ["state", `${o.state} since ${o.stateSince}`],
    [
      "substrate",
      `${o.substrate.driver}${observed ? `, observed ${observed.status}${observed.at ? ` at ${observed.at}` : ""}` : ""}`,
    ],
    ["config", show(o.substrate.config)],
  ];
  if (o.holdUntil) rows.push(["held until", o.holdUntil]);
  rows.push(["timers", timers.length > 0 ? timers.join(", ") : "none"]);
  if (o.lastDecisionId) rows.push(["last decision", `${o.lastDecisionId}  (vigil explain ${o.lastDecisionId})`]);
  const memoryKey = `memory v${o.memoryVersion}`;
  rows.push([memoryKey, memoryText(o.memory)]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const text = ([k, v]: [string, string]) => `  ${`${k}:`.padEnd(width)}${k === memoryKey ? v : printable(v)}`;
  return `${printable(o.id)}\n${rows.map(text).join("\n")}\n`;
}

/** Memory on its line when it is short, else indented below it (its lines printable each). */
function memoryText(memory: unknown): string {
  const line = JSON.stringify(memory);
  if (line.length <= 80) return printable(line);
  // JSON's strings escape their line breaks: the text's own are the indentation's.
  const lines = JSON.stringify(memory, null, 2).split("\n").map(printable);
  return `\n    ${lines.join("\n    ")}`;
}
