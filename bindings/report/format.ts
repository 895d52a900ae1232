// Number formatting, significance stars and escaping shared by the report renderers.
// Pure string functions, no `node:` imports: the same code runs in a browser.

/** Stars as economics papers print them: *** p<0.01, ** p<0.05, * p<0.1 (strict). */
export function significanceStars(p: number): string {
  if (!Number.isFinite(p)) return "";
  return p < 0.01 ? "***" : p < 0.05 ? "**" : p < 0.1 ? "*" : "";
}

/** The legend printed under every regression table. */
export const STARS_LEGEND = "*** p<0.01, ** p<0.05, * p<0.1";

/** A stars legend already present in user notes (the renderer prints its own). */
export function isStarsLegend(note: string): boolean {
  return /\*\*\*\s*(?:\$?\s*)?p\s*(?:<|&lt;|\\textless\{\})\s*0?\.01/i.test(note);
}

function fixedNoNegZero(x: number, d: number): string {
  const s = x.toFixed(d);
  return /^-0(?:\.0*)?$/.test(s) ? s.slice(1) : s;
}

/**
 * A number in a data table (descriptive statistics, placebo summaries): `digits` fixed
 * decimals with thousands separators, so that a column reads alike (0.064, 8.510,
 * 87,288.800); a value that would print as 0 keeps `digits` significant digits (0.000123).
 */
export function formatFixed(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return formatNumber(x, digits);
  const s = fixedNoNegZero(x, digits);
  if (Number(s) === 0 && x !== 0) return formatNumber(x, digits);
  const [int, frac] = s.split(".");
  const sep = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return frac === undefined ? sep : `${sep}.${frac}`;
}

/**
 * A p-value from N draws or a finite sample: "< 0.002" (1/N) when none of the draws was as
 * extreme, else 3 decimals (0.090, 0.984).
 */
export function formatPValue(p: number, draws?: number): string {
  if (!Number.isFinite(p)) return formatNumber(p);
  if (p === 0 && draws !== undefined && draws > 0) return `< ${formatNumber(1 / draws, 1)}`;
  return p !== 0 && p < 0.001 ? formatNumber(p, 2) : fixedNoNegZero(p, 3);
}

/**
 * The paper's number style: 3 significant digits below 1 in absolute value (0.251, 0.0153,
 * 0.00265), 3 decimals from 1 on (1.918, 12.346, 307.500), with fewer decimals past 3 integer
 * digits so that at most 6 significant digits print (3463.60, 420285). `digits` changes the 3.
 * Values below 1e-4 use exponent notation (1.23e-5). NaN gives "", infinities "Inf" / "-Inf".
 */
export function formatNumber(x: number, digits = 3): string {
  if (Number.isNaN(x)) return "";
  if (!Number.isFinite(x)) return x > 0 ? "Inf" : "-Inf";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1) {
    const intDigits = Math.floor(Math.log10(a)) + 1;
    return fixedNoNegZero(x, Math.max(0, Math.min(digits, digits + 3 - intDigits)));
  }
  if (a < 1e-4) return x.toExponential(Math.max(0, digits - 1)).replace("e+", "e");
  const s = x.toPrecision(Math.max(1, digits));
  // 0.9996 rounds to "1.00": print it like the numbers from 1 on
  if (Math.abs(Number(s)) >= 1) return fixedNoNegZero(x, digits);
  return s;
}

/**
 * A number quoted from a paper: as printed there when it has at most 5 significant digits
 * (0.032 stays 0.032, -0.005 stays -0.005), formatNumber otherwise.
 */
export function formatQuoted(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return formatNumber(x, digits);
  const s = String(x);
  const sig = s.replace(/^-/, "").replace(/e.*$/, "").replace(".", "").replace(/^0+/, "");
  return !/e/.test(s) && sig.length <= 5 && Math.abs(x) < 1e6 ? s : formatNumber(x, digits);
}

/** An integer with thousands separators: 14734 -> "14,734". Non-integers are rounded. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return formatNumber(n);
  const r = Math.round(n);
  const s = Math.abs(r).toString();
  if (/e/.test(s)) return r.toString();
  const out = s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return r < 0 ? `-${out}` : out;
}

const R2_KEY = /(^|[^A-Za-z0-9])(R2|R²|R-squared|R squared|r2)($|[^A-Za-z0-9])/i;

/**
 * A stats row value: strings as given ("Yes", "Firm"), integers with thousands separators
 * (Observations 14,791), R2-like rows with 3 fixed decimals (0.010), anything else as
 * formatNumber.
 */
