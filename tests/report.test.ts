// Tests for bindings/report (tables.ts, svg.ts, document.ts): each renderer's output is parsed
// back with a small independent checker written here (LaTeX brace/environment balance, pipe-table
// column counts, an RFC 4180 CSV parser, a tag-stack XML checker), never compared to a snapshot.
// pdflatex compiles the LaTeX only where it is installed; elsewhere that case is skipped.
import { describe, expect, it } from "vitest";
import { execFileSync, execSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  formatCount,
  formatFixed,
  formatNumber,
  formatPValue,
  formatStat,
  histogramBins,
  MAX_BINS,
  niceScale,
  renderFigure,
  renderHtml,
  renderMarkdown,
  renderTable,
  significanceStars,
  type EventPlot,
  type HistogramPlot,
  type RegressionTable,
  type ScatterPlot,
} from "../bindings/report/index.js";
import {
  sampleEventPlot,
  sampleHistogram,
  sampleReport,
  sampleScatter,
  sampleTable2,
  sampleTable3,
  sampleTable4,
  sampleTable8,
} from "../bindings/report/sample.js";

// ---------------------------------------------------------------------------------------------
// Checkers

/** Minimal RFC 4180 parser: quoted fields, "" escapes, CRLF or LF records. */
function parseCsv(s: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  let fieldStarted = false;
  while (i < s.length) {
    const c = s[i];
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field.length > 0) throw new Error(`stray quote at ${i}`);
      quoted = true;
      fieldStarted = true;
      i++;
    } else if (c === ",") {
      row.push(field);
      field = "";
      fieldStarted = true;
      i++;
    } else if (c === "\r" || c === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      fieldStarted = false;
      i += c === "\r" && s[i + 1] === "\n" ? 2 : 1;
    } else {
      field += c;
      fieldStarted = true;
      i++;
    }
  }
  if (quoted) throw new Error("unterminated quoted field");
  if (fieldStarted || field.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
}

/**
 * Tag-stack well-formedness check: every tag closes in order, one root, attributes quoted,
 * no raw "<" or bad "&" in text or attribute values. Returns the elements in document order.
 */
function checkXml(s: string): XmlElement[] {
  const stack: string[] = [];
  const elements: XmlElement[] = [];
  let roots = 0;
  let i = 0;
  const checkText = (t: string, where: number) => {
    const bad = t.match(/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/);
    if (bad) throw new Error(`bad entity near ${where}: ${t.slice(0, 40)}`);
  };
  while (i < s.length) {
    const lt = s.indexOf("<", i);
    if (lt < 0) {
      checkText(s.slice(i), i);
      if (s.slice(i).trim() && !stack.length) throw new Error("text after root");
      break;
    }
    const txt = s.slice(i, lt);
    checkText(txt, i);
    if (txt.trim() && !stack.length) throw new Error(`text outside root at ${i}`);
    if (s.startsWith("<!--", lt)) {
      const e = s.indexOf("-->", lt);
      if (e < 0) throw new Error("unclosed comment");
      i = e + 3;
      continue;
    }
    if (s.startsWith("<?", lt)) {
      i = s.indexOf("?>", lt) + 2;
      continue;
    }
    const gt = s.indexOf(">", lt);
    if (gt < 0) throw new Error(`unclosed tag at ${lt}`);
    const tag = s.slice(lt + 1, gt);
    if (tag.startsWith("/")) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${lt}`);
    } else {
      const self = tag.endsWith("/");
      const body = self ? tag.slice(0, -1) : tag;
      const m = body.match(/^([A-Za-z_][\w:.-]*)([\s\S]*)$/);
      if (!m) throw new Error(`bad tag <${tag}> at ${lt}`);
      const attrs: Record<string, string> = {};
      const rest = m[2];
      const re = /\s+([A-Za-z_][\w:.-]*)="([^"<]*)"/y;
      let pos = 0;
      while (pos < rest.length) {
        if (/^\s*$/.test(rest.slice(pos))) break;
        re.lastIndex = pos;
        const a = re.exec(rest);
        if (!a) throw new Error(`bad attribute syntax in <${tag.slice(0, 60)}> at ${lt}`);
        if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]}`);
        checkText(a[2], lt);
        attrs[a[1]] = a[2];
        pos = re.lastIndex;
      }
      if (!stack.length) roots++;
      elements.push({ name: m[1], attrs });
      if (!self) stack.push(m[1]);
    }
    i = gt + 1;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join("> <")}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return elements;
}

