// `vigil decisions list|get`: an object's decisions newest first (GET
// /v1/objects/{id}/decisions), or one decision (GET /v1/decisions/{id}).

import { parseCommandLine } from "./parse-args.ts";
import { processIo, reporting, request, seg, targetOf, usageError, type Io } from "./client.ts";
import { shellWord, targetFlags } from "./command-line.ts";
import { decisionText, type DecisionView } from "./explain.ts";
import { decisionPage, decisionReply } from "../contracts/api-replies.ts";
import { nonEmpty, replyBody, positiveInt, printJson, states, table, triggerText } from "./output.ts";
import { CLIENT_PARSE_OPTIONS, EXIT, printUsage } from "./usage.ts";

const OPTIONS = { ...CLIENT_PARSE_OPTIONS, limit: { type: "string" }, before: { type: "string" } } as const;

/** What a page holds when --limit is not given (the server's default too). */
const DEFAULT_LIMIT = 50;

export async function runDecisions(args: string[], partial: Partial<Io> = {}): Promise<number> {
  const io = processIo(partial);
  const { values, positionals } = parseCommandLine({ args, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) return printUsage("decisions", io.out);
  return reporting("decisions", io, async () => {
    const [sub, ...rest] = positionals;
    if (sub !== "list" && sub !== "get")
      throw usageError("decisions", sub === undefined ? "which subcommand?" : `unknown subcommand "${sub}"`);
    if (rest.length !== 1)
      throw usageError(
        "decisions",
        sub === "list" ? "decisions list takes one OBJECT_ID" : "decisions get takes one DECISION_ID",
      );
    if (sub === "get" && (values.limit !== undefined || values.before !== undefined))
      throw usageError("decisions", "--limit and --before apply to decisions list only");
    const target = targetOf("decisions", values, io);
    const id = rest[0]!;

    if (sub === "get") {
      const decision = replyBody<DecisionView>(
        (await request(target, "GET", `/v1/decisions/${seg("decisions", id)}`)).body,
        decisionReply,
        "a decision",
      );
      if (values.json) printJson(io, decision);
      else io.out(decisionText(decision));
      return EXIT.ok;
    }

    const limit = positiveInt("decisions", "--limit", values.limit) ?? DEFAULT_LIMIT;
    const query = { limit, before: nonEmpty("decisions", "--before", values.before) };
    const reply = await request(target, "GET", `/v1/objects/${seg("decisions", id)}/decisions`, { query });
    const page = replyBody<{ items: DecisionView[]; nextBefore?: string }>(
      reply.body,
      decisionPage,
      "a list of decisions",
    );
    if (values.json) {
      printJson(io, page);
      return EXIT.ok;
    }
    if (page.items.length === 0) io.out(`no decisions${values.before ? ` before ${values.before}` : ""}\n`);
    else
      io.out(
        table(
          ["ID", "AT", "TRIGGER", "OUTCOME", "STATE", "FIRED"],
          page.items.map((d) => [
            d.id,
            d.at,
            triggerText(d.trigger),
            d.outcome,
            states(d.fromState, d.toState),
            d.fired.map((f) => f.rule).join(", "),
          ]),
        ),
      );
    // The server sets nextBefore when older decisions may follow: the page is full, or it
    // stopped at 4 MiB with fewer than --limit.
    if (page.nextBefore !== undefined) {
      // The same server and page size, before the last decision shown.
      const size = values.limit === undefined ? [] : ["--limit", String(limit)];
      // An id may start with "-" (`-w`), which the command would read back as an option (exit 2):
      // such a one goes last, after "--", where it can only be the OBJECT_ID.
      const dashed = id.startsWith("-");
      const words = ["vigil decisions list", ...(dashed ? [] : [shellWord(id)]), ...targetFlags(values, target)];
      const last = dashed ? ["--", shellWord(id)] : [];
      io.out(`older: ${[...words, ...size, "--before", shellWord(page.nextBefore), ...last].join(" ")}\n`);
    }
    return EXIT.ok;
  });
}