export function formatStat(key: string, v: string | number | null | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return formatNumber(v);
  if (R2_KEY.test(key)) {
    const s = fixedNoNegZero(v, 3);
    return Number(s) === 0 && v !== 0 ? formatNumber(v) : s;
  }
  if (Number.isInteger(v)) return formatCount(v);
  return formatNumber(v);
}

/** Full precision, machine-readable: the shortest string that parses back to the same double. */
export function fullPrecision(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "";
  if (!Number.isFinite(x)) return x > 0 ? "Inf" : "-Inf";
  if (Object.is(x, -0)) return "0";
  return String(x);
}

// ---------------------------------------------------------------------------------------------
// Escaping

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** XML text and attribute escaping (SVG). Drops characters XML 1.0 forbids. */
export function escapeXml(s: string): string {
  // eslint-disable-next-line no-control-regex
  return escapeHtml(s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, ""));
}

const LATEX_MAP: Record<string, string> = {
  "\\": "\\textbackslash{}",
  "{": "\\{",
  "}": "\\}",
  _: "\\_",
  "%": "\\%",
  "&": "\\&",
  "#": "\\#",
  $: "\\$",
  "^": "\\textasciicircum{}",
  "~": "\\textasciitilde{}",
  "<": "\\textless{}",
  ">": "\\textgreater{}",
  "|": "\\textbar{}",
  "\u00D7": "$\\times$",
  "\u00B2": "$^{2}$",
  "\u00B3": "$^{3}$",
  "\u2264": "$\\leq$",
  "\u2265": "$\\geq$",
  "\u00B1": "$\\pm$",
  "\u2212": "$-$",
  "\u2013": "--",
  "\u2014": "---",
  "\u2026": "\\ldots{}",
  "\u2018": "`",
  "\u2019": "'",
  "\u201C": "``",
  "\u201D": "''",
  "\u00A0": "~",
  "\u03B1": "$\\alpha$",
  "\u03B2": "$\\beta$",
  "\u03B3": "$\\gamma$",
  "\u03B4": "$\\delta$",
  "\u03B5": "$\\varepsilon$",
  "\u03C3": "$\\sigma$",
  "\u03C4": "$\\tau$",
  "\u03BC": "$\\mu$",
  "\u0394": "$\\Delta$",
};

/** Text-mode LaTeX escaping: \ { } _ % & # $ ^ ~ < > | and a few common Unicode signs. */
export function escapeLatex(s: string): string {
  let out = "";
  for (const ch of s.replace(/[\r\n\t]+/g, " ")) out += LATEX_MAP[ch] ?? ch;
  return out;
}

/** Inline Markdown escaping for labels and free text (GitHub flavour). */
export function escapeMarkdown(s: string): string {
  return s
    .replace(/[\r\n]+/g, " ")
    .replace(/([\\`*_[\]|])/g, "\\$1")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/** Markdown paragraph escaping: inline escaping plus line-start block markers. */
export function escapeMarkdownBlock(s: string): string {
  return escapeMarkdown(s)
    .replace(/^(\s*)([#>+-])/, "$1\\$2")
    .replace(/^(\s*\d+)([.)])/, "$1\\$2");
}

/** Word wrap to `width` characters (words longer than the width stay whole). */
export function wrapText(s: string, width: number): string[] {
  const words = s.split(/\s+/).filter((w) => w.length > 0);
  const lines: string[] = [];
  let cur = "";
  for (const w of words) {
    if (!cur) cur = w;
    else if (cur.length + 1 + w.length <= width) cur += ` ${w}`;
    else {
      lines.push(cur);
      cur = w;
    }
  }
  if (cur) lines.push(cur);
  return lines.length ? lines : [""];
}

/** A safe id fragment for anchors and LaTeX labels. */
export function slug(s: string): string {
  const out = s.replace(/[^A-Za-z0-9_.:-]+/g, "-").replace(/^-+|-+$/g, "");
  return out || "x";
}