/** LaTeX: braces balance (escaped braces ignored), environments nest, `$` pairs per line. */
function checkLatex(s: string): void {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "%" && s[i - 1] !== "\\") {
      while (i < s.length && s[i] !== "\n") i++;
      continue;
    }
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "{") depth++;
    if (c === "}") depth--;
    if (depth < 0) throw new Error(`unbalanced } at ${i}`);
  }
  if (depth !== 0) throw new Error(`unbalanced braces: ${depth} open`);
  const envs: string[] = [];
  for (const m of s.matchAll(/\\(begin|end)\{([^}]+)\}/g)) {
    if (m[1] === "begin") envs.push(m[2]);
    else if (envs.pop() !== m[2]) throw new Error(`\\end{${m[2]}} does not match`);
  }
  if (envs.length) throw new Error(`unclosed environments ${envs}`);
  for (const line of s.split("\n")) {
    if (line.startsWith("%")) continue;
    const dollars = line.replace(/\\\\/g, "").replace(/\\\$/g, "").split("$").length - 1;
    if (dollars % 2) throw new Error(`odd number of $ in: ${line}`);
  }
}

/** Cells of a pipe-table row (escaped pipes are not separators). */
function mdCells(line: string): string[] {
  const cells: string[] = [];
  let cur = "";
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\\" && line[i + 1] === "|") {
      cur += "\\|";
      i++;
    } else if (line[i] === "|") {
      cells.push(cur);
      cur = "";
    } else cur += line[i];
  }
  cells.push(cur);
  return cells.slice(1, -1).map((c) => c.trim());
}

// ---------------------------------------------------------------------------------------------
// A table with everything: specials in labels, a skipped column, published rows, headers

function hardTable(): RegressionTable {
  return {
    kind: "regression",
    id: "t_special",
    title: "Specials: 100% _under_ & #1 $cash {braces} ^~ <lt>",
    rows: ["did", "x_1", "ln_y"],
    labels: { did: "Zone × Post", x_1: "x_1 & 50% #2 $", ln_y: 'ln "y", {b}' },
    columns: [
      {
        label: "(1)",
        header: "FC",
        coefs: {
          did: { estimate: 0.25134781234567891, se: 0.11523456789012345, p: 0.0291234567 },
          x_1: { estimate: -1234.5678901234, se: 0.00012345678, p: 1e-300 },
          ln_y: { estimate: 1e-7, se: 3.3e-8, p: 0.0999999 },
        },
        stats: { Observations: 14734, R2: 0.2451234, "Firm FE": "Yes", "Vcov": "Clustered (firm)" },
        published: { coef: "did", estimate: 0.251, se: 0.115, n: 14791 },
      },
      {
        label: "(2)",
        header: "FC",
        coefs: { did: { estimate: -0.0050123, se: 0.0026543, p: 0.059 } },
        stats: { Observations: 1234567, R2: 0.0103, "Firm FE": "Yes", "City FE": "No" },
      },
      {
        label: "(3)",
        header: "SA, \"alt\"",
        coefs: {},
        stats: { Observations: 0 },
        published: { coef: "did", estimate: 0.259, se: 0.113 },
        skipped: "no variation in SA, after dropping singletons",
      },
    ],
    notes: ["Clustered by firm; 100% of rows used.", "*** p<0.01, ** p<0.05, * p<0.1"],
  };
}

// ---------------------------------------------------------------------------------------------

