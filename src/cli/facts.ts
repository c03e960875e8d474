// `vigil facts post ID JSON|@FILE|-`: sends facts (a JSON Merge Patch of the object's memory)
// to POST /v1/objects/{id}/facts and prints the decision the arrival took.

import { parseCommandLine } from "./parse-args.ts";
import { processIo, reporting, request, seg, targetOf, usageError, type Io } from "./client.ts";
import { decisionText, type DecisionView } from "./explain.ts";
import { factsReply } from "../contracts/api-replies.ts";
import { IDEMPOTENCY_KEY_PATTERN } from "../contracts/http.ts";
import { jsonArgument, replyBody, printJson } from "./output.ts";
import { printable } from "./printable.ts";
import { CLIENT_PARSE_OPTIONS, EXIT, printUsage } from "./usage.ts";

const OPTIONS = { ...CLIENT_PARSE_OPTIONS, "idempotency-key": { type: "string" } } as const;

interface FactsReply {
  object: { id: string; state: string; stateSince: string; memoryVersion: number };
  decision: DecisionView;
}

export async function runFacts(args: string[], partial: Partial<Io> = {}): Promise<number> {
  const io = processIo(partial);
  const { values, positionals } = parseCommandLine({ args, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return printUsage("facts", io.out);
  return reporting("facts", io, async () => {
    const [sub, id, facts, ...extra] = positionals;
    if (sub !== "post")
      throw usageError("facts", sub === undefined ? "which subcommand?" : `unknown subcommand "${sub}"`);
    if (id === undefined || facts === undefined || extra.length > 0)
      throw usageError("facts", "facts post takes an ID and the facts (JSON, @FILE or -)");
    const target = targetOf("facts", values, io);
    const key = values["idempotency-key"];
    // The server's own rule, checked before anything is sent: a key with a line break or a
    // character past U+00FF cannot go in a header at all (fetch refuses it before it connects,
    // which would read as a server that cannot be reached), and the server refuses any other
    // key outside the rule, so the command says so as usage in each case.
    if (key !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(key))
      throw usageError("facts", "--idempotency-key takes 1-200 printable ASCII characters, no spaces");
    const patch = await jsonArgument("facts", "the facts argument", facts, io);
    const reply = await request(target, "POST", `/v1/objects/${seg("facts", id)}/facts`, {
      json: { facts: patch },
      headers: key === undefined ? {} : { "idempotency-key": key },
    });
    const result = replyBody<FactsReply>(reply.body, factsReply, "a decision");
    // A repeat of an idempotency key applies nothing: the server says so in a header only, which
    // --json would otherwise lose, so the reply carries it as `replayed`.
    const replayed = reply.headers.get("idempotent-replayed") === "true";
    if (values.json) {
      printJson(io, { ...result, replayed });
      return EXIT.ok;
    }
    if (replayed) io.out(`replayed: the key "${key}" was used before; nothing was applied again\n`);
    io.out(decisionText(result.decision));
    const o = result.object;
    io.out(`${printable(`object ${o.id} ${o.state} since ${o.stateSince}, memory v${o.memoryVersion}`)}\n`);
    return EXIT.ok;
  });
}
