// hdfe suite: the paper's whole model suite on the embedded synthetic panel or a user's
// panel (--data + --roles), written as a report directory.
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { loadEngine } from "../../bindings/node.js";
import { Frame } from "../../bindings/frame.js";
import { simulatePanel, DEFAULT_SEED } from "../../bindings/simulate.js";
import { runSuite } from "../../bindings/suite/run.js";
import { DEFAULT_ROLES, parseRoles, type Roles } from "../../bindings/suite/roles.js";
import { writeSuiteReport } from "../../bindings/suite/output.js";
import { OptionError, RolesError } from "../../bindings/errors.js";
import { addReadOptions, readData, describeRead, type ReadFlags } from "../data.js";
import { AtomicDir } from "../write.js";
import { parseVcov } from "../../bindings/vcov.js";

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
}

export function register(program: Command): void {
  const cmd = program
    .command("suite")
    .description("rerun every table and figure of the study (embedded synthetic panel unless --data)");
  addReadOptions(cmd, false)
    .option("--roles <file>", "roles.json mapping the study's roles to your column names (default: the synthetic panel's names)")
    .option("--out <dir>", "report directory", "hdfe-report")
    .option("--draws <n>", "in-space placebo draws", "500")
    .option("--seed <n>", "seed of the synthetic panel and of every random draw", String(DEFAULT_SEED))
    .option("--vcov <spec>", "vcov of every model (default: clustered by the unit, e.g. firm)")
    .option("--ssc <conv>", "small-sample convention: fixest | full | none | stata", "fixest")
    .option("--fixef-rm <what>", "singleton (default) | none", "singleton")
    .option("--event-level <x>", "confidence level of the event-study intervals", "0.9")
    .option("--allow-duplicates", "keep duplicated (unit, time) pairs instead of stopping")
    .action(async (flags: Flags) => {
      const t0 = performance.now();
      const seed = Number(flags.seed), draws = Number(flags.draws);
      if (!Number.isInteger(seed)) throw new OptionError(`--seed must be an integer, got ${flags.seed}`);
      if (!Number.isInteger(draws) || draws < 0) throw new OptionError(`--draws must be a non-negative integer, got ${flags.draws}`);
      if (flags.vcov) parseVcov(flags.vcov);
      if (flags.fixefRm !== "singleton" && flags.fixefRm !== "none") throw new OptionError(`--fixef-rm must be singleton or none`);
      let frame: Frame;
      let roles: Roles = DEFAULT_ROLES;
      let source: string;
      if (flags.roles) {
        let json: unknown;
        try {
          json = JSON.parse(readFileSync(flags.roles, "utf8"));
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
        seed,
        eventLevel: Number(flags.eventLevel),
        allowDuplicates: flags.allowDuplicates,
        onProgress: (step, done, total) => {
          if (done === undefined) process.stderr.write(`  ${step}\n`);
          else if (process.stderr.isTTY) process.stderr.write(`\r  ${step}: ${done}/${total}${done === total ? "\n" : ""}`);
          else if (done === total) process.stderr.write(`  ${step}: ${done}/${total}\n`);
        },
      });
      res.report.conventions.unshift(`Data: ${source}.`);
      const secs = (performance.now() - t0) / 1000;
      res.report.footer.push(
        `hdfe ${process.env.npm_package_version ?? ""} on Node ${process.version}; total ${secs.toFixed(2)} s: ${Object.entries(res.timings).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(", ")}.`,
      );
      const dir = new AtomicDir(flags.out);
      try {
        const files = writeSuiteReport(res, (rel, content) => dir.write(rel, content));
        dir.commit();
        const skipped = res.report.sections.filter((s) => s.skipped);
        for (const s of skipped) process.stderr.write(`skipped ${s.title}: ${s.skipped}\n`);
        process.stderr.write(`wrote ${files} files to ${flags.out}/ in ${secs.toFixed(2)} s (report.md, report.html, results.json)\n`);
      } catch (e) {
        dir.abort();
        throw e;
      }
    });
}