describe("number formatting and stars", () => {
  it("stars at the 0.01 / 0.05 / 0.1 boundaries (strict)", () => {
    expect(significanceStars(0.0099999)).toBe("***");
    expect(significanceStars(0.01)).toBe("**");
    expect(significanceStars(0.0499999)).toBe("**");
    expect(significanceStars(0.05)).toBe("*");
    expect(significanceStars(0.0999999)).toBe("*");
    expect(significanceStars(0.1)).toBe("");
    expect(significanceStars(0.5)).toBe("");
    expect(significanceStars(0)).toBe("***");
    expect(significanceStars(NaN)).toBe("");
  });

  it("stars in rendered tables follow p", () => {
    const t = hardTable();
    const md = renderTable(t, "md");
    expect(md).toContain("| 0.251** |"); // p = 0.029
    expect(md).toContain("| -0.00501* |"); // p = 0.059
    expect(md).toContain("-1234.57***"); // p = 1e-300
    expect(md).toContain("1.00e-7*"); // p just under 0.1
    expect(md).toMatch(/\\\*\\\*\\\* p&lt;0\.01, \\\*\\\* p&lt;0\.05, \\\* p&lt;0\.1/);
    // the user's own legend note is not repeated
    expect(md.match(/p&lt;0\.01/g)!.length).toBe(1);
  });

  it("counts with thousands separators; paper-style 3 significant / 3 decimal numbers", () => {
    expect(formatCount(14734)).toBe("14,734");
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(999)).toBe("999");
    expect(formatCount(-14734)).toBe("-14,734");
    expect(formatCount(0)).toBe("0");
    expect(formatStat("Observations", 14734)).toBe("14,734");
    expect(formatStat("R2", 0.0103)).toBe("0.010");
    expect(formatStat("Within R2", 0.00001234)).toBe("1.23e-5");
    expect(formatStat("Firm FE", "Yes")).toBe("Yes");
    expect(formatNumber(0.251)).toBe("0.251");
    expect(formatNumber(0.0153)).toBe("0.0153");
    expect(formatNumber(0.00265)).toBe("0.00265");
    expect(formatNumber(0.25134781)).toBe("0.251");
    expect(formatNumber(-0.0050123)).toBe("-0.00501");
    expect(formatNumber(1.918)).toBe("1.918");
    expect(formatNumber(12.34567)).toBe("12.346");
    expect(formatNumber(0.99996)).toBe("1.000");
    expect(formatNumber(-0.0000001)).toBe("-1.00e-7");
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(-1e-20 * 0)).toBe("0");
    expect(formatNumber(NaN)).toBe("");
    const text = renderTable(hardTable(), "text");
    expect(text).toContain("14,734");
    expect(text).toContain("1,234,567");
    expect(text).toContain("14,791"); // published N
  });
});

describe("LaTeX", () => {
  const tex = renderTable(hardTable(), "latex");

  it("balanced braces, environments and math; booktabs rules; caption and label", () => {
    checkLatex(tex);
    for (const t of [sampleTable2(), sampleTable3(), sampleTable4(), sampleTable8()]) checkLatex(renderTable(t, "latex"));
    expect(tex.match(/\\toprule/g)!.length).toBe(1);
    expect(tex.match(/\\bottomrule/g)!.length).toBe(1);
    expect(tex.match(/\\midrule/g)!.length).toBeGreaterThanOrEqual(1);
    expect(tex.indexOf("\\toprule")).toBeLessThan(tex.indexOf("\\midrule"));
    expect(tex.lastIndexOf("\\midrule")).toBeLessThan(tex.indexOf("\\bottomrule"));
    expect(tex).toMatch(/\\begin\{table\}[\s\S]*\\begin\{tabular\}[\s\S]*\\end\{tabular\}[\s\S]*\\end\{table\}/);
    expect(tex).toContain("\\label{tab:t_special}");
    expect(tex).toContain("\\caption{Specials: 100\\% \\_under\\_ \\& \\#1 \\$cash \\{braces\\} \\textasciicircum{}\\textasciitilde{} \\textless{}lt\\textgreater{}}");
    expect(tex).toContain("\\multicolumn{2}{c}{FC}");
    expect(tex).toContain("\\cmidrule(lr){2-3}");
    expect(tex).not.toContain("\\sym");
    // a title carrying the paper's table number keeps it as the LaTeX table number
    const t3 = renderTable(sampleTable3(), "latex");
    expect(t3).toContain("\\renewcommand{\\thetable}{3}");
    expect(t3).toContain("\\caption{Baseline: the pilot zone and financial constraints (FC)}");
  });

  it("escapes _ % & # $ in labels; stars as ^{***} in math mode; SEs in parentheses", () => {
    expect(tex).toContain("x\\_1 \\& 50\\% \\#2 \\$ &");
    expect(tex).toContain('ln "y", \\{b\\}');
    expect(tex).toContain("Zone $\\times$ Post");
    expect(tex).toContain("$0.251^{**}$");
    expect(tex).toContain("$(0.115)$");
    expect(tex).toContain("$-1234.57^{***}$");
    expect(tex).toContain("${1.00\\times 10^{-7}}^{*}$"); // no double superscript
    // every body row has exactly ncol unescaped & separators
    const body = tex.slice(tex.indexOf("\\toprule"), tex.indexOf("\\bottomrule"));
    for (const line of body.split("\n").filter((l) => l.endsWith("\\\\"))) {
      const amps = line.replace(/\\&/g, "").split("&").length - 1;
      const spans = [...line.matchAll(/\\multicolumn\{(\d+)\}/g)].reduce((a, m) => a + Number(m[1]) - 1, 0);
      expect(amps + spans, line).toBe(3);
    }
  });

  const hasPdflatex = (() => {
    try {
      execSync("which pdflatex", { stdio: "pipe" });
      return true;
    } catch {
      return false;
    }
  })();
  if (!hasPdflatex) console.log("report.test: pdflatex not found on this machine, skipping the LaTeX compile case");

  it.skipIf(!hasPdflatex)("compiles with pdflatex (booktabs)", () => {
    const dir = mkdtempSync(join(tmpdir(), "hdfe-tex-"));
    const tables = [hardTable(), sampleTable2(), sampleTable3(), sampleTable4(), sampleTable8()].map((t) => renderTable(t, "latex"));
    const doc = ["\\documentclass{article}", "\\usepackage[T1]{fontenc}", "\\usepackage{booktabs}", "\\begin{document}", ...tables, "\\end{document}", ""].join("\n");
    writeFileSync(join(dir, "t.tex"), doc);
    let log = "";
    try {
      execFileSync("pdflatex", ["-interaction=nonstopmode", "-halt-on-error", "t.tex"], { cwd: dir, stdio: "pipe", timeout: 110_000 });
    } catch (e) {
      log = readFileSync(join(dir, "t.log"), "utf8");
      throw new Error(`pdflatex failed:\n${log.split("\n").filter((l) => l.startsWith("!") || l.startsWith("l.")).join("\n")}`);
    }
    expect(readdirSync(dir)).toContain("t.pdf");
  });
});

