// hdfe suite: the paper's whole model suite on the embedded synthetic panel or a user's
// panel (--data + --roles), written as a report directory.
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { loadEngine } from "../../bindings/node.js";
import { Frame } from "../../bindings/core/frame.js";
import { simulatePanel, DEFAULT_SEED } from "../../bindings/sim/simulate.js";
import { runSuite, planSuiteDraws } from "../../bindings/suite/run.js";
import { memoryLimitBytes } from "./placebo.js";
import { progressBar, progressIntervalMs, type ProgressBar } from "../progress.js";
import { DEFAULT_ROLES, parseRoles, type Roles } from "../../bindings/suite/roles.js";
import { writeSuiteReport } from "../../bindings/suite/output.js";
import { OptionError, RolesError } from "../../bindings/base/errors.js";
import { addReadOptions, readData, describeRead, type ReadFlags } from "../data.js";
import { ReportDir, checkReportTarget, MANIFEST } from "../write.js";
import { parseVcov } from "../../bindings/core/vcov.js";

interface Flags extends Partial<ReadFlags> {
  roles?: string;
  out: string;
  draws: string;
  seed: string;
  vcov?: string;
  ssc?: string;
  fixefRm: string;
  eventLevel: string;
  allowDuplicates?: boolean;
  progressInterval?: string;
  memoryLimit?: string;
  force?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command("suite")
    .description("rerun every table and figure of the study (embedded synthetic panel unless --data)");
  addReadOptions(cmd, false)
    .option("--roles <file>", "roles.json mapping the study's roles to your column names (default: the synthetic panel's names)")
    .option("--out <dir>", "report directory: new, empty, or a previous hdfe report with --force", "hdfe-report")
    .option("--force", `replace a previous hdfe report at --out (only the files its ${MANIFEST} lists are removed)`)
    .option("--draws <n>", "in-space placebo draws", "500")
    .option("--seed <n>", "seed of the synthetic panel and of every random draw", String(DEFAULT_SEED))
    .option("--vcov <spec>", "vcov of every model (default: clustered by the unit, e.g. firm)")
    .option("--ssc <conv>", "small-sample convention: fixest | full | none | stata", "fixest")
    .option("--fixef-rm <what>", "singleton (default) | none", "singleton")
    .option("--event-level <x>", "confidence level of the event-study intervals", "0.9")
    .option("--allow-duplicates", "keep duplicated (unit, time) pairs instead of stopping")
    .option("--progress-interval <s>", "off a terminal, a progress line on stderr every s seconds (0: at every step)", "5")
    .option("--memory-limit <GiB>", "largest memory the placebo draws may keep, report copies included (default 1)")
    .action(async (flags: Flags) => {
      const t0 = performance.now();
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed)) throw new OptionError(`--seed must be an integer, got ${flags.seed}`);
      // a whole number >= 0 whose memory (the report's copies included) fits: before the data is read
      const memoryLimit = memoryLimitBytes(flags.memoryLimit);
      const draws = planSuiteDraws(flags.draws, memoryLimit, "--draws");
      const intervalMs = progressIntervalMs(flags.progressInterval, (m) => new OptionError(m));
      const bars = new Map<string, ProgressBar>();
      if (flags.vcov) parseVcov(flags.vcov);
      if (flags.fixefRm !== "singleton" && flags.fixefRm !== "none") throw new OptionError(`--fixef-rm must be singleton or none`);
      // before any work: where the report goes must be writable without losing anything
      const target = { force: flags.force, inputs: [flags.data, flags.roles].filter((x): x is string => !!x) };
      checkReportTarget(flags.out, target);
      let frame: Frame;
      let roles: Roles = DEFAULT_ROLES;
      let source: string;
      if (flags.roles) {
        let json: unknown;
        try {
          json = JSON.parse(readFileSync(flags.roles, "utf8").replace(/^\uFEFF/, "")); // a BOM (Windows editors) is not JSON
        } catch (e) {
          throw new RolesError(`cannot read roles file ${flags.roles}: ${(e as Error).message}`);
        }
        roles = parseRoles(json);
      }
      if (flags.data) {
        const { frame: f, report } = await readData(flags as ReadFlags);
        frame = f;
        source = `${flags.data} (${report.rows.toLocaleString("en-US")} rows)`;
        const lines = describeRead(report);
        if (lines.length) process.stderr.write(`read ${flags.data}:\n${lines.join("\n")}\n`);
      } else {
        const sim = simulatePanel({ seed });
        frame = Frame.fromColumns(sim.columns);
        source = `embedded synthetic panel (seed ${seed}, ${sim.nrows.toLocaleString("en-US")} firm-years; planted ATT on FC ${sim.truth.fc.att.toFixed(3)})`;
      }
      const eng = await loadEngine();
      const res = await runSuite(eng, frame, roles, {
        vcov: flags.vcov,
        ssc: flags.ssc as never,
        fixefRm: flags.fixefRm as never,
        draws,
        memoryLimit,
        seed,
        eventLevel: Number(flags.eventLevel),
        allowDuplicates: flags.allowDuplicates,
        onProgress: (step, done, total) => {
          if (done === undefined || total === undefined) {
            process.stderr.write(`  ${step}\n`);
            return;
          }
          let bar = bars.get(step);
          if (!bar) bars.set(step, (bar = progressBar(`  ${step}`, { intervalMs, finalLine: true })));
          bar.update(done, total);
          if (done >= total) {
            bar.end();
            bars.delete(step);
          }
        },
      });
      res.report.conventions.unshift(`Data: ${source}.`);
      const secs = (performance.now() - t0) / 1000;
      res.report.footer.push(
        `hdfe ${process.env.npm_package_version ?? ""} on Node ${process.version}; total ${secs.toFixed(2)} s: ${Object.entries(res.timings).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(", ")}.`,
      );
      const dir = new ReportDir(flags.out, target);
      try {
        const files = writeSuiteReport(res, (rel, content) => dir.write(rel, content));
        for (const w of dir.commit(process.env.npm_package_version ?? "")) process.stderr.write(`warning: ${w}\n`);
        const skipped = res.report.sections.filter((s) => s.skipped);
        for (const s of skipped) process.stderr.write(`skipped ${s.title}: ${s.skipped}\n`);
        process.stderr.write(`wrote ${files} files to ${flags.out}/ in ${secs.toFixed(2)} s (report.md, report.html, results.json)\n`);
      } catch (e) {
        dir.abort();
        throw e;
      }
    });
}
