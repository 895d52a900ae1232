// The import graph of the shipped code (bindings/, cli/, web/src/) and of bench/: no circles,
// imports only downwards through the layers of ARCHITECTURE.md, nothing shipped importing
// bench/ or tests/, and no `node:` import in bindings/ outside the platform layer. The imports
// are read by a small parser of the sources (static import / export-from lines, `import type`,
// side-effect imports and dynamic `import("...")`; comments, strings and template text are
// skipped). The checker is also run on a synthetic graph with a circle and an upward edge, and
// the parser on a synthetic source, so that both are seen to fail.
import { describe, it, expect } from "vitest";
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// ---------------------------------------------------------------------------------------------
// The layers, bottom first (ARCHITECTURE.md). A file belongs to the layer with the longest
// matching path (a folder ending in "/" or a file). A file may import files of its own layer
// and of layers of a lower rank; layers that share a rank are siblings and may not import one
// another. Only the platform layer (and cli/, bench/) may import node: modules.

interface Layer {
  name: string;
  rank: number;
  paths: string[];
  /** may import node: modules */
  node?: boolean;
}

const LAYERS: Layer[] = [
  { name: "base", rank: 0, paths: ["bindings/base/"] },
  { name: "ref", rank: 0, paths: ["bindings/ref/"] },
  { name: "engine", rank: 1, paths: ["bindings/engine/"] },
  { name: "io", rank: 2, paths: ["bindings/io/"] },
  { name: "core", rank: 3, paths: ["bindings/core/"] },
  { name: "terms", rank: 4, paths: ["bindings/terms/"] },
  { name: "estimators", rank: 5, paths: ["bindings/estimators/"] },
  { name: "sql", rank: 6, paths: ["bindings/sql/"] },
  { name: "inference", rank: 6, paths: ["bindings/inference/"] },
  { name: "event", rank: 6, paths: ["bindings/event/"] },
  { name: "psm", rank: 6, paths: ["bindings/psm/"] },
  { name: "sim", rank: 6, paths: ["bindings/sim/"] },
  { name: "post", rank: 6, paths: ["bindings/post/"] },
  { name: "report", rank: 7, paths: ["bindings/report/"] },
  { name: "event-sql", rank: 7, paths: ["bindings/event-sql/"] },
  { name: "suite", rank: 8, paths: ["bindings/suite/"] },
  { name: "platform", rank: 9, node: true, paths: ["bindings/platform/"] },
  { name: "entry", rank: 10, paths: ["bindings/index.ts", "bindings/browser.ts", "bindings/extras.ts", "bindings/node.ts"] },
  { name: "cli", rank: 11, node: true, paths: ["cli/"] },
  { name: "web", rank: 11, paths: ["web/src/"] },
  { name: "bench", rank: 12, node: true, paths: ["bench/"] },
];

/** Folders whose .ts files are read (repo-relative). */
const ROOTS = ["bindings", "cli", "web/src", "bench"];
/** Shipped code: may not import these. */
const SHIPPED = ["bindings/", "cli/", "web/"];
const DEV_ONLY = ["bench/", "tests/"];

// ---------------------------------------------------------------------------------------------
// Parser

export interface ImportRef {
  spec: string;
  kind: "static" | "type" | "side-effect" | "export" | "dynamic";
  line: number;
}

type Tok = { t: "id" | "str" | "punct"; v: string; line: number };