describe("Markdown", () => {
  it("every pipe-table row has the same number of cells", () => {
    for (const t of [hardTable(), sampleTable2(), sampleTable3(), sampleTable4(), sampleTable8()]) {
      const md = renderTable(t, "md");
      const rows = md.split("\n").filter((l) => l.startsWith("|"));
      expect(rows.length).toBeGreaterThan(3);
      const n = mdCells(rows[0]).length;
      const ncol = t.kind === "regression" ? t.columns.length + 1 : t.header.length;
      expect(n).toBe(ncol);
      for (const r of rows) expect(mdCells(r).length, r).toBe(n);
      expect(mdCells(rows[1]).every((c) => /^:?-{3,}:?$/.test(c))).toBe(true);
    }
  });

  it("escapes pipes and emphasis in labels; shows published and skipped", () => {
    const md = renderTable(hardTable(), "md");
    expect(md).toContain("x\\_1 & 50% #2 $");
    expect(md).toContain("| Published: Zone × Post | 0.251 |  | 0.259 |");
    expect(md).toContain("| Published observations | 14,791 |  |  |");
    expect(md).toContain("Column SA, \"alt\" (3) not estimated: no variation in SA, after dropping singletons");
    const t = hardTable();
    t.labels!.did = "a|b";
    const md2 = renderTable(t, "md");
    expect(md2).toContain("a\\|b");
    for (const r of md2.split("\n").filter((l) => l.startsWith("|"))) expect(mdCells(r).length).toBe(4);
  });
});

