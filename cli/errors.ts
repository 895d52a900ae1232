// One error handler for the CLI: named error classes map to distinct exit codes; a clear
// line plus a hint, a stack trace only with --verbose. Commander's usage errors (missing or
// unknown options, unknown commands) are option errors (exit 2) printed the same way. Hints
// written for library callers name the library's options; cliText() says them as the CLI
// options that do the same. Every line is cut to a bounded length, so that a long bad value
// is never echoed in full.
import { CommanderError } from "commander";
import {
  HdfeError, FormulaSyntaxError, ColumnError, OptionError, DataReadError, SampleError, NonConvergenceError,
  VcovError, WasmMemoryError, KernelError, RolesError, PanelError, SqlEngineError,
} from "../bindings/base/errors.js";

export const EXIT_CODES: [new (...a: never[]) => Error, number][] = [
  [OptionError, 2],
  [FormulaSyntaxError, 3],
  [ColumnError, 4],
  [DataReadError, 5],
  [SampleError, 6],
  [NonConvergenceError, 7],
  [VcovError, 8],
  [WasmMemoryError, 9],
  [RolesError, 10],
  [PanelError, 11],
  [SqlEngineError, 12],
  [KernelError, 70],
];

/** Longest line printed for an error (longer lines are cut, saying how much was left out). */
export const MAX_LINE = 600;

export function exitCodeOf(err: unknown): number {
  for (const [cls, code] of EXIT_CODES) if (err instanceof cls) return code;
  return 1;
}

/** Commander errors that are not errors (help or version shown). */
export function isHelpExit(err: unknown): boolean {
  return err instanceof CommanderError && (err.code === "commander.helpDisplayed" || err.code === "commander.version" || (err.code === "commander.help" && err.exitCode === 0));
}

/**
 * A commander usage error as an OptionError: the message without commander's "error: "
 * prefix, its "(Did you mean ...?)" as the hint, else a pointer to the command's --help.
 */
