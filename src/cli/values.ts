// Checks of the values a user gives on the command line, made before anything is sent.

/**
 * Whether a number option's text is plain decimal: digits, with a fraction when `fraction` allows
 * it. Number() alone would take `0x2`, `1e0`, `" 5"` or `0b1` for numbers, which no one typing
 * a count or a number of seconds means.
 */
export const isDecimal = (text: string, fraction: boolean): boolean =>
  (fraction ? /^\d+(\.\d+)?$/ : /^\d+$/).test(text);

/** A number option's value (`--timeout 2.5`, `--min-coverage 80`): NaN unless plain decimal, which the option's range check then refuses. */
export const decimalNumber = (text: string): number => (isDecimal(text, true) ? Number(text) : NaN);

/**
 * Whether an HTTP header can carry `value`, once fetch has trimmed its ends as it does: no line
 * break, NUL or other control character inside, nothing past U+00FF. fetch refuses any other
 * value before it connects, and that failure would read as a server that cannot be reached; so
 * user input bound for a header is checked with this first, and refused as usage.
 */
export const headerCanCarry = (value: string): boolean =>
  !/[^\t\x20-\x7e\x80-\xff]/.test(value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, ""));

/**
 * Whether a flag that names one policy was given a list (`a,b`, `a b`): no policy's name holds a
 * comma or a space, so no policy answers to it. `vigil simulate --policy a,b` simulated both, and
 * `vigil objects list --policy a,b` listed no object, each without a word.
 */
export const isNameList = (text: string): boolean => /[\s,]/.test(text.trim());