describe("CSV", () => {
  it("parses back (RFC 4180) to the same numbers at full precision", () => {
    const t = hardTable();
    const csv = renderTable(t, "csv");
    expect(csv.endsWith("\r\n")).toBe(true);
    const rows = parseCsv(csv);
    const head = rows[0];
    expect(head.slice(0, 3)).toEqual(["kind", "name", "label"]);
    for (const r of rows) expect(r.length).toBe(head.length);
    const col = (model: string, what: string) => head.indexOf(`${model} ${what}`);
    expect(col("FC (1)", "estimate")).toBe(3);
    for (const [name, cell] of Object.entries(t.columns[0].coefs)) {
      const r = rows.find((x) => x[0] === "coef" && x[1] === name)!;
      expect(r[2]).toBe(t.labels![name]); // labels with , " & { } survive quoting
      expect(Number(r[col("FC (1)", "estimate")])).toBe(cell.estimate);
      expect(Number(r[col("FC (1)", "se")])).toBe(cell.se);
      expect(Number(r[col("FC (1)", "p")])).toBe(cell.p);
    }
    const did2 = rows.find((x) => x[0] === "coef" && x[1] === "did")!;
    expect(Number(did2[col("FC (2)", "estimate")])).toBe(-0.0050123);
    expect(did2[col('SA, "alt" (3)', "estimate")]).toBe(""); // skipped column stays empty
    const pub = rows.find((x) => x[0] === "published")!;
    expect(Number(pub[col("FC (1)", "estimate")])).toBe(0.251);
    expect(Number(pub[col('SA, "alt" (3)', "se")])).toBe(0.113);
    const nobs = rows.find((x) => x[0] === "stat" && x[1] === "Observations")!;
    expect(nobs[col("FC (2)", "estimate")]).toBe("1234567");
    const r2 = rows.find((x) => x[0] === "stat" && x[1] === "R2")!;
    expect(Number(r2[col("FC (1)", "estimate")])).toBe(0.2451234);
    const sk = rows.find((x) => x[0] === "skipped")!;
    expect(sk[col('SA, "alt" (3)', "estimate")]).toBe("no variation in SA, after dropping singletons");
  });

  it("data tables keep full precision and empty cells", () => {
    const t = sampleTable2();
    t.rows.push(["weird, \"name\"\nline", null, 0.1 + 0.2, -1e-300, 1 / 3, 123456789.123]);
    const rows = parseCsv(renderTable(t, "csv"));
    expect(rows[0]).toEqual(t.header);
    expect(rows.length).toBe(t.rows.length + 1);
    rows.slice(1).forEach((r, i) => {
      t.rows[i].forEach((v, j) => {
        if (typeof v === "number") expect(Number(r[j])).toBe(v);
        else expect(r[j]).toBe(v ?? "");
      });
    });
  });
});

describe("text", () => {
  it("aligned columns: every line of the table body has the same width", () => {
    const text = renderTable(hardTable(), "text");
    const lines = text.split("\n");
    const top = lines.findIndex((l) => /^=+$/.test(l));
    const bottom = lines.findIndex((l, i) => i > top && /^=+$/.test(l));
    expect(bottom).toBeGreaterThan(top + 5);
    const w = lines[top].length;
    for (const l of lines.slice(top, bottom + 1)) expect(l.length, l).toBe(w);
    // the SE sits centred under its estimate
    const est = lines.find((l) => l.startsWith("Zone × Post"))!;
    const se = lines[lines.indexOf(est) + 1];
    const cEst = est.indexOf("0.251") + "0.251**".length / 2;
    const cSe = se.indexOf("(0.115)") + "(0.115)".length / 2;
    expect(Math.abs(cEst - cSe)).toBeLessThanOrEqual(1);
  });
});

// ---------------------------------------------------------------------------------------------

function markers(svg: string): XmlElement[] {
  return checkXml(svg).filter((e) => (e.attrs.class ?? "").split(" ").includes("marker"));
}

