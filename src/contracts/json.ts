// JSON values at the boundaries: the one zod schema for "any JSON object".

import { z } from "zod";

/** A JSON object whose values are any JSON. */
export const jsonObject = z.record(z.string(), z.json());
