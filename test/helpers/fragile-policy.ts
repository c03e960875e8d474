// A policy that loads but throws on one memory: `swap:in` looks for 5 in `$.x`, and with memory
// x = 5 json-rules-engine throws ("5.indexOf is not a function"). A PUT binding an object whose
// memory holds x = 5 to it is refused (422) after the rebind has begun: the tests of what a
// refused rebind leaves use it.

export const FRAGILE_POLICY = {
  name: "fragile",
  version: "1",
  rules: [
    {
      name: "boom",
      conditions: { all: [{ fact: "memory", path: "$.x", operator: "swap:in", value: 5 }] },
      event: { type: "wake" },
    },
  ],
};