const REGEX_AFTER_ID = new Set(["return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "instanceof", "yield", "await"]);

/** Tokens of a TypeScript source: identifiers, string literals (value), punctuation; comments
 * and template text dropped (template ${} expressions are tokenized), regex literals skipped. */
function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let line = 1;
  const braces: ("code" | "tmpl")[] = [];
  const prevAllowsRegex = () => {
    const p = out[out.length - 1];
    if (!p) return true;
    if (p.t === "str") return false;
    if (p.t === "id") return REGEX_AFTER_ID.has(p.v);
    return !(p.v === ")" || p.v === "]" || p.v === "}");
  };
  const template = () => {
    // i is just after a backtick or a closing } of ${...}: skip text to the next ` or ${
    while (i < src.length) {
      const c = src[i];
      if (c === "\\") i += 2;
      else if (c === "`") {
        i++;
        out.push({ t: "str", v: "`", line });
        return;
      } else if (c === "$" && src[i + 1] === "{") {
        i += 2;
        braces.push("tmpl");
        return;
      } else {
        if (c === "\n") line++;
        i++;
      }
    }
  };
  while (i < src.length) {
    const c = src[i];
    if (c === "\n") {
      line++;
      i++;
    } else if (c === " " || c === "\t" || c === "\r") i++;
    else if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "/" && src[i + 1] === "*") {
      const e = src.indexOf("*/", i + 2);
      const end = e < 0 ? src.length : e + 2;
      for (let k = i; k < end; k++) if (src[k] === "\n") line++;
      i = end;
    } else if (c === '"' || c === "'") {
      let v = "";
      i++;
      while (i < src.length && src[i] !== c && src[i] !== "\n") {
        if (src[i] === "\\") {
          v += src[i + 1];
          i += 2;
        } else v += src[i++];
      }
      i++;
      out.push({ t: "str", v, line });
    } else if (c === "`") {
      i++;
      template();
    } else if (c === "/" && prevAllowsRegex()) {
      // regex literal: to the closing / outside a class
      i++;
      let cls = false;
      while (i < src.length && src[i] !== "\n") {
        const d = src[i];
        if (d === "\\") i += 2;
        else {
          i++;
          if (d === "[") cls = true;
          else if (d === "]") cls = false;
          else if (d === "/" && !cls) break;
        }
      }
      while (i < src.length && /[a-z]/i.test(src[i])) i++;
      out.push({ t: "str", v: "/regex/", line });
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[\w$]/.test(src[j])) j++;
      out.push({ t: "id", v: src.slice(i, j), line });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[\w.]/.test(src[j])) j++;
      out.push({ t: "id", v: src.slice(i, j), line });
      i = j;
    } else if (c === "{") {
      braces.push("code");
      out.push({ t: "punct", v: c, line });
      i++;
    } else if (c === "}") {
      i++;
      if (braces.pop() === "tmpl") template();
      else out.push({ t: "punct", v: c, line });
    } else {
      out.push({ t: "punct", v: c, line });
      i++;
    }
  }
  return out;
}

/** The module specifiers a source imports or re-exports from. */
export function parseImports(src: string): ImportRef[] {
  const toks = tokenize(src);
  const refs: ImportRef[] = [];
  const isDot = (k: number) => toks[k]?.t === "punct" && toks[k].v === ".";
  for (let k = 0; k < toks.length; k++) {
    const tk = toks[k];
    if (tk.t !== "id" || isDot(k - 1)) continue;
    if (tk.v === "import") {
      const nx = toks[k + 1];
      if (!nx) continue;
      if (nx.t === "punct" && nx.v === "(") {
        const s = toks[k + 2];
        if (s?.t === "str" && s.v !== "`") refs.push({ spec: s.v, kind: "dynamic", line: tk.line });
        continue;
      }
      if (nx.t === "punct" && nx.v === ".") continue; // import.meta
      if (nx.t === "str") {
        refs.push({ spec: nx.v, kind: "side-effect", line: tk.line });
        continue;
      }
      const isType = nx.t === "id" && nx.v === "type" && !(toks[k + 2]?.t === "id" && toks[k + 2].v === "from");
      // import ... from "x": the first `from` followed by a string, before the next `;`
      for (let j = k + 1; j < toks.length; j++) {
        const t = toks[j];
        if (t.t === "punct" && t.v === ";") break;
        if (t.t === "id" && t.v === "from" && toks[j + 1]?.t === "str") {
          refs.push({ spec: toks[j + 1].v, kind: isType ? "type" : "static", line: tk.line });
          k = j + 1;
          break;
        }
      }
    } else if (tk.v === "export") {
      let j = k + 1;
      if (toks[j]?.t === "id" && toks[j].v === "type") j++;
      const t = toks[j];
      if (!t || t.t !== "punct") continue;
      if (t.v === "*") {
        j++;
        if (toks[j]?.t === "id" && toks[j].v === "as") j += 2;
      } else if (t.v === "{") {
        let depth = 0;
        for (; j < toks.length; j++) {
          if (toks[j].t === "punct" && toks[j].v === "{") depth++;
          else if (toks[j].t === "punct" && toks[j].v === "}" && --depth === 0) break;
        }
        j++;
      } else continue;
      if (toks[j]?.t === "id" && toks[j].v === "from" && toks[j + 1]?.t === "str") {
        refs.push({ spec: toks[j + 1].v, kind: "export", line: tk.line });
        k = j + 1;
      }
    }
  }
  return refs;
}