describe("SVG figures", () => {
  it("event plot: well-formed, one marker per finite point, zero and reference lines, legend", () => {
    const f = sampleEventPlot();
    f.series[2].points.push({ x: 9, estimate: NaN, low: NaN, high: NaN });
    const svg = renderFigure(f);
    const els = checkXml(svg);
    expect(els[0].name).toBe("svg");
    expect(els[0].attrs.viewBox).toMatch(/^0 0 \d+ \d+$/);
    const finitePts = f.series.reduce((a, s) => a + s.points.filter((p) => Number.isFinite(p.estimate)).length, 0);
    expect(markers(svg).length).toBe(finitePts);
    expect(els.filter((e) => e.attrs.class === "zero").length).toBe(1);
    const ref = els.filter((e) => e.attrs.class === "reference");
    expect(ref.length).toBe(1);
    expect(ref[0].attrs["stroke-dasharray"]).toBeTruthy();
    expect(els.filter((e) => e.attrs.class === "legend-marker").length).toBe(3);
    // side by side: the three series at x = 0 sit at three distinct horizontal positions
    const at0 = markers(svg).filter((m) => m.attrs["data-x"] === "0");
    expect(at0.length).toBe(3);
    const xs = at0.map((m) => Number(m.attrs.cx ?? m.attrs.x ?? m.attrs.d?.match(/^M([\d.]+)/)?.[1]));
    expect(new Set(xs.map((x) => Math.round(x))).size).toBe(3);
    // distinct colours per series
    expect(new Set(at0.map((m) => m.attrs.fill)).size).toBe(3);
    expect(svg).not.toMatch(/<script|href=|@import|url\(|@font-face/i);
  });

  it("one series: no legend; ticks are round numbers", () => {
    const f: EventPlot = { ...sampleEventPlot(), series: [sampleEventPlot().series[0]] };
    const svg = renderFigure(f);
    const els = checkXml(svg);
    expect(els.filter((e) => e.attrs.class === "legend-marker").length).toBe(0);
    expect(markers(svg).length).toBe(f.series[0].points.length);
    const s = niceScale(-0.3127, 0.5741, 6);
    expect(s.ticks).toEqual([-0.4, -0.2, 0, 0.2, 0.4, 0.6]);
    expect(niceScale(0, 537, 6).ticks).toEqual([0, 100, 200, 300, 400, 500, 600]);
    expect(niceScale(3, 3).ticks.length).toBeGreaterThan(1);
  });

  it("histogram: Freedman-Diaconis bins (capped), counts add up, marker line and label", () => {
    const f = sampleHistogram();
    const svg = renderFigure(f);
    const els = checkXml(svg);
    const bars = els.filter((e) => e.attrs.class === "bar");
    expect(bars.length).toBeGreaterThan(5);
    expect(bars.length).toBeLessThanOrEqual(MAX_BINS);
    expect(bars.reduce((a, b) => a + Number(b.attrs["data-count"]), 0)).toBe(f.values.length);
    expect(els.filter((e) => e.attrs.class === "marker-line").length).toBe(1);
    expect(svg).toContain("Actual estimate 0.259");
    // heavy tail: the cap holds
    const wild = [...Array.from({ length: 2000 }, (_, i) => Math.sin(i) * 0.01), 1e6];
    const { counts } = histogramBins(wild);
    expect(counts.length).toBeLessThanOrEqual(MAX_BINS);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(wild.length);
    // degenerate: all equal
    const eq: HistogramPlot = { ...f, values: [0.1, 0.1, 0.1] };
    checkXml(renderFigure(eq));
    expect(histogramBins([0.1, 0.1, 0.1]).counts.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it("scatter: one marker per point, colour by group, legend, hline", () => {
    const f = sampleScatter();
    const svg = renderFigure(f);
    const els = checkXml(svg);
    const ms = markers(svg);
    expect(ms.length).toBe(f.points.length);
    const groups = new Set(f.points.map((p) => p.group));
    expect(new Set(ms.map((m) => m.attrs.fill)).size).toBe(groups.size);
    expect(els.filter((e) => e.attrs.class === "legend-marker").length).toBe(groups.size);
    expect(els.filter((e) => e.attrs.class === "hline").length).toBe(1);
    expect(svg).toContain("TWFE = 0.259");
  });

  it("escapes text and copes with empty data", () => {
    const f: ScatterPlot = { kind: "scatter", id: "e", title: 'A <b> & "c"', xLabel: "x<1", yLabel: "y&z", points: [], notes: ["n & m"] };
    const svg = renderFigure(f);
    checkXml(svg);
    expect(svg).toContain("A &lt;b&gt; &amp; &quot;c&quot;");
    expect(svg).toContain("No data to plot");
    checkXml(renderFigure({ ...sampleEventPlot(), series: [] }));
    checkXml(renderFigure({ ...sampleHistogram(), values: [], marker: undefined }));
  });
});

describe("documents", () => {
  const r = sampleReport();
  r.sections[0].text.push("Escape me: <script>alert(1)</script> & co");
  const html = renderHtml(r);

  it("HTML is self-contained: no external URLs, scripts or fonts", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|@font-face/i);
    for (const m of html.matchAll(/href="([^"]*)"/g)) expect(m[1].startsWith("#")).toBe(true);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co");
  });

  it("HTML has the conventions first, every section, tables, inline figures, skipped reasons, footer", () => {
    const conv = html.indexOf('class="conventions"');
    expect(conv).toBeGreaterThan(0);
    for (const c of r.conventions) expect(html).toContain(c.replace(/&/g, "&amp;").replace(/'/g, "&#39;"));
    for (const s of r.sections) expect(html.indexOf(`id="sec-${s.id}"`)).toBeGreaterThan(conv);
    const nFig = r.sections.reduce((a, s) => a + s.figures.length, 0);
    const nTab = r.sections.reduce((a, s) => a + s.tables.length, 0);
    expect(html.match(/<svg /g)!.length).toBe(nFig);
    expect(html.match(/<table /g)!.length).toBe(nTab);
    expect(html).toContain("<strong>Skipped:</strong> the logit kernel is not built yet");
    expect(html).toContain("<footer>");
    // the body (everything between <body> and </body>) is well-formed as XML once void tags are closed
    const body = html.slice(html.indexOf("<body>"), html.indexOf("</body>") + 7).replace(/<br>/g, "<br/>");
    checkXml(body);
  });

  it("Markdown links figures through figurePath and keeps tables intact", () => {
    const md = renderMarkdown(r, { figurePath: (id) => `figures/${id} (1).svg` });
    expect(md.startsWith(`# ${r.title}\n`)).toBe(true);
    expect(md).toContain("](figures/fig1%20%281%29.svg)");
    expect(md).toContain("> **Skipped:** the logit kernel is not built yet");
    expect(md.indexOf("**Conventions**")).toBeLessThan(md.indexOf("## "));
    expect(md).not.toMatch(/\n{3,}/);
    for (const l of md.split("\n").filter((x) => x.startsWith("|"))) expect(mdCells(l).length).toBeGreaterThan(1);
  });

  it("writes the sample report for people to look at (test-artifacts/report-sample.html)", () => {
    const dir = join(fileURLToPath(new URL("..", import.meta.url)), "test-artifacts");
    mkdirSync(join(dir, "figures"), { recursive: true });
    const sample = sampleReport();
    writeFileSync(join(dir, "report-sample.html"), renderHtml(sample));
    writeFileSync(join(dir, "report-sample.md"), renderMarkdown(sample, { figurePath: (id) => `figures/${id}.svg` }));
    for (const s of sample.sections) for (const f of s.figures) writeFileSync(join(dir, "figures", `${f.id}.svg`), renderFigure(f));
    expect(readdirSync(join(dir, "figures")).length).toBe(3);
  });
});

// ---------------------------------------------------------------------------------------------
// What a reader sees: dropped terms, number formats, labels that do not collide

/** The attributes of the first element matching `tag` whose text or class matches. */
function svgEl(svg: string, tag: string, pred: (attrs: Record<string, string>, text: string) => boolean): { attrs: Record<string, string>; text: string } {
  const re = new RegExp(`<${tag}\\b([^>]*?)(?:/>|>([^<]*)</${tag}>)`, "g");
  for (const m of svg.matchAll(re)) {
    const attrs = Object.fromEntries([...m[1].matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]]));
    if (pred(attrs, m[2] ?? "")) return { attrs, text: m[2] ?? "" };
  }
  throw new Error(`no <${tag}> found`);
}

/** Horizontal span of a text element, sized generously (0.62 em a character). */
function textSpan(t: { attrs: Record<string, string>; text: string }): [number, number] {
  const x = Number(t.attrs.x), w = t.text.length * Number(t.attrs["font-size"] ?? 12) * 0.62;
  return t.attrs["text-anchor"] === "end" ? [x - w, x] : t.attrs["text-anchor"] === "middle" ? [x - w / 2, x + w / 2] : [x, x + w];
}

describe("reader-facing details", () => {
  const col = (label: string, coefs: RegressionTable["columns"][number]["coefs"], dropped?: string[]) => ({ label, coefs, stats: { Observations: 100 }, dropped });
  const cell = (e: number) => ({ estimate: e, se: 0.1, p: 0.5 });

  it("names terms dropped as collinear under the table and in their cells", () => {
    const t: RegressionTable = {
      kind: "regression", id: "t5", title: "Table 5", rows: ["did", "Age", "Size"], labels: { did: "Zone x Post" },
      columns: [col("(1)", { did: cell(0.2) }), col("(2)", { did: cell(0.2), Size: cell(1) }, ["Age"]), col("(3)", { did: cell(0.2), Size: cell(1) }, ["Age"])],
      notes: [],
    };
    for (const fmt of ["md", "html", "text", "latex"] as const) {
      const out = renderTable(t, fmt).replace(/\s+/g, " "); // text wraps its notes
      expect(out, fmt).toContain("Age: removed because of collinearity (with the fixed effects or the other regressors) in (2), (3).");
      expect(out, fmt).toContain("(collinear)");
    }
    const md = renderTable(t, "md").split("\n");
    const age = mdCells(md.find((l) => l.startsWith("| Age"))!);
    expect(age).toEqual(["Age", "", "(collinear)", "(collinear)"]); // (1) never had Age
    // a term every column dropped says so
    const all = renderTable({ ...t, columns: t.columns.map((c) => ({ ...c, dropped: ["Age"] })) }, "md");
    expect(all).toContain("Age: removed because of collinearity (with the fixed effects or the other regressors) in every column.");
  });

  it("data tables print one number style per column; p-values from draws never read 0", () => {
    const t = {
      kind: "data" as const, id: "t2", title: "Table 2", header: ["Variable", "Mean", "Max", "p"],
      rows: [["a", 0.0636, 87288.8, formatPValue(0, 500)], ["b", 8.51, 3463.6, formatPValue(0.09, 500)], ["c", 0.007, 1.755, formatPValue(0.984, 500)]],
      notes: [],
    };
    const md = renderTable(t, "md").split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| :"));
    expect(mdCells(md[0])).toEqual(["Variable", "Mean", "Max", "p"]);
    expect(md.slice(1).map(mdCells)).toEqual([
      ["a", "0.064", "87,288.800", "< 0.002"],
      ["b", "8.510", "3,463.600", "0.090"],
      ["c", "0.007", "1.755", "0.984"],
    ]);
    // the p column is numeric: right-aligned like the others
    expect(renderTable(t, "md")).toContain("| :--- | ---: | ---: | ---: |");
    expect(formatFixed(0.000123)).toBe("0.000123");
    expect(formatFixed(-0.0004, 3)).toBe("-0.000400"); // 3 significant digits, as formatNumber
    expect(formatPValue(0, 10000)).toBe("< 0.0001");
    expect(formatPValue(0.0004)).toBe("0.00040");
    expect(formatPValue(1)).toBe("1.000");
  });

  it("the histogram's draw count moves away from a marker line in its corner", () => {
    for (const value of [0.259, 0.29, 0.31, -0.2, 0.05]) {
      const h = { ...sampleHistogram(), values: Array.from({ length: 500 }, (_, i) => -0.2 + 0.5 * ((i * 7919) % 500) / 500), marker: { value, label: `true estimate ${value}` } };
      const svg = renderFigure(h);
      const line = svgEl(svg, "line", (a) => a.class === "marker-line");
      const count = svgEl(svg, "text", (_, s) => s === "500 draws");
      const [c0, c1] = textSpan(count);
      const x = Number(line.attrs.x1);
      expect(x < c0 - 2 || x > c1 + 2, `marker ${value}: line at ${x}, count over [${c0}, ${c1}]`).toBe(true);
      const label = svgEl(svg, "text", (_, s) => s.startsWith("true estimate"));
      const [l0, l1] = textSpan(label);
      const sameLine = label.attrs.y === count.attrs.y;
      expect(!sameLine || l1 < c0 || l0 > c1, `marker ${value}: label [${l0}, ${l1}] over the count [${c0}, ${c1}]`).toBe(true);
    }
  });

  it("the scatter's reference-line label sits where no point is", () => {
    // points crowding the right end of the TWFE line, then both ends
    const crowd = (xs: number[]) => xs.map((x, i) => ({ x, y: 0.259 + (i % 2 ? 0.004 : -0.004), group: "Treated vs never treated" }));
    for (const pts of [crowd([0.9, 0.95, 1.0]), crowd([0.0, 0.02, 0.9, 0.95, 1.0])]) {
      const f: ScatterPlot = { ...sampleScatter(), points: [...pts, { x: 0.5, y: -0.5, group: "Later vs earlier treated" }, { x: 0.5, y: 0.8, group: "Later vs earlier treated" }] };
      const svg = renderFigure(f);
      const label = svgEl(svg, "text", (a) => a.class === "hline-label");
      const [x0, x1] = textSpan(label);
      const y = Number(label.attrs.y);
      const markers = [...svg.matchAll(/<(?:circle|path|rect)\b[^>]*class="marker"[^>]*>/g)].map((m) => m[0]);
      expect(markers.length).toBe(pts.length + 2);
      for (const m of markers) {
        const cx = Number(/cx="([^"]+)"/.exec(m)?.[1] ?? /data-px="([^"]+)"/.exec(m)?.[1] ?? NaN);
        const cy = Number(/cy="([^"]+)"/.exec(m)?.[1] ?? NaN);
        if (!Number.isFinite(cx) || !Number.isFinite(cy)) continue;
        const inside = cx + 5 > x0 && cx - 5 < x1 && cy + 5 > y - 12 && cy - 5 < y + 2;
        expect(inside, `point (${cx}, ${cy}) under the label [${x0}, ${x1}] x [${y - 12}, ${y + 2}]`).toBe(false);
      }
    }
  });
});