export function fromCommander(err: CommanderError, command: string | undefined): OptionError {
  const lines = err.message.replace(/^error: /, "").split("\n").filter(Boolean);
  const suggestion = lines.find((l) => /^\(Did you mean /.test(l));
  const message = lines.filter((l) => l !== suggestion).join(" ");
  const where = command ? `hdfe ${command} --help` : "hdfe --help";
  const hint =
    err.code === "commander.unknownCommand"
      ? `${suggestion ? `${suggestion.slice(1, -1)} ` : ""}hdfe --help lists the commands`
      : `${suggestion ? `${suggestion.slice(1, -1)} ` : ""}${where} lists the options`;
  if (err.code === "commander.help") {
    // the help of the program shown as an error: no command, or `hdfe help <unknown>`
    const word = process.argv.slice(2).filter((a) => !a.startsWith("-"))[1];
    return new OptionError(word ? `unknown command ${JSON.stringify(word).slice(0, 80)}` : "no command given", { commander: err.code }, "hdfe --help lists the commands");
  }
  return new OptionError(message, { commander: err.code }, hint);
}

/** Library option names in messages and hints, said as the CLI options that do the same. */
const CLI_WORDS: [RegExp, string][] = [
  [/pass unparsable: "na"/g, "pass --unparsable-as-na"],
  [/add ("[^"]*"(?: \([\d,]+ characters\))?) to the na tokens/g, "add $1 to the --na list (it replaces the default list)"],
  [/list ("[^"]*"(?: \([\d,]+ characters\))?) in stringColumns/g, "pass --text-columns $1"],
  [/\bstringColumns\b/g, "--text-columns"],
  [/pass the format explicitly/g, "pass --format csv|arrow|parquet"],
  [/, or select only unambiguous ones with columns: \[\.\.\.\]/g, " (the CLI reads only the columns a model uses)"],
  [/select the flat columns you need with columns: \[\.\.\.\]/g, "write the columns you need as flat (non-nested) columns"],
  [/use storage: "f64"/g, "leave out --float32"],
  [/\(storage: "f32": /g, "("],
  [/\bfixefTol\b/g, "--fixef-tol"],
  [/\bfixefIter\b/g, "--fixef-iter"],
  [/\bfixefAlgo\b/g, "--fixef-algo"],
  [/\bcontrolGroup "notyet"/g, "--control-group notyet"],
];

export function cliText(s: string): string {
  for (const [re, to] of CLI_WORDS) s = s.replace(re, to);
  return s;
}

/**
 * Shorten every JSON-quoted value longer than `max` characters (a 20 MB cell echoed in a
 * message) to its first characters and its length. A linear scan, no regular expression.
 */
export function clipQuoted(s: string, max = 120): string {
  if (s.length <= max) return s;
  let out = "";
  let i = 0;
  while (i < s.length) {
    const q = s.indexOf('"', i);
    if (q < 0) break;
    let j = q + 1;
    while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
    if (j >= s.length) break; // no closing quote
    out += s.slice(i, q);
    const len = j - q - 1;
    if (len > max) {
      let head = s.slice(q + 1, q + 1 + 80);
      if (/\\$/.test(head) && !/\\\\$/.test(head)) head = head.slice(0, -1);
      out += `"${head}..." (${len.toLocaleString("en-US")} characters)`;
    } else out += s.slice(q, j + 1);
    i = j + 1;
  }
  return out + s.slice(i);
}

/** Library wording said as the CLI's, on a value already clipped. */
const say = (s: string) => clipLine(cliText(clipQuoted(s)));

/** Cut a line to MAX_LINE characters. */
export function clipLine(line: string, max = MAX_LINE): string {
  if (line.length <= max) return line;
  return `${line.slice(0, max)}... (${(line.length - max).toLocaleString("en-US")} more characters)`;
}

/** The formula error's first line and a caret under a window of the formula around the position. */
function formulaLines(err: FormulaSyntaxError): string[] {
  const head = err.message.split("\n")[0];
  const f = err.formula;
  const w = 100;
  const start = Math.max(0, Math.min(err.position - w / 2, f.length - w));
  const end = Math.min(f.length, start + w);
  const pre = start > 0 ? "..." : "";
  const text = `${pre}${f.slice(start, end)}${end < f.length ? "..." : ""}`;
  return [head, text, `${" ".repeat(pre.length + Math.max(0, err.position - start))}^`];
}

export function formatError(err: unknown, verbose: boolean): string {
  const lines: string[] = [];
  if (err instanceof HdfeError) {
    const msg = err instanceof FormulaSyntaxError && err.formula.length > 100 ? formulaLines(err) : err.message.split("\n");
    msg[0] = `hdfe: ${err.name}: ${msg[0]}`;
    lines.push(...msg);
    if (err.hint) lines.push(`hint: ${err.hint}`);
  } else if (err instanceof Error) {
    lines.push(`hdfe: ${err.message}`);
  } else lines.push(`hdfe: ${String(err)}`);
  const out = lines.map(say);
  if (verbose && err instanceof Error && err.stack) out.push(err.stack.split("\n").map((l) => clipLine(l)).join("\n"));
  return out.join("\n");
}

/** The error as the JSON object printed on stdout with --json. */
export function errorJson(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const hint = err instanceof HdfeError && err.hint ? say(err.hint) : undefined;
  let details: unknown;
  if (err instanceof HdfeError && err.details) {
    try {
      const text = JSON.stringify(err.details);
      details = text.length <= 4 * MAX_LINE ? JSON.parse(text) : undefined;
    } catch {
      details = undefined;
    }
  }
  return JSON.stringify({
    error: {
      name: err instanceof HdfeError ? err.name : "Error",
      message: e.message.split("\n").map(say).join("\n"),
      ...(hint ? { hint } : {}),
      exitCode: exitCodeOf(err),
      ...(details !== undefined ? { details } : {}),
    },
  });
}