// ---------------------------------------------------------------------------------------------
// Graph and checks

export interface Edge {
  from: string;
  to: string;
  line: number;
}

export interface Graph {
  files: string[];
  edges: Edge[];
  /** bare specifiers (packages, node: modules) per file */
  external: { from: string; spec: string; line: number }[];
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const NODE_BUILTINS = new Set(builtinModules);

function tsFiles(dir: string): string[] {
  const abs = join(REPO, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const name of readdirSync(abs)) {
    const rel = `${dir}/${name}`;
    if (statSync(join(REPO, rel)).isDirectory()) out.push(...tsFiles(rel));
    else if (/\.ts$/.test(name) && !/\.d\.ts$/.test(name)) out.push(rel);
  }
  return out;
}

/** Repo-relative target of a relative specifier (".js" written for ".ts"), or null outside .ts. */
function resolveSpec(from: string, spec: string): string | null {
  const clean = spec.replace(/\?.*$/, "");
  const target = relative(REPO, resolve(REPO, dirname(from), clean)).split("\\").join("/");
  for (const cand of [target.replace(/\.js$/, ".ts"), target, `${target}.ts`, `${target}/index.ts`]) {
    if (/\.ts$/.test(cand) && existsSync(join(REPO, cand))) return cand;
  }
  return /\.(ts|js)$/.test(clean) ? target : null;
}

function readGraph(): Graph {
  const files = ROOTS.flatMap(tsFiles).sort();
  const edges: Edge[] = [];
  const external: Graph["external"] = [];
  for (const f of files) {
    for (const r of parseImports(readFileSync(join(REPO, f), "utf8"))) {
      if (r.spec.startsWith(".")) {
        const to = resolveSpec(f, r.spec);
        if (to) edges.push({ from: f, to, line: r.line });
      } else external.push({ from: f, spec: r.spec, line: r.line });
    }
  }
  return { files, edges, external };
}

export function layerOf(file: string, layers: Layer[] = LAYERS): Layer | null {
  let best: Layer | null = null;
  let len = -1;
  for (const l of layers) {
    for (const p of l.paths) {
      const hit = p.endsWith("/") ? file.startsWith(p) : file === p;
      if (hit && p.length > len) {
        best = l;
        len = p.length;
      }
    }
  }
  return best;
}

/** Strongly connected components with more than one file (or a file importing itself). */
export function circles(g: Pick<Graph, "files" | "edges">): string[][] {
  const adj = new Map<string, string[]>(g.files.map((f) => [f, []]));
  for (const e of g.edges) {
    if (!adj.has(e.from)) adj.set(e.from, []);
    if (!adj.has(e.to)) adj.set(e.to, []);
    adj.get(e.from)!.push(e.to);
  }
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of adj.get(v)!) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || adj.get(v)!.includes(v)) out.push(comp.sort());
    }
  };
  for (const v of adj.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** Imports that go up, or sideways between sibling layers. */
export function upward(edges: Edge[], layers: Layer[] = LAYERS): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const a = layerOf(e.from, layers);
    const b = layerOf(e.to, layers);
    if (!a || !b || a === b) continue;
    if (b.rank >= a.rank) out.push(`${e.from}:${e.line} (${a.name}) -> ${e.to} (${b.name})`);
  }
  return out;
}

const graph = readGraph();

describe("architecture: the import graph", () => {
  it("reads a real graph (every layer has files, the core's imports are seen)", () => {
    expect(graph.files.length).toBeGreaterThan(80);
    for (const l of LAYERS) expect(graph.files.some((f) => layerOf(f) === l), `layer ${l.name} has no file`).toBe(true);
    expect(graph.edges.some((e) => e.from.endsWith("/feols.ts") && e.to.endsWith("/design.ts"))).toBe(true);
  });

  it("has no circles", () => {
    expect(circles(graph).map((c) => c.join(" <-> "))).toEqual([]);
  });

  it("imports only downwards through the layers", () => {
    expect(upward(graph.edges)).toEqual([]);
  });

  it("every file of bindings/ belongs to a layer (the layout and the layer table agree)", () => {
    expect(graph.files.filter((f) => !layerOf(f))).toEqual([]);
  });

  it("shipped code (bindings/, cli/, web/) imports neither bench/ nor tests/", () => {
    const bad = graph.edges.filter((e) => SHIPPED.some((p) => e.from.startsWith(p)) && DEV_ONLY.some((p) => e.to.startsWith(p)));
    expect(bad.map((e) => `${e.from}:${e.line} -> ${e.to}`)).toEqual([]);
  });

  it("in bindings/ only the platform layer imports node: modules", () => {
    const bad = graph.external.filter((x) => {
      if (!x.from.startsWith("bindings/")) return false;
      const builtin = x.spec.startsWith("node:") || NODE_BUILTINS.has(x.spec.split("/")[0]);
      return builtin && !layerOf(x.from)?.node;
    });
    expect(bad.map((x) => `${x.from}:${x.line} -> ${x.spec}`)).toEqual([]);
  });
});

