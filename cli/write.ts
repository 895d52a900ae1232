// Output that never loses the user's files.
//
// A report directory (hdfe suite --out) is written under a new temporary directory next to
// the target and renamed into place when complete, so an interrupted run never leaves a
// report that looks finished. hdfe writes a manifest (hdfe-manifest.json, the files it
// wrote) into every report; that is how it recognises its own reports. The target may be a
// new path or an empty directory; a previous hdfe report is replaced only with --force and
// only if it holds nothing but the files its manifest lists (only those are removed). Any
// other existing path (a file, a link, a directory with other files, the current directory
// or one containing it, the home directory, a file-system root, a directory holding the
// input) is refused with an OptionError saying what to do instead.
import { mkdirSync, mkdtempSync, writeFileSync, renameSync, rmSync, rmdirSync, unlinkSync, lstatSync, readdirSync, readFileSync, statSync, existsSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve, parse, sep, relative, basename } from "node:path";
import { OptionError } from "../bindings/base/errors.js";
import { clip } from "./options.js";

export const MANIFEST = "hdfe-manifest.json";

interface Manifest {
  hdfe: "report";
  version: string;
  written: string;
  files: string[];
}

export type TargetState =
  | { kind: "new" }
  | { kind: "empty" }
  | { kind: "report"; files: string[]; written: string };

export interface TargetOptions {
  /** replace a previous hdfe report */
  force?: boolean;
  /** input files (data, roles) that the target must not contain */
  inputs?: string[];
  /** the option named in messages */
  option?: string;
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
const within = (dir: string, p: string) => p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/** Every file and directory under `dir`, relative, with "/" separators (directories end in "/"). */
function listTree(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(dir, r));
    if (st.isDirectory()) out.push(`${r}/`, ...listTree(dir, r));
    else out.push(r);
  }
  return out;
}

function readManifest(dir: string): Manifest | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST), "utf8")) as Manifest;
    if (m?.hdfe !== "report" || !Array.isArray(m.files) || !m.files.every((f) => typeof f === "string" && !f.includes("..") && !f.startsWith("/"))) return null;
    return m;
  } catch {
    return null;
  }
}

/**
 * What is at the report target, or an OptionError if hdfe may not write there. Has no side
 * effects, so commands call it before any work and again just before replacing.
 */
export function checkReportTarget(out: string, opts: TargetOptions = {}): TargetState {
  const flag = opts.option ?? "--out";
  const how = `write the report to a new directory, e.g. ${flag} hdfe-report`;
  if (out.trim() === "") throw new OptionError(`${flag} is empty`, undefined, how);
  // the parent through its real path, so that a link in the path cannot hide the current directory
  const lexical = resolve(out);
  const target = existsSync(dirname(lexical)) ? join(realpathSync(dirname(lexical)), basename(lexical)) : lexical;
  const cwd = realpathSync(process.cwd());
  if (target === parse(target).root) throw new OptionError(`${flag} ${clip(out)} is the root of the file system`, undefined, how);
  if (within(target, cwd)) {
    throw new OptionError(`${flag} ${clip(out)} is the current directory${target === cwd ? "" : " or contains it"}; hdfe writes a report into a directory of its own`, undefined, how);
  }
  if (within(target, homedir())) throw new OptionError(`${flag} ${clip(out)} is the home directory${target === homedir() ? "" : " or contains it"}`, undefined, how);
  for (const inp of opts.inputs ?? []) {
    if (within(target, resolve(inp))) throw new OptionError(`${flag} ${clip(out)} contains the input file ${clip(inp)}`, undefined, how);
  }
  requireParentDir(target, cwd, flag, out);
  let st;
  try {
    st = lstatSync(target);
  } catch {
    return { kind: "new" };
  }
  if (st.isSymbolicLink()) throw new OptionError(`${flag} ${clip(out)} is a symbolic link; hdfe does not write through or replace links`, undefined, how);
  if (!st.isDirectory()) throw new OptionError(`${flag} ${clip(out)} exists and is a file; hdfe never replaces a file it did not write`, undefined, how);
  const tree = listTree(target);
  if (tree.length === 0) return { kind: "empty" };
  const m = readManifest(target);
  if (!m) {
    throw new OptionError(
      `${flag} ${clip(out)} is a directory with ${plural(tree.filter((t) => !t.endsWith("/")).length, "file")} and is not an hdfe report (it has no ${MANIFEST}); hdfe never deletes files it did not write`,
      { entries: tree.slice(0, 10) },
      `${how}, or an empty one`,
    );
  }
  const listed = new Set(m.files);
  const dirs = new Set(m.files.flatMap((f) => f.split("/").slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join("/") + "/")));
  const extra = tree.filter((t) => t !== MANIFEST && !listed.has(t) && !dirs.has(t));
  if (extra.length) {
    const shown = extra.slice(0, 5).map((e) => clip(e, 60)).join(", ") + (extra.length > 5 ? `, ... (${extra.length})` : "");
    throw new OptionError(
      `${flag} ${clip(out)} is a previous hdfe report but also holds files hdfe did not write: ${shown}`,
      { extra: extra.slice(0, 20) },
      `move them out of it, or ${how}`,
    );
  }
  if (!opts.force) {
    throw new OptionError(
      `${flag} ${clip(out)} is a previous hdfe report (written ${m.written}); hdfe does not replace it unless asked`,
      undefined,
      `pass --force to replace it (only the ${m.files.length + 1} files hdfe wrote are removed), or choose another ${flag}`,
    );
  }
  return { kind: "report", files: m.files, written: m.written };
}

