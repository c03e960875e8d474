// How every `vigil` command reads its arguments: Node's parseArgs, but a flag that takes one value
// given more than once is refused rather than the last one kept. `vigil simulate --policy
// on-demand --policy queue-worker` simulated queue-worker alone, and said nothing of on-demand.
// Only the flags declared `multiple` (documented as repeatable) may repeat.

import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * A flag given twice. Its code is of parseArgs's family, so main.ts answers it as it answers
 * parseArgs's own refusals: the message, the command's usage, exit 2. The values are not in the
 * message: one of them may be a token.
 */
export class RepeatedOption extends TypeError {
  readonly code = "ERR_PARSE_ARGS_REPEATED_OPTION";
  constructor(readonly option: string) {
    super(`--${option} is given more than once; it takes one value`);
  }
}

/** parseArgs(config), refusing a repeat of a string flag that is not `multiple`. */
export function parseCommandLine<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  const { tokens } = parseArgs({ ...config, tokens: true });
  const seen = new Set<string>();
  for (const token of tokens ?? []) {
    if (token.kind !== "option") continue;
    const option = config.options?.[token.name];
    if (option?.type !== "string" || option.multiple) continue;
    if (seen.has(token.name)) throw new RepeatedOption(token.name);
    seen.add(token.name);
  }
  return parseArgs(config);
}