describe("architecture: the checker and the parser can fail", () => {
  const layers: Layer[] = [
    { name: "low", rank: 0, paths: ["x/low/"] },
    { name: "mid", rank: 1, paths: ["x/mid/"] },
    { name: "sib", rank: 1, paths: ["x/sib.ts"] },
    { name: "top", rank: 2, paths: ["x/top.ts"] },
  ];
  const edges: Edge[] = [
    { from: "x/top.ts", to: "x/mid/a.ts", line: 1 },
    { from: "x/mid/a.ts", to: "x/mid/b.ts", line: 2 },
    { from: "x/mid/b.ts", to: "x/mid/a.ts", line: 3 }, // a circle inside one layer
    { from: "x/low/c.ts", to: "x/top.ts", line: 4 }, // upward
    { from: "x/mid/b.ts", to: "x/sib.ts", line: 5 }, // sideways between siblings
    { from: "x/mid/b.ts", to: "x/low/c.ts", line: 6 }, // fine
  ];
  const files = [...new Set(edges.flatMap((e) => [e.from, e.to]))];

  it("reports a circle", () => {
    const down = edges.filter((e) => e.line !== 4);
    expect(circles({ files, edges: down })).toEqual([["x/mid/a.ts", "x/mid/b.ts"]]);
    // the upward edge closes a longer one: top -> mid/a -> mid/b -> low/c -> top
    expect(circles({ files, edges })).toEqual([["x/low/c.ts", "x/mid/a.ts", "x/mid/b.ts", "x/top.ts"]]);
    expect(circles({ files, edges: [{ from: "x/low/c.ts", to: "x/low/c.ts", line: 7 }] })).toEqual([["x/low/c.ts"]]);
    expect(circles({ files, edges: edges.filter((e) => e.line !== 3 && e.line !== 4) })).toEqual([]);
  });

  it("reports upward and sideways imports, not downward ones", () => {
    expect(upward(edges, layers)).toEqual([
      "x/low/c.ts:4 (low) -> x/top.ts (top)",
      "x/mid/b.ts:5 (mid) -> x/sib.ts (sib)",
    ]);
  });

  it("the longest path decides the layer", () => {
    expect(layerOf("bindings/platform/read-node.ts")?.name).toBe("platform");
    expect(layerOf("bindings/io/csv.ts")?.name).toBe("io");
    expect(layerOf("nowhere/x.ts")).toBeNull();
  });

  it("parses every form of import and skips comments, strings and template text", () => {
    const src = [
      'import { a,',
      '  b } from "./multi.js";',
      'import type { T } from "./types.js";',
      'import type from "./default-named-type.js";',
      'import "./side.js";',
      'import * as ns from "node:fs";',
      'export * from "./star.js";',
      'export type { U } from "./retype.js";',
      'export { c as d } from "./named.js";',
      "export const x = 1;",
      '// import { no } from "./comment.js";',
      '/* import "./block.js"; */',
      'const s = "import { no } from \'./string.js\'";',
      'const t = `import { no } from "./template.js"; ${await import("./inside-template.js")}`;',
      'const r = /["\']/.test(s);',
      'const m = await import("./dynamic.js");',
      "const u = import.meta.url;",
    ].join("\n");
    expect(parseImports(src).map((r) => `${r.kind} ${r.spec} ${r.line}`)).toEqual([
      "static ./multi.js 1",
      "type ./types.js 3",
      "static ./default-named-type.js 4",
      "side-effect ./side.js 5",
      "static node:fs 6",
      "export ./star.js 7",
      "export ./retype.js 8",
      "export ./named.js 9",
      "dynamic ./inside-template.js 14",
      "dynamic ./dynamic.js 16",
    ]);
  });
});
