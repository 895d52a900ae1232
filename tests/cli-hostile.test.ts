// Hostile inputs against the command line as a user runs it (a child process on the
// TypeScript sources, real files in a temporary directory), issue 12 / 17:
// - data loss: `hdfe suite --out` never deletes or replaces what hdfe did not write; a
//   previous hdfe report (recognised by its manifest) is replaced only with --force and only
//   its listed files are removed; `simulate --out` into a missing directory is a clear error;
// - exit codes and messages: commander's usage errors exit 2 with one line and a hint (no
//   help dump), numeric options are range-checked (exit 2), non-convergence exits 7 without a
//   result, --json also prints a JSON error object on stdout, long values are shortened so
//   the hint survives a pipe, every option a hint names exists, --format / --text-columns /
//   --unparsable-as-na do what the hints say, a roles.json with a BOM is read.
//
// Tolerances: none numeric; exit codes, file contents and counts are compared exactly.
import { describe, it, expect, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, existsSync, readdirSync, writeFileSync, copyFileSync, renameSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, basename } from "node:path";
import { Command } from "commander";
import { checkReportTarget } from "../cli/write.js";
import { checkValue, optionSpec } from "../cli/options.js";
import { register as registerFeols } from "../cli/commands/feols.js";
import { register as registerSuite } from "../cli/commands/suite.js";
import { register as registerEvent } from "../cli/commands/event.js";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";

const ROOT = new URL("..", import.meta.url).pathname;
const REF = join(ROOT, "tests/fixtures/reference");
const PANEL = join(REF, "cbec_panel.csv");
const MPDTA = join(REF, "mpdta.csv");
const BIN = HDFE_BIN;

/** The installed entry point (bin/hdfe.js on dist/cli.js, as a user runs it), through pipes. */
function hdfe(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", timeout: 120_000, maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Newest modification time of the .ts files under `dir`. */
/** One error line ("hdfe: Class: ...") and one hint line, nothing else (no usage dump, no stack). */
function oneLineAndHint(err: string, cls: string): string {
  // progress lines of a slow read ("reading FILE: ... ETA ...", printed off a terminal on a loaded machine) are not the error
  const lines = err.trimEnd().split("\n").filter((l) => !/^reading .*: .* elapsed /.test(l));
  expect(lines.length, err).toBe(2);
  expect(lines[0]).toMatch(new RegExp(`^hdfe: ${cls}: `));
  expect(lines[1]).toMatch(/^hint: /);
  expect(err).not.toMatch(/Usage:|\n\s+at /);
  return lines[1];
}

/** The long option names of a command, from its registration (cli/commands/<name>.ts). */
function optionsOf(command: string): Set<string> {
  const program = new Command();
  ({ feols: registerFeols, suite: registerSuite, event: registerEvent } as Record<string, (p: Command) => void>)[command](program);
  const cmd = program.commands.find((c) => c.name() === command)!;
  return new Set(cmd.options.map((o) => o.long!));
}

/** Every --option a hint names is an option of that command. */
function hintOptionsExist(command: string, hint: string): void {
  const have = optionsOf(command);
  const named = [...hint.matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0]);
  expect(named.length).toBeGreaterThan(0);
  for (const opt of named) expect(have.has(opt), `${opt} named by the hint "${hint}"`).toBe(true);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "hdfe-hostile-"));
  assertFresh();
});

