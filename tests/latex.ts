// pdflatex for the table tests: whether it is installed, and a compile of one table in an
// article with booktabs that fails the test with pdflatex's error lines. Under CI=true a missing
// pdflatex is a failure (each test file asserts hasLatex there), never a silent skip.
import { expect } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const hasLatex = spawnSync("pdflatex", ["--version"], { encoding: "utf8" }).status === 0;
export const LATEX_SKIP_WHY = "pdflatex is not installed (bash .ci/install-latex.sh installs it)";

/** Compiles `tex` (a table) with booktabs; expects a PDF and no error. */
export function expectLatexCompiles(tex: string): void {
  const dir = mkdtempSync(join(tmpdir(), "hdfe-latex-"));
  try {
    writeFileSync(join(dir, "t.tex"), `\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n${tex}\n\\end{document}\n`);
    const r = spawnSync("pdflatex", ["-interaction=nonstopmode", "-halt-on-error", "t.tex"], { cwd: dir, encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stdout.split("\n").filter((l) => l.startsWith("!")).join("\n")).toBe(0);
    expect(existsSync(join(dir, "t.pdf"))).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