export class ReportDir {
  readonly target: string;
  readonly tmp: string;
  private readonly files: string[] = [];
  constructor(
    private readonly out: string,
    private readonly opts: TargetOptions = {},
  ) {
    checkReportTarget(out, opts);
    this.target = resolve(out);
    // a new directory of its own (never an existing path)
    this.tmp = mkdtempSync(`${this.target}.partial-`);
  }
  write(rel: string, content: string | Uint8Array): void {
    if (rel === MANIFEST) throw new Error(`${MANIFEST} is written by ReportDir itself`);
    const p = join(this.tmp, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content, { flag: "wx" });
    this.files.push(rel);
  }
  /**
   * Put the completed report in place: a new or empty target takes the temporary directory;
   * a previous report (with --force) is moved aside, replaced, and only its listed files are
   * removed. Returns warnings (e.g. an old directory that could not be removed entirely).
   */
  commit(version: string): string[] {
    const manifest: Manifest = { hdfe: "report", version, written: new Date().toISOString(), files: [...this.files].sort() };
    writeFileSync(join(this.tmp, MANIFEST), JSON.stringify(manifest, null, 1) + "\n", { flag: "wx" });
    const state = checkReportTarget(this.out, this.opts); // again: the run took a while
    if (state.kind === "new") {
      renameSync(this.tmp, this.target);
      return [];
    }
    if (state.kind === "empty") {
      rmdirSync(this.target); // fails (and so keeps everything) if a file appeared meanwhile
      renameSync(this.tmp, this.target);
      return [];
    }
    let old = `${this.target}.old-${process.pid}`;
    for (let i = 1; existsSync(old); i++) old = `${this.target}.old-${process.pid}-${i}`;
    renameSync(this.target, old);
    renameSync(this.tmp, this.target);
    return removeReport(old, state.files);
  }
  abort(): void {
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Remove an old report: its listed files, its manifest, then its directories if empty. */
function removeReport(dir: string, files: string[]): string[] {
  for (const f of [...files, MANIFEST]) {
    const p = join(dir, f);
    try {
      if (lstatSync(p).isFile()) unlinkSync(p);
    } catch {
      // already gone
    }
  }
  const dirs = [...new Set(files.flatMap((f) => f.split("/").slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join("/"))))];
  dirs.sort((a, b) => b.length - a.length);
  try {
    for (const d of dirs) rmdirSync(join(dir, d));
    rmdirSync(dir);
  } catch {
    return [`kept ${dir}: it holds files that the previous report's manifest does not list`];
  }
  return [];
}

/**
 * Write one file atomically (a new temporary name, then rename). The directory must exist:
 * a missing one is an OptionError naming `option`, not a raw ENOENT about the temporary file.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array, option = "--out", force = false): void {
  const tmp = tempFileFor(path, option, force);
  try {
    writeFileSync(tmp, content, { flag: "wx" });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** An OptionError unless the directory `target` would be written in exists (named relative to `base`). */
function requireParentDir(target: string, base: string, option: string, given: string): void {
  const parent = dirname(target);
  let pst;
  try {
    pst = statSync(parent);
  } catch {
    pst = undefined;
  }
  if (!pst?.isDirectory()) throw new OptionError(`the directory ${clip(relative(base, parent) || parent)} of ${option} ${clip(given)} does not exist`, undefined, "create it first, or choose another place");
}

/**
 * The temporary name for an output file: checks that `path` can be written (its directory
 * exists, it is not a directory, and it is not an existing file unless `force`: hdfe never
 * replaces a file it was not told to replace) and returns a fresh name next to it.
 */
export function tempFileFor(path: string, option = "--out", force = false): string {
  if (path.trim() === "") throw new OptionError(`${option} is empty`);
  const target = resolve(path);
  requireParentDir(target, process.cwd(), option, path);
  let st;
  try {
    st = statSync(target);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) throw new OptionError(`${option} ${clip(path)} is a directory`, undefined, "give a file name");
  if (st && !force) throw new OptionError(`${option} ${clip(path)} exists`, undefined, "give a new file name, or pass --force to replace it");
  let tmp = `${target}.partial-${process.pid}`;
  for (let i = 1; existsSync(tmp); i++) tmp = `${target}.partial-${process.pid}-${i}`;
  return tmp;
}