describe("data loss: hdfe suite --out", () => {
  it("refuses '.' (the input and the user's files stay), a directory with the user's files even with --force, and a file", () => {
    const cwd = join(dir, "cwd");
    mkdirSync(cwd);
    copyFileSync(MPDTA, join(cwd, "input.csv"));
    writeFileSync(join(cwd, "notes.txt"), "mine\n");
    const r = hdfe(["suite", "--data", "input.csv", "--out", ".", "--draws", "0", "--force"], cwd);
    expect(r.code, r.err).toBe(2);
    expect(oneLineAndHint(r.err, "OptionError")).toMatch(/--out hdfe-report/);
    expect(r.err).toMatch(/is the current directory/);
    expect(readdirSync(cwd).sort()).toEqual(["input.csv", "notes.txt"]);
    expect(readFileSync(join(cwd, "input.csv"))).toEqual(readFileSync(MPDTA));

    const user = join(dir, "userdir");
    mkdirSync(join(user, "deep"), { recursive: true });
    writeFileSync(join(user, "a.txt"), "keep me\n");
    writeFileSync(join(user, "deep", "b.csv"), "x\n1\n");
    const u = hdfe(["suite", "--out", user, "--draws", "0", "--force"]);
    expect(u.code).toBe(2);
    expect(oneLineAndHint(u.err, "OptionError")).toMatch(/new directory.*or an empty one/);
    expect(u.err).toMatch(/with 2 files and is not an hdfe report/);
    expect(readFileSync(join(user, "a.txt"), "utf8")).toBe("keep me\n");
    expect(readFileSync(join(user, "deep", "b.csv"), "utf8")).toBe("x\n1\n");

    const file = join(dir, "afile.md");
    writeFileSync(file, "my report\n");
    const f = hdfe(["suite", "--out", file, "--draws", "0", "--force"]);
    expect(f.code).toBe(2);
    expect(f.err).toMatch(/is a file; hdfe never replaces a file/);
    expect(readFileSync(file, "utf8")).toBe("my report\n");
    expect(readdirSync(dir).some((n) => n.includes("partial"))).toBe(false);
  });

  it("the same check refuses an empty path, the root, a parent of the current directory, the home directory, a link, a missing parent and a directory holding the input", () => {
    const refuse = (out: string, re: RegExp, inputs?: string[]) => expect(() => checkReportTarget(out, { force: true, inputs }), out).toThrow(re);
    refuse("", /--out is empty/);
    refuse("   ", /--out is empty/);
    refuse("/", /root of the file system/);
    refuse("..", /is the current directory or contains it/);
    refuse(process.env.HOME ?? "/root", /home directory|current directory/);
    const link = join(dir, "link");
    mkdirSync(join(dir, "target"));
    symlinkSync(join(dir, "target"), link);
    refuse(link, /symbolic link/);
    // the current directory reached through a link to its parent
    const cwdParent = join(process.cwd(), "..");
    symlinkSync(cwdParent, join(dir, "uplink"));
    refuse(join(dir, "uplink", basename(process.cwd())), /is the current directory/);
    refuse(join(dir, "no", "such", "report"), /the directory .* does not exist/);
    const holder = join(dir, "holder");
    mkdirSync(holder);
    refuse(holder, /contains the input file/, [join(holder, "sub", "panel.csv")]);
    // what is accepted: a new path and an empty directory
    expect(checkReportTarget(join(dir, "fresh"))).toEqual({ kind: "new" });
    expect(checkReportTarget(holder)).toEqual({ kind: "empty" });
    expect(existsSync(join(dir, "no"))).toBe(false);
  });

  it("a previous hdfe report: refused without --force, refused with files hdfe did not write, replaced with --force removing only its listed files", () => {
    const rep = join(dir, "report");
    mkdirSync(join(rep, "tables"), { recursive: true });
    writeFileSync(join(rep, "report.md"), "old\n");
    writeFileSync(join(rep, "tables", "old_table.csv"), "a\n");
    writeFileSync(join(rep, "hdfe-manifest.json"), JSON.stringify({ hdfe: "report", version: "0", written: "2026-01-01T00:00:00Z", files: ["report.md", "tables/old_table.csv"] }));
    const noForce = hdfe(["suite", "--out", rep, "--draws", "0"]);
    expect(noForce.code).toBe(2);
    const hint = oneLineAndHint(noForce.err, "OptionError");
    expect(hint).toMatch(/--force/);
    hintOptionsExist("suite", hint);

    writeFileSync(join(rep, "tables", "my_notes.txt"), "mine\n");
    const extra = hdfe(["suite", "--out", rep, "--draws", "0", "--force"]);
    expect(extra.code).toBe(2);
    expect(extra.err).toMatch(/files hdfe did not write: "tables\/my_notes.txt"/);
    expect(readFileSync(join(rep, "tables", "my_notes.txt"), "utf8")).toBe("mine\n");
    expect(readFileSync(join(rep, "report.md"), "utf8")).toBe("old\n");

    // the user moves the file out, then replaces the report
    renameSync(join(rep, "tables", "my_notes.txt"), join(dir, "my_notes.txt"));
    const ok = hdfe(["suite", "--out", rep, "--draws", "0", "--force"]);
    expect(ok.code, ok.err).toBe(0);
    expect(existsSync(join(rep, "tables", "old_table.csv"))).toBe(false);
    const m = JSON.parse(readFileSync(join(rep, "hdfe-manifest.json"), "utf8"));
    expect(m.hdfe).toBe("report");
    expect(m.files).toContain("report.md");
    expect(m.files).toContain("tables/table3.csv");
    for (const f of m.files) expect(existsSync(join(rep, f)), f).toBe(true);
    // the directory holds exactly the manifest's files (and their folders)
    const walk = (d: string, rel = ""): string[] => readdirSync(join(d, rel), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(d, rel + e.name + "/") : [rel + e.name]));
    expect(walk(rep).sort()).toEqual([...m.files, "hdfe-manifest.json"].sort());
    expect(readFileSync(join(rep, "report.md"), "utf8")).not.toBe("old\n");
    expect(readdirSync(dir).filter((n) => /partial|\.old-/.test(n))).toEqual([]);
  });

  it("simulate --out and placebo --save-draws into a missing directory or onto a directory are option errors, not a raw ENOENT", () => {
    const r = hdfe(["simulate", "--firms", "3", "--out", join(dir, "no", "such", "x.csv")]);
    expect(r.code).toBe(2);
    oneLineAndHint(r.err, "OptionError");
    expect(r.err).toMatch(/the directory .*no\/such.* of --out .* does not exist/);
    expect(r.err).not.toMatch(/ENOENT|partial/);
    const d = hdfe(["simulate", "--firms", "3", "--out", dir]);
    expect(d.code).toBe(2);
    expect(d.err).toMatch(/is a directory/);
    // placebo's output files are checked before any work, the same way
    const pl = hdfe(["placebo", "--data", PANEL, "-f", "FC ~ did | firm + year", "--treatment", "did", "--unit", "city", "--adopt", "adopt", "--year", "year", "--save-draws", join(dir, "no", "d.csv")]);
    expect(pl.code).toBe(2);
    expect(pl.err).toMatch(/the directory .* of --save-draws .* does not exist/);
    expect(pl.out).toBe("");
    expect(readdirSync(dir).some((n) => n.includes("partial"))).toBe(false);
  });

  it("an existing output file is never replaced without --force (simulate --out, placebo --save-draws)", () => {
    const mine = join(dir, "mine.csv");
    writeFileSync(mine, "the user's data\n");
    const s = hdfe(["simulate", "--firms", "3", "--out", mine]);
    expect(s.code).toBe(2);
    expect(oneLineAndHint(s.err, "OptionError")).toMatch(/--force/);
    expect(s.err).toMatch(/--out .*mine\.csv.* exists/);
    expect(readFileSync(mine, "utf8")).toBe("the user's data\n");
    const pq = join(dir, "mine.parquet");
    writeFileSync(pq, "not ours");
    expect(hdfe(["simulate", "--firms", "3", "--out", pq]).code).toBe(2);
    expect(readFileSync(pq, "utf8")).toBe("not ours");
    const draws = join(dir, "draws.csv");
    writeFileSync(draws, "keep me\n");
    const pl = hdfe(["placebo", "--data", PANEL, "-f", "FC ~ did | firm + year", "--treatment", "did", "--unit", "city", "--adopt", "adopt", "--year", "year", "--draws", "5", "--save-draws", draws]);
    expect(pl.code).toBe(2);
    expect(pl.err).toMatch(/--save-draws .*draws\.csv.* exists/);
    expect(readFileSync(draws, "utf8")).toBe("keep me\n");
    // with --force the file is replaced by hdfe's output
    const f = hdfe(["simulate", "--firms", "3", "--out", mine, "--force"]);
    expect(f.code, f.err).toBe(0);
    expect(readFileSync(mine, "utf8").split("\n")[0]).toMatch(/firm/);
    expect(readdirSync(dir).some((n) => n.includes("partial"))).toBe(false);
  });
});

