// A policy's conditions as a graph of shared conditions, for the checks that follow
// references: which shared conditions refer to themselves (and through which cycle), and how
// far each expands once its references are replaced by what they name (as json-rules-engine
// does when it evaluates).
// Both take time linear in the document however much it expands, tolerate any shape (the
// checks run beside the shape errors), and never recurse, so no document exhausts the stack.

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => v !== null && typeof v === "object" && !Array.isArray(v);

/** One condition tree on its own, its references not followed. */
export interface TreeShape {
  /** Condition nodes (all, any, not, fact comparisons and references, each one). */
  nodes: number;
  /** Levels of nesting: the top is level 1. */
  depth: number;
  /** Each reference to a shared condition, with the level it sits at. */
  refs: { name: string; depth: number }[];
}

/** The nodes, depth and references of one condition tree. */
export function treeShape(condition: unknown): TreeShape {
  const shape: TreeShape = { nodes: 0, depth: 0, refs: [] };
  const stack: [unknown, number][] = [[condition, 1]];
  while (stack.length > 0) {
    const [c, depth] = stack.pop()!;
    if (!isObj(c)) continue;
    shape.nodes++;
    if (depth > shape.depth) shape.depth = depth;
    if (typeof c.condition === "string") {
      shape.refs.push({ name: c.condition, depth });
      continue;
    }
    // Both lists are counted when a node has both (a shape error reported elsewhere).
    for (const list of [c.all, c.any]) if (Array.isArray(list)) for (const x of list) stack.push([x, depth + 1]);
    if (c.not !== undefined) stack.push([c.not, depth + 1]);
  }
  return shape;
}

/** A condition with its references expanded. */
export interface Expansion {
  nodes: number;
  depth: number;
}

/** The shared conditions of a document, analysed once. */
export class SharedConditions {
  private readonly shapes = new Map<string, TreeShape>();
  private expansions: Map<string, Expansion> | null = null;
  private keys: string[] | null = null;

  constructor(private readonly shared: Raw) {}

  has(name: string): boolean {
    return Object.hasOwn(this.shared, name);
  }

  names(): string[] {
    return (this.keys ??= Object.keys(this.shared));
  }

  shape(name: string): TreeShape {
    let shape = this.shapes.get(name);
    if (!shape) this.shapes.set(name, (shape = treeShape(this.shared[name])));
    return shape;
  }

  /**
   * A tree's size with every reference expanded: a reference counts itself (one node, one
   * level) plus what it names. One that names no shared condition counts as itself alone, as
   * does one that closes a cycle (reported as such elsewhere).
   */
  expand(shape: TreeShape): Expansion {
    return expandWith(shape, this.expandAll());
  }

  /** The expansion of a shared condition. */
  expansion(name: string): Expansion {
    return this.expandAll().get(name)!;
  }

  /**
   * Every shared condition's expansion, each computed once from those it refers to (a
   * depth-first walk on an explicit stack, each one finished after the ones it names).
   */
  private expandAll(): Map<string, Expansion> {
    if (this.expansions) return this.expansions;
    const done = new Map<string, Expansion>();
    // While a name is open, references to it close a cycle and count as themselves alone.
    const open = new Set<string>();
    for (const root of this.names()) {
      if (done.has(root)) continue;
      const stack: { name: string; next: number }[] = [{ name: root, next: 0 }];
      open.add(root);
      while (stack.length > 0) {
        const frame = stack.at(-1)!;
        const refs = this.shape(frame.name).refs;
        let child: string | null = null;
        while (frame.next < refs.length && child === null) {
          const target = refs[frame.next++]!.name;
          if (this.has(target) && !done.has(target) && !open.has(target)) child = target;
        }
        if (child !== null) {
          open.add(child);
          stack.push({ name: child, next: 0 });
          continue;
        }
        done.set(frame.name, expandWith(this.shape(frame.name), done));
        open.delete(frame.name);
        stack.pop();
      }
    }
    this.expansions = done;
    return done;
  }

  /**
   * For each shared condition that refers to itself, directly or through others, a cycle of references among those of its
   * knot (strongly connected component), as names without the closing repeat (`[a, b]` for
   * a -> b -> a), and where the condition is on it (-1 when not: a knot may hold more than one
   * cycle). One cycle per knot, found by following references inside it from its first member
   * until one comes round again: linear in the references.
   */
  cycles(): Map<string, { cycle: string[]; at: number }> {
    const out = new Map<string, { cycle: string[]; at: number }>();
    for (const members of this.knots()) {
      const inKnot = new Set(members);
      const seenAt = new Map<string, number>();
      const walk: string[] = [];
      let at = members[0]!;
      while (!seenAt.has(at)) {
        seenAt.set(at, walk.length);
        walk.push(at);
        // Each member of a knot refers to one of it (itself, for a knot of one).
        at = this.shape(at).refs.find((r) => inKnot.has(r.name))!.name;
      }
      const cycle = walk.slice(seenAt.get(at));
      const position = new Map(cycle.map((name, i) => [name, i]));
      for (const m of members) out.set(m, { cycle, at: position.get(m) ?? -1 });
    }
    return out;
  }

  /**
   * The knots: strongly connected components with more than one member or a reference to
   * itself (Tarjan's algorithm on an explicit stack).
   */
  private knots(): string[][] {
    const out: string[][] = [];
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const component: string[] = [];
    const selfRef = new Set<string>();
    let counter = 0;
    const enter = (name: string) => {
      index.set(name, counter);
      low.set(name, counter++);
      component.push(name);
      onStack.add(name);
    };
    for (const root of this.names()) {
      if (index.has(root)) continue;
      enter(root);
      const stack: { name: string; next: number }[] = [{ name: root, next: 0 }];
      while (stack.length > 0) {
        const frame = stack.at(-1)!;
        const refs = this.shape(frame.name).refs;
        if (frame.next < refs.length) {
          const target = refs[frame.next++]!.name;
          if (!this.has(target)) continue;
          if (target === frame.name) selfRef.add(target);
          if (!index.has(target)) {
            enter(target);
            stack.push({ name: target, next: 0 });
          } else if (onStack.has(target)) low.set(frame.name, Math.min(low.get(frame.name)!, index.get(target)!));
          continue;
        }
        stack.pop();
        const parent = stack.at(-1);
        if (parent) low.set(parent.name, Math.min(low.get(parent.name)!, low.get(frame.name)!));
        if (low.get(frame.name) !== index.get(frame.name)) continue;
        const start = component.lastIndexOf(frame.name);
        const members = component.splice(start);
        for (const m of members) onStack.delete(m);
        if (members.length > 1 || selfRef.has(frame.name)) out.push(members);
      }
    }
    return out;
  }
}

/** A tree's expansion, given those of the shared conditions it names (absent: itself alone). */
function expandWith(shape: TreeShape, expansions: Map<string, Expansion>): Expansion {
  let { nodes, depth } = shape;
  for (const ref of shape.refs) {
    const e = expansions.get(ref.name);
    if (!e) continue;
    nodes += e.nodes;
    if (ref.depth + e.depth > depth) depth = ref.depth + e.depth;
  }
  return { nodes, depth };
}