describe("exit codes and messages", () => {
  it("commander usage errors exit 2 with one line and a hint, not the help", () => {
    const noData = hdfe(["feols", "-f", "y ~ x", "--json"]);
    expect(noData.code).toBe(2);
    expect(oneLineAndHint(noData.err, "OptionError")).toMatch(/hdfe feols --help/);
    expect(noData.err).toMatch(/required option '--data <file>'/);
    expect(JSON.parse(noData.out).error).toMatchObject({ name: "OptionError", exitCode: 2, message: "required option '--data <file>' not specified" });
    const unknown = hdfe(["feols", "--data", MPDTA, "-f", "lemp ~ lpop", "--formul", "x"]);
    expect(unknown.code).toBe(2);
    expect(oneLineAndHint(unknown.err, "OptionError")).toMatch(/Did you mean --formula\?/);
    const cmd = hdfe(["feolz"]);
    expect(cmd.code).toBe(2);
    expect(oneLineAndHint(cmd.err, "OptionError")).toMatch(/Did you mean feols\?/);
    const none = hdfe([]);
    expect(none.code).toBe(2);
    expect(oneLineAndHint(none.err, "OptionError")).toMatch(/suite, feols/);
    const help = hdfe(["help", "wild"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: hdfe wild/);
  });

  it("numeric options are checked against their ranges before any work (exit 2)", () => {
    const base = ["feols", "--data", MPDTA, "-f", "lemp ~ lpop | year"];
    const cases: [string[], RegExp][] = [
      [["--fixef-iter", "abc"], /--fixef-iter must be a positive integer, got "abc"/],
      [["--fixef-iter", "2147483648"], /--fixef-iter must be a positive integer, got "2147483648"/],
    ];
    for (const [extra, msg] of cases) {
      const r = hdfe([...base, ...extra]);
      expect(r.code, extra.join(" ")).toBe(2);
      oneLineAndHint(r.err, "OptionError");
      expect(r.err).toMatch(msg);
    }
    // the same schema for the other commands, defaults included
    const suite = hdfe(["suite", "--draws", "-1", "--out", join(dir, "never")]);
    expect(suite.code).toBe(2);
    expect(suite.err).toMatch(/--draws must be a non-negative integer/); // counts: bindings/engine/limits.ts (tests/limits.test.ts)
    expect(existsSync(join(dir, "never"))).toBe(false);
    // the schema itself (cli/options.ts), per command
    const bad: [string, string, string][] = [
      ["feols", "fixefIter", "0"], ["feols", "fixefIter", "1.5"], ["feols", "fixefIter", ""], ["feols", "level", "1"],
      ["feols", "level", "0"], ["feols", "fixefTol", "-1e-8"], ["feols", "fixefTol", "NaN"], ["feols", "threads", "2.5"],
      ["feols", "fixefRm", "all"], ["feols", "fixefIter", "1.5e0"], ["simulate", "seed", "1.5"],
      ["simulate", "seed", String(2 ** 53 + 2)], ["psm", "caliper", "-0.1"], ["event", "draws", "9"], ["wild", "null", "Infinity"],
    ];
    for (const [cmd, attr, v] of bad) expect(checkValue(optionSpec(cmd, attr)!, v), `${cmd} ${attr} ${v}`).not.toBeNull();
    const good: [string, string, string][] = [
      ["feols", "fixefIter", "2147483647"], ["feols", "fixefIter", "1e3"], ["feols", "level", "0.9"], ["feols", "fixefTol", "1e-14"],
      ["simulate", "seed", "-3"], ["psm", "caliper", "0"], ["event", "draws", "10"], ["event", "draws", "1e3"], ["wild", "null", "-0.5"], ["feols", "format", "parquet"],
    ];
    for (const [cmd, attr, v] of good) expect(checkValue(optionSpec(cmd, attr)!, v), `${cmd} ${attr} ${v}`).toBeNull();
  });

  it("non-convergence exits 7 with the options to change, and prints no result", () => {
    const r = hdfe(["feols", "--data", PANEL, "-f", "FC ~ did + Fin | firm + year", "--fixef-iter", "1", "--fixef-tol", "1e-14"]);
    expect(r.code).toBe(7);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/NonConvergenceError: fixed-effect projections did not converge in 1 iteration/);
    const hint = r.err.split("\n").find((l) => l.startsWith("hint: "))!;
    hintOptionsExist("feols", hint);
  });

  it("--json prints a JSON error object on stdout as well", () => {
    const opt = hdfe(["feols", "--data", MPDTA, "-f", "lemp ~ lpop | year", "--fixef-iter", "abc", "--json"]);
    expect(opt.code).toBe(2);
    const j = JSON.parse(opt.out);
    expect(j.error).toMatchObject({ name: "OptionError", exitCode: 2 });
    expect(j.error.message).toMatch(/--fixef-iter/);
    const col = hdfe(["feols", "--data", MPDTA, "-f", "lemp ~ lpopp | year", "--json"]);
    expect(col.code).toBe(4);
    expect(JSON.parse(col.out).error).toMatchObject({ name: "ColumnError", exitCode: 4 });
  });

  it("a 20 MB bad value is shortened: the message and the hint survive a pipe", () => {
    const lines = ["id,year,y,x"];
    for (let i = 0; i < 30; i++) for (let t = 2000; t < 2003; t++) lines.push(`${i},${t},${(i * 7 + t) % 11},${(i * 3 + t * 5) % 13}`);
    lines[5] = `1,2001,3,${"z".repeat(20_000_000)}`;
    const file = join(dir, "long.csv");
    writeFileSync(file, lines.join("\n") + "\n");
    const r = hdfe(["feols", "--data", file, "-f", "y ~ x | id + year", "--json"]);
    expect(r.code).toBe(5);
    expect(r.err.split("\n").filter((l) => !/^reading /.test(l)).join("\n").length).toBeLessThan(2000);
    const hint = oneLineAndHint(r.err, "DataReadError");
    expect(r.err).toMatch(/"z{80}\.\.\." \(20,000,000 characters\)/);
    expect(hint).toMatch(/--unparsable-as-na/);
    expect(r.out.length).toBeLessThan(4000);
    expect(JSON.parse(r.out).error.exitCode).toBe(5);
  });

  it("hints name CLI options that exist, and those options do what the hints say", () => {
    // an id column mixing 7 and A7: not numeric, so read as text with --text-columns
    const lines = ["id,year,y,x"];
    for (let k = 0; k < 60; k++) {
      const id = k < 30 ? String(k) : `A${k - 30}`;
      for (let t = 2000; t < 2004; t++) lines.push(`${id},${t},${((k * 13 + t * 7) % 17) / 4},${((k * 5 + t * 3) % 11) / 3}`);
    }
    const mixed = join(dir, "mixed.csv");
    writeFileSync(mixed, lines.join("\n") + "\n");
    const bad = hdfe(["feols", "--data", mixed, "-f", "y ~ x | id + year"]);
    expect(bad.code).toBe(5);
    const hint = oneLineAndHint(bad.err, "DataReadError");
    expect(hint).toMatch(/--text-columns "id"/);
    expect(hint).not.toMatch(/stringColumns|unparsable: /);
    hintOptionsExist("feols", hint);
    const ok = hdfe(["feols", "--data", mixed, "-f", "y ~ x | id + year", "--text-columns", "id", "--json"]);
    expect(ok.code, ok.err).toBe(0);
    const fit = JSON.parse(ok.out);
    expect(fit.nobs).toBe(240);
    expect(fit.fixef_sizes).toEqual({ id: 60, year: 4 }); // "7" and "A7" stay distinct units

    // a stray token in a numeric column: --unparsable-as-na reads it as missing and counts it
    const stray = lines.map((l, i) => (i === 0 ? l : l.replace(/^A/, "")));
    stray[10] = stray[10].replace(/,[^,]*$/, ",n.a.");
    const strayFile = join(dir, "stray.csv");
    writeFileSync(strayFile, stray.join("\n") + "\n");
    const s1 = hdfe(["feols", "--data", strayFile, "-f", "y ~ x | id + year"]);
    expect(s1.code).toBe(5);
    hintOptionsExist("feols", oneLineAndHint(s1.err, "DataReadError"));
    const s2 = hdfe(["feols", "--data", strayFile, "-f", "y ~ x | id + year", "--unparsable-as-na", "--json"]);
    expect(s2.code, s2.err).toBe(0);
    expect(s2.err).toMatch(/x: 0 missing, 1 unparsable treated as missing/);
    expect(JSON.parse(s2.out).nobs).toBe(239);

    // a file whose extension does not say the format: --format
    const dat = join(dir, "mpdta.dat");
    copyFileSync(MPDTA, dat);
    const f1 = hdfe(["feols", "--data", dat, "-f", "lemp ~ lpop | year"]);
    expect(f1.code).toBe(5);
    const fh = oneLineAndHint(f1.err, "DataReadError");
    expect(fh).toMatch(/--format/);
    hintOptionsExist("feols", fh);
    const f2 = hdfe(["feols", "--data", dat, "-f", "lemp ~ lpop | year", "--format", "csv", "--json"]);
    expect(f2.code, f2.err).toBe(0);
    expect(JSON.parse(f2.out).nobs).toBe(2500);

    // a method that cannot run says which CLI option would make it run
    const treatedOnly = readFileSync(MPDTA, "utf8").split("\n").filter((l, i) => i === 0 || (l && l.split(",")[4] !== "0"));
    const nonever = join(dir, "nonever.csv");
    writeFileSync(nonever, treatedOnly.join("\n") + "\n");
    const ev = hdfe(["event", "--data", nonever, "--outcome", "lemp", "--unit", "countyreal", "--time", "year", "--adopt", "first.treat", "--method", "cs", "--draws", "10"]);
    // the only method asked for cannot run: its error's exit code (6, sample), the option in the message
    expect(ev.code, ev.err).toBe(6);
    const line = ev.err.split("\n").find((l) => l.includes("no never-treated unit"))!;
    expect(line).toMatch(/no never-treated unit: use --control-group notyet/);
    hintOptionsExist("event", line);
  });

  it("a directory as --data, a missing cluster column and a missing --cluster column are named as such", () => {
    const d = hdfe(["feols", "--data", REF, "-f", "lemp ~ lpop | year"]);
    expect(d.code).toBe(5);
    expect(oneLineAndHint(d.err, "DataReadError")).toBeTruthy();
    expect(d.err).toMatch(/is a directory, not a data file/);
    const c = hdfe(["feols", "--data", MPDTA, "-f", "lemp ~ lpop | year", "--vcov", "cluster:county"]);
    expect(c.code).toBe(4);
    expect(c.err).toMatch(/the cluster variable \(--vcov\) "county": column "county" not found/);
    const w = hdfe(["wild", "--data", PANEL, "-f", "FC ~ did | firm + year", "--param", "did", "--cluster", "cty", "--B", "99"]);
    expect(w.code).toBe(4);
    expect(w.err).toMatch(/bootstrap cluster variable \(--cluster\) "cty"/);
    expect(w.err).toMatch(/did you mean "city"/);
  });

  it("a roles.json with a byte-order mark is read", () => {
    const roles = join(dir, "roles-bom.json");
    writeFileSync(roles, "\uFEFF" + JSON.stringify({ outcome: "FC", unit: "firm" }));
    const r = hdfe(["suite", "--data", PANEL, "--roles", roles, "--out", join(dir, "never-written"), "--draws", "0"]);
    // past the JSON parse: the roles themselves are checked (time is missing)
    expect(r.code).toBe(10);
    expect(r.err).toMatch(/missing the required role "time"/);
    expect(r.err).not.toMatch(/JSON|Unexpected token/);
    expect(existsSync(join(dir, "never-written"))).toBe(false);
  });
});
