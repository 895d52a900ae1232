// The paper's model suite: Tables 2-9 and Figures 1-2 on any panel with the study's roles.
// Each section estimates its models, extracts numbers into neutral report structures
// (bindings/report/types.ts) and records every number in `results`. A section that cannot
// run (missing role or column, too few rows) is kept with the reason and the rest go on.
//
// Why one file over 600 lines: the core tables are sections of one paper written against one
// SuiteEnv (roles, options, the baseline fit, the shared demeaning cache), each a short function
// in paper order; the extensions, which are independent, live in extensions.ts.
import type { Engine } from "../engine/wasm.js";
import { Frame } from "../core/frame.js";
import { feols, withVcov, type Fit, type FeolsOptions } from "../estimators/feols.js";
import { HdfeError, RolesError } from "../base/errors.js";
import { shiftedDid, relativeTime, adoptionVaries } from "./derive.js";
import { type Roles, missingColumns } from "./roles.js";
import { PAPER } from "./published.js";
import { checkPanel } from "../core/panel.js";
import { DemeanCache } from "../core/demean-cache.js";
import { checkCount } from "../engine/limits.js";
import { planPlaceboDraws } from "../inference/placebo.js";
import { pf, pchisq, invSPD } from "../base/stats.js";
import type { SuiteOptions, SuiteContext, SuiteExtension } from "./context.js";
import { suiteExtensions } from "./extensions.js";
import type { Report, ReportSection, RegressionTable, DataTable, ModelColumn, EventPlot } from "../report/types.js";
import { suiteTable, type SuiteModel } from "./tables.js";

export type { SuiteOptions, SuiteExtension, SuiteContext } from "./context.js";

export interface SuiteResult {
  report: Report;
  results: Record<string, unknown>;
  /** seconds per section */
  timings: Record<string, number>;
}

const STARS_NOTE = "Standard errors in parentheses. *** p<0.01, ** p<0.05, * p<0.1.";

function round(x: number, d: number): number {
  return Number(x.toFixed(d));
}

function fitRecord(fit: Fit): Record<string, unknown> {
  return {
    formula: fit.formula,
    nobs: fit.nobs,
    coef: fit.coef,
    se: fit.se,
    p: fit.pvalue,
    r2: fit.r2,
    within_r2: fit.withinR2,
    removed: { na: fit.removed.na, singletons: fit.removed.singletons },
    collinear: fit.collinear,
    vcov: fit.vcovLabel,
    iterations: fit.iterations,
  };
}

/** Prepare derived columns (did, zone, Agg, SA) and check the required ones. */
export function prepareFrame(frame: Frame, roles: Roles): { frame: Frame; roles: Roles & { did: string; zone: string }; notes: string[] } {
  const notes: string[] = [];
  const miss = missingColumns(frame, [roles.outcome, roles.unit, roles.time, roles.city, roles.adopt, ...roles.controls]);
  if (miss.length) {
    throw new RolesError(`the panel lacks the columns the suite needs: ${miss.join(", ")}`, { missing: miss }, "fix roles.json so every required role names a column of the data");
  }
  let f = frame;
  const timing = { zone: roles.zone ?? "zone", year: roles.time, adopt: roles.adopt };
  let did = roles.did;
  if (!did || !f.has(did)) {
    did = "did";
    f = f.withColumn(did, shiftedDid(f, { ...timing, zone: "__none__" }, 0));
    notes.push(`DiD term derived: did = 1{${roles.time} >= ${roles.adopt}}`);
  }
  let zone = roles.zone;
  if (!zone || !f.has(zone)) {
    zone = "zone";
    const a = f.numeric(roles.adopt);
    f = f.withColumn(zone, Float64Array.from(a, (v) => (Number.isFinite(v) && v < 9999 ? 1 : 0)));
    notes.push(`Zone derived: 1 if ${roles.adopt} is set`);
  }
  if (roles.aggInputs) {
    const out = roles.aggInputs.output ?? "Agg";
    if (!f.has(out) && f.has(roles.aggInputs.listed) && f.has(roles.aggInputs.area)) {
      f = f.withColumn(out, locationEntropy(f, roles.city, roles.time, roles.aggInputs.listed, roles.aggInputs.area));
      notes.push(`${out} computed by eq. (2) from ${roles.aggInputs.listed} and ${roles.aggInputs.area}`);
    }
  }
  if (roles.saInputs) {
    const out = roles.saInputs.output ?? "SA";
    if (!f.has(out) && f.has(roles.saInputs.size) && f.has(roles.saInputs.age)) {
      const s = f.numeric(roles.saInputs.size), a = f.numeric(roles.saInputs.age);
      f = f.withColumn(out, Float64Array.from(s, (v, i) => Math.abs(-0.737 * v + 0.043 * v * v - 0.04 * a[i])));
      notes.push(`${out} computed as |-0.737 Size + 0.043 Size^2 - 0.04 Age| (Hadlock-Pierce)`);
    }
  }
  return { frame: f, roles: { ...roles, did, zone }, notes };
}

/** Agg = (n_it / S_i) / (sum_j n_jt / sum_j S_j), eq. (2), from city-year listed counts and city areas. */
export function locationEntropy(f: Frame, city: string, time: string, listed: string, area: string): Float64Array {
  const c = f.codes(city).codes, t = f.numeric(time), n = f.numeric(listed), s = f.numeric(area);
  const seen = new Map<string, true>();
  const sumN = new Map<number, number>(), sumS = new Map<number, number>();
  for (let i = 0; i < f.nrows; i++) {
    if (c[i] < 0 || !Number.isFinite(t[i]) || !Number.isFinite(n[i]) || !Number.isFinite(s[i])) continue;
    const key = `${c[i]},${t[i]}`;
    if (seen.has(key)) continue;
    seen.set(key, true);
    sumN.set(t[i], (sumN.get(t[i]) ?? 0) + n[i]);
    sumS.set(t[i], (sumS.get(t[i]) ?? 0) + s[i]);
  }
  return Float64Array.from({ length: f.nrows }, (_, i) => {
    const N = sumN.get(t[i]), S = sumS.get(t[i]);
    return N && S ? n[i] / s[i] / (N / S) : NaN;
  });
}

/**
 * Bytes the report keeps per placebo draw beside the draws themselves: the histogram's and
 * results' copies (8 + 8), the binning's sorted copy (16) and the draw in results.json
 * (about 24 characters).
 */
export const SUITE_BYTES_PER_DRAW = 56;

/**
 * Validate the suite's placebo draws (a whole number >= 0; 0 skips Table 7) and plan
 * their memory, the report's copies included, before anything runs. Returns the draws.
 */
export function planSuiteDraws(draws: unknown, limit?: number, name = "draws"): number {
  const d = checkCount(name, draws, 0);
  if (d > 0) planPlaceboDraws(d, 1, 0, limit, { bytes: SUITE_BYTES_PER_DRAW, what: "report copies (histogram, results.json)" });
  return d;
}

/** The frame with its derived columns, the suite's options and the environment every section reads. */
function suiteEnv(eng: Engine, data: Frame, rolesIn: Roles, options: SuiteOptions, draws: number) {
  const dups = checkPanel(data, rolesIn.unit, rolesIn.time, options.allowDuplicates);
  const prep = prepareFrame(data, rolesIn);
  if (dups.duplicates) prep.notes.push(`${dups.duplicates} duplicated (${rolesIn.unit}, ${rolesIn.time}) rows kept at the user's request.`);
  const { frame, roles } = prep;
  const opts = {
    vcov: options.vcov ?? `cluster:${roles.unit}`,
    ssc: options.ssc ?? "fixest",
    fixefRm: options.fixefRm ?? "singleton",
    draws,
    seed: options.seed ?? 20250101,
    eventLevel: options.eventLevel ?? 0.9,
  } as const;
  // a model whose FE projections did not converge is not reported: its column (or section) is
  // kept with the NonConvergenceError as the reason, never printed as if it were a result
  const fopts: FeolsOptions = { vcov: opts.vcov, ssc: opts.ssc, fixefRm: opts.fixefRm, fixefTol: options.fixefTol, fixefIter: options.fixefIter, strictConvergence: true,
    // models sharing the sample and FE (most of the tables) demean each column once: the same bits
    demeanCache: options.demeanCache ?? new DemeanCache() };
  const fe2 = `${roles.unit} + ${roles.time}`;
  const ctl = roles.controls.join(" + ");
  const results: Record<string, unknown> = { roles, derived: prep.notes, options: opts };
  const did = roles.did;
  const labels = { [did]: "Zone x Post" };
  const env: SuiteEnv = { eng, frame, roles, opts, fopts, fe2, ctl, results, did, labels, baseline: null, baselineFormula: "" };
  return { prep, env, results };
}

/** The baseline fit of Table 3; without it the suite stops with the baseline's own error. */
function requireBaseline(env: SuiteEnv): Fit {
  if (env.baseline) return env.baseline as Fit;
  // the baseline's own error (e.g. NonConvergenceError, exit 7), said to be the baseline's
  if (env.baselineError instanceof HdfeError) {
    env.baselineError.message = `the baseline model (Table 3, column 2) could not be estimated: ${env.baselineError.message}`;
    throw env.baselineError;
  }
  throw new RolesError("the baseline model (Table 3, column 2) could not be estimated; see the Table 3 section", { table3: env.results.table3 });
}

/** Tables 4 and 9: the baseline specification on each listed outcome. */
function outcomeTableSection(
  env: SuiteEnv, id: string, title: string, outcomes: string[], pubs: { estimate: number; se: number }[] | undefined,
): Omit<ReportSection, "id" | "title"> {
  const { eng, frame, did, ctl, fe2, fopts, results, roles } = env;
  const base = env.base as Fit;
  if (!outcomes.length) throw new RolesError(`no outcomes listed for ${title}`);
  const models: SuiteModel[] = [];
  const rec: Record<string, unknown>[] = [];
  const skipped: string[] = [];
  outcomes.forEach((o) => {
    if (!frame.has(o)) {
      skipped.push(`${o}: not in the panel`);
      models.push({ skipped: "column not in the panel" });
      return;
    }
    const fit = feols(eng, frame, `${o} ~ ${did} + ${ctl} | ${fe2}`, fopts);
    models.push(fit);
    rec.push({ outcome: o, ...fitRecord(fit) });
  });
  results[id] = rec;
  const t = suiteTable(env, {
    id, title, rows: [did], models, labels: outcomes.map((_, j) => `(${j + 1})`), headers: outcomes,
    published: outcomes.map((_, j) => ("skipped" in models[j] || !pubs?.[j] ? undefined : { coef: did, estimate: pubs[j].estimate, se: pubs[j].se })),
    notes: [STARS_NOTE, `Controls: ${roles.controls.join(", ")}. ${base.vcovLabel}.`, ...skipped],
  });
  return { text: [], tables: [t], figures: [] };
}

export async function runSuite(eng: Engine, data: Frame, rolesIn: Roles, options: SuiteOptions = {}): Promise<SuiteResult> {
  const progress = options.onProgress ?? (() => {});
  const draws = planSuiteDraws(options.draws ?? 500, options.memoryLimit);
  const { prep, env, results } = suiteEnv(eng, data, rolesIn, options, draws);
  const { frame, roles, opts } = env;
  const timings: Record<string, number> = {};
  const sections: ReportSection[] = [];

  const section = async (id: string, title: string, fn: () => Promise<Omit<ReportSection, "id" | "title">> | Omit<ReportSection, "id" | "title">) => {
    const t0 = performance.now();
    progress(title);
    try {
      sections.push({ id, title, ...(await fn()) });
    } catch (e) {
      if (!(e instanceof HdfeError)) throw e;
      const reason = `${e.name}: ${e.message}`;
      sections.push({ id, title, text: [], tables: [], figures: [], skipped: reason });
      results[id] = { skipped: reason };
    }
    timings[id] = (performance.now() - t0) / 1000;
  };

  // ---- Table 2: descriptive statistics
  await section("table2", "Table 2. Descriptive statistics", () => table2Section(env));

  // ---- Table 3: baseline
  await section("table3", "Table 3. Baseline: pilot zones and financial constraints", () => table3Section(env));
  const base = requireBaseline(env);
  const { baselineFormula } = env;
  env.base = base;

  // ---- Table 4: alternative outcomes
  const outcomeTable = (id: string, title: string, outcomes: string[], pubs: { estimate: number; se: number }[] | undefined) =>
    section(id, title, () => outcomeTableSection(env, id, title, outcomes, pubs));
  await outcomeTable("table4", "Table 4. Alternative measures of financial constraints", roles.altOutcomes ?? [], PAPER.table4);

  // ---- Table 5: more controls step by step
  await section("table5", "Table 5. Additional firm and city controls", () => table5Section(env));

  // ---- Table 6: in-time placebos and confounding policies (PSM column added by its module)
  await section("table6", "Table 6. Robustness: in-time placebos and confounding policies", () => table6Section(env));

  // ---- Figure 1: TWFE event study
  await section("figure1", "Figure 1. Event study (TWFE, leads and lags)", () => figure1Section(env));

  // ---- Table 8: heterogeneity
  await section("table8", "Table 8. Heterogeneity", () => table8Section(env));

  // ---- Table 9: mechanisms
  await outcomeTable("table9", "Table 9. Mechanisms", roles.mechanisms ?? [], PAPER.table9);

  // ---- extensions (placebo, PSM, robust event studies)
  const ctx: SuiteContext = { eng, frame, roles, opts, baseline: base, baselineFormula, progress };
  const extensions = [...(options.extensions === false ? [] : suiteExtensions()), ...(options.extraSections ?? [])];
  for (const ext of extensions) await runExtension(ext, ctx, sections, results, timings);

  const conventions = [...suiteConventions(base, roles.city, opts), ...prep.notes];
  results.timings = timings;
  const report: Report = {
    title: "Rerun: cross-border e-commerce pilot zones and firms' financial constraints",
    subtitle: PAPER.citation,
    conventions,
    sections,
    footer: [],
  };
  return { report, results, timings };
}

/** One extension section run on the prepared context, inserted after the section it names (a skip keeps the reason). */
async function runExtension(
  ext: SuiteExtension, ctx: SuiteContext, sections: ReportSection[], results: Record<string, unknown>, timings: Record<string, number>,
): Promise<void> {
  const { progress } = ctx;
  const t0 = performance.now();
  progress(ext.title);
  let sec: ReportSection;
  try {
    const out = await ext.run(ctx);
    const { results: r, ...rest } = out;
    results[ext.id] = r;
    sec = rest;
  } catch (e) {
    if (!(e instanceof HdfeError)) throw e;
    const reason = `${e.name}: ${e.message}`;
    sec = { id: ext.id, title: ext.title, text: [], tables: [], figures: [], skipped: reason };
    results[ext.id] = { skipped: reason };
  }
  const at = sections.findIndex((s) => s.id === ext.after);
  sections.splice(at < 0 ? sections.length : at + 1, 0, sec);
  timings[ext.id] = (performance.now() - t0) / 1000;
}

/** The report's statement of its conventions (variance, singletons, missing rows, levels, draws). */
function suiteConventions(base: Fit, city: string, opts: SuiteContext["opts"]): string[] {
  return [
    `Standard errors: ${base.vcovLabel} (the paper says only "robust"; Table 3 also reports heteroskedasticity-robust and ${city}-clustered SEs).`,
    `Small-sample correction: ${base.sscLabel}.`,
    opts.fixefRm === "singleton"
      ? "Fixed-effect singletons removed iteratively before estimation (reghdfe / pyfixest convention; fixest keeps them by default)."
      : "Fixed-effect singletons kept (fixest's default).",
    `Rows with a missing value in any variable of a model are removed model by model; the baseline removed ${base.removed.na} (${Object.entries(base.removed.naByColumn).map(([c, n]) => `${c}: ${n}`).join(", ") || "none"}) and ${base.removed.singletons} singletons.`,
    `Event-study intervals at ${Math.round(opts.eventLevel * 100)}%; all other intervals at 95%.`,
    `Placebo draws: ${opts.draws}, seed ${opts.seed}.`,
  ];
}

/** What every section of the suite works from (runSuite builds it once). */
interface SuiteEnv {
  eng: Engine;
  frame: Frame;
  roles: SuiteContext["roles"];
  opts: SuiteContext["opts"];
  fopts: FeolsOptions;
  /** "unit + time" */
  fe2: string;
  /** the controls joined with " + " */
  ctl: string;
  /** every number of the run, by section id */
  results: Record<string, unknown>;
  did: string;
  labels: Record<string, string>;
  /** Table 3 column (2), once Table 3 has run */
  baseline: Fit | null;
  baselineFormula: string;
  /** why column (2) could not be estimated, when it could not */
  baselineError?: unknown;
  base?: Fit;
}

type SectionBody = Omit<ReportSection, "id" | "title">;

/** Table 2: descriptive statistics. */
function table2Section(env: SuiteEnv): SectionBody | Promise<SectionBody> {
  const { eng, frame, roles, opts, fopts, fe2, ctl, results, did, labels } = env;
    const vars: [string, string][] = [
      [roles.outcome, "FC"],
      ...(roles.mechanisms ?? []).map((m): [string, string] => [m, m]),
      [roles.zone, "Zone"],
      [did, "Post"],
      ...roles.controls.map((c): [string, string] => [c, c]),
    ];
    const rows: (string | number | null)[][] = [];
    const rec: Record<string, unknown> = {};
    for (const [col, paperName] of vars) {
      if (!frame.has(col)) continue;
      const v = frame.numeric(col);
      let n = 0, s = 0, s2 = 0, mn = Infinity, mx = -Infinity;
      for (const x of v) {
        if (!Number.isFinite(x)) continue;
        n++;
        s += x;
        s2 += x * x;
        if (x < mn) mn = x;
        if (x > mx) mx = x;
      }
      const mean = s / n, sd = Math.sqrt(Math.max(0, (s2 - n * mean * mean) / (n - 1)));
      const pub = PAPER.table2.rows[paperName];
      rows.push([col === did ? `${col} (Zone x Post)` : col, n, mean, sd, mn, mx, pub ? pub[0] : null, pub ? pub[1] : null]);
      rec[col] = { n, mean, sd, min: mn, max: mx, paper: pub ?? null };
    }
    results.table2 = rec;
    const t: DataTable = {
      kind: "data",
      id: "table2",
      title: "Table 2. Descriptive statistics",
      header: ["Variable", "N", "Mean", "SD", "Min", "Max", "Paper mean", "Paper SD"],
      rows,
      notes: [`Paper: N = ${PAPER.table2.N.toLocaleString("en-US")} firm-years. "Post" is reported as the DiD term Zone x Post.`],
    };
    return { text: [`${frame.nrows.toLocaleString("en-US")} rows in the panel.`], tables: [t], figures: [] };
}

/** Table 3: the baseline (sets env.baseline, column 2). */
function table3Section(env: SuiteEnv): SectionBody | Promise<SectionBody> {
  const { eng, frame, roles, opts, fopts, fe2, ctl, results, did, labels } = env;
    const specs: { f: string; city: boolean; trend: boolean }[] = [
      { f: `${roles.outcome} ~ ${did} | ${fe2}`, city: false, trend: false },
      { f: `${roles.outcome} ~ ${did} + ${ctl} | ${fe2}`, city: false, trend: false },
      { f: `${roles.outcome} ~ ${did} + ${ctl} | ${fe2} + ${roles.city}`, city: true, trend: false },
    ];
    if (roles.region) specs.push({ f: `${roles.outcome} ~ ${did} + ${ctl} | ${fe2} + ${roles.city} + ${roles.region}[${roles.time}]`, city: true, trend: true });
    const models: SuiteModel[] = [];
    const seRows: Record<string, (string | number)[]> = { "SE hetero": [], [`SE cluster ${roles.city}`]: [] };
    const rec: Record<string, unknown>[] = [];
    specs.forEach((s, j) => {
      let fit: Fit;
      try {
        fit = feols(eng, frame, s.f, fopts);
      } catch (e) {
        // a column that cannot be estimated (e.g. not converged) stays in the table with the reason
        if (!(e instanceof HdfeError)) throw e;
        if (j === 1) env.baselineError = e;
        models.push({ skipped: e.message });
        for (const r of Object.values(seRows)) r.push("");
        rec.push({ formula: s.f, skipped: e.message });
        return;
      }
      if (j === 1) {
        env.baseline = fit;
        env.baselineFormula = s.f;
      }
      const pub = PAPER.table3[j];
      models.push(fit);
      // robustness: the paper says "robust"; report hetero and city-clustered SEs beside
      const alt: Record<string, number> = {};
      for (const v of ["hetero", `cluster:${roles.city}`]) {
        try {
          alt[v] = withVcov(eng, fit, v).se[did];
        } catch (e) {
          if (!(e instanceof HdfeError)) throw e;
        }
      }
      seRows["SE hetero"].push(alt.hetero === undefined ? "" : round(alt.hetero, 4));
      seRows[`SE cluster ${roles.city}`].push(alt[`cluster:${roles.city}`] === undefined ? "" : round(alt[`cluster:${roles.city}`], 4));
      rec.push({ ...fitRecord(fit), se_alternatives: alt, paper: pub });
    });
    results.table3 = rec;
    const t = suiteTable(env, {
      id: "table3",
      title: "Table 3. Baseline regressions",
      rows: [did, ...roles.controls],
      models,
      labels: specs.map((_, j) => `(${j + 1})`),
      headers: specs.map(() => roles.outcome),
      published: models.map((m, j) => ("skipped" in m ? undefined : { coef: did, estimate: PAPER.table3[j].estimate, se: PAPER.table3[j].se, n: PAPER.table3[j].n })),
      extralines: seRows,
      notes: [STARS_NOTE, ...(env.baseline ? [`${env.baseline.vcovLabel}; ${env.baseline.sscLabel}.`] : []), "Rows 'SE hetero' and 'SE cluster' give the Zone x Post SE under the other conventions."],
    });
    return { text: [], tables: [t], figures: [] };
}

/** Table 5: more controls step by step. */
function table5Section(env: SuiteEnv): SectionBody | Promise<SectionBody> {
  const { eng, frame, roles, opts, fopts, fe2, ctl, results, did, labels } = env;
  const base = env.base!;
    const extra = [...(roles.extraFirmControls ?? []), ...(roles.extraCityControls ?? [])].filter((c) => frame.has(c));
    if (!extra.length) throw new RolesError("no extra controls (extraFirmControls / extraCityControls) found in the panel");
    const steps: string[][] = [];
    const firm = (roles.extraFirmControls ?? []).filter((c) => frame.has(c));
    const city = (roles.extraCityControls ?? []).filter((c) => frame.has(c));
    if (firm.length) steps.push(firm.slice(0, 1), firm);
    if (city.length) steps.push([...firm, ...city.slice(0, 1)], [...firm, ...city]);
    steps.unshift([]);
    const used = steps.slice(0, 5);
    const models: Fit[] = [];
    const rec: Record<string, unknown>[] = [];
    used.forEach((add) => {
      const fit = feols(eng, frame, `${roles.outcome} ~ ${did} + ${ctl}${add.length ? " + " + add.join(" + ") : ""} | ${fe2}`, fopts);
      models.push(fit);
      rec.push({ added: add, ...fitRecord(fit) });
    });
    results.table5 = rec;
    const t = suiteTable(env, {
      id: "table5", title: "Table 5. Additional controls", rows: [did, ...extra], models,
      labels: used.map((_, j) => `(${j + 1})`), headers: used.map((add) => (add.length ? `+ ${add.join(", ")}` : "baseline")),
      published: used.map((_, j) => (PAPER.table5[j] !== undefined ? { coef: did, estimate: PAPER.table5[j] } : undefined)),
      notes: [STARS_NOTE, `${base.vcovLabel}.`],
    });
    return { text: [], tables: [t], figures: [] };
}

/** Table 6: in-time placebos and confounding policies. */
function table6Section(env: SuiteEnv): SectionBody | Promise<SectionBody> {
  const { eng, frame, roles, opts, fopts, fe2, ctl, results, did, labels } = env;
  const base = env.base!;
    const models: Fit[] = [], headers: string[] = [], published: ModelColumn["published"][] = [];
    const rename: Record<string, string> = {};
    const rec: Record<string, unknown> = {};
    for (const k of [1, 2]) {
      const name = `did_lead${k}`;
      const f2 = frame.withColumn(name, shiftedDid(frame, { zone: roles.zone, year: roles.time, adopt: roles.adopt }, k));
      const fit = feols(eng, f2, `${roles.outcome} ~ ${name} + ${ctl} | ${fe2}`, fopts);
      rename[name] = did; // the shifted term is shown on the DiD row
      const pub = k === 1 ? PAPER.table6.lead1 : PAPER.table6.lead2;
      models.push(fit), headers.push(`adoption ${k} year${k > 1 ? "s" : ""} earlier`), published.push({ coef: did, estimate: pub.estimate, se: pub.se });
      rec[`lead${k}`] = fitRecord(fit);
    }
    const pol = [roles.smartPost, roles.innovPost].filter((c): c is string => !!c && frame.has(c));
    if (pol.length) {
      const fit = feols(eng, frame, `${roles.outcome} ~ ${did} + ${pol.join(" + ")} + ${ctl} | ${fe2}`, fopts);
      models.push(fit), headers.push("confounding policies"), published.push({ coef: did, estimate: PAPER.table6.confounders.estimate, se: PAPER.table6.confounders.se });
      rec.confounders = fitRecord(fit);
    }
    results.table6 = rec;
    const t = suiteTable(env, {
      id: "table6", title: "Table 6. In-time placebos and confounding policies", rows: [did, ...pol], models, rename,
      labels: models.map((_, j) => `(${j + 1})`), headers, published,
      dict: { ...labels, [roles.smartPost ?? ""]: "Smart city x Post", [roles.innovPost ?? ""]: "Innovative city x Post" },
      notes: [STARS_NOTE, `${base.vcovLabel}.`],
    });
    return {
      text: ["Columns (1)-(2) move every adoption 1 and 2 years earlier (the coefficient is on the shifted DiD term). PSM-DiD is in its own section."],
      tables: [t],
      figures: [],
    };
}

/** Figure 1: the TWFE event study. */
function figure1Section(env: SuiteEnv): SectionBody | Promise<SectionBody> {
  const { eng, frame, roles, opts, fopts, fe2, ctl, results, did, labels } = env;
  const base = env.base!;
    const rel = relativeTime(frame, { zone: roles.zone, year: roles.time, adopt: roles.adopt });
    const f2 = frame.withColumn("rel", rel);
    const fit = feols(eng, f2, `${roles.outcome} ~ i(rel, ref = c(-1, -1000)) + ${ctl} | ${fe2}`, { ...fopts, level: opts.eventLevel });
    const evNames = fit.coefNames.filter((n) => n.startsWith("rel::"));
    const pts = evNames.map((n) => {
      const r = fit.table.find((t) => t.name === n)!;
      return { x: Number(n.slice(5)), estimate: r.estimate, low: r.ciLow, high: r.ciHigh, se: r.se, p: r.p };
    });
    // joint pre-trend test on the leads
    const pre = evNames.map((n, j) => [n, j] as const).filter(([n]) => Number(n.slice(5)) < -1);
    const k = fit.coefNames.length;
    let wald: Record<string, number> | null = null;
    if (pre.length) {
      const idx = pre.map(([n]) => fit.coefNames.indexOf(n));
      const q = idx.length;
      const Vs = new Float64Array(q * q);
      idx.forEach((a, i) => idx.forEach((b, j) => (Vs[i + j * q] = fit.vcovMatrix[a + b * k])));
      const Vi = invSPD(Vs, q);
      if (Vi) {
        const b = idx.map((a) => fit.coefVector[a]);
        let chi2 = 0;
        for (let i = 0; i < q; i++) for (let j = 0; j < q; j++) chi2 += b[i] * Vi[i + j * q] * b[j];
        wald = { chi2, df: q, p_chi2: 1 - pchisq(chi2, q), F: chi2 / q, df2: fit.df, p_F: 1 - pf(chi2 / q, q, fit.df) };
      }
    }
    // rel = year - adopt row by row (the data's own timing, as the DiD term and fixest's i(rel)):
    // units whose adoption year changes (movers) are timed from their current location's year
    const movers = adoptionVaries(frame, roles.unit, roles.adopt, roles.time);
    const timingNote = movers.units > 0
      ? `rel = ${roles.time} - ${roles.adopt} row by row, as the DiD term: ${movers.units} ${roles.unit}(s) with more than one ${roles.adopt} value ` +
        `(they move between locations adopting in different years, e.g. ${movers.examples.join(", ")}) are timed from their current location's year; ` +
        `Figure 1b gives every ${roles.unit} one cohort (the ${roles.adopt} of its first observed row).`
      : `rel = ${roles.time} - ${roles.adopt}; every ${roles.unit} has one ${roles.adopt} value.`;
    results.figure1 = { ...fitRecord(fit), level: opts.eventLevel, path: pts, pretrend_wald: wald, timing: "row", adoption_varies: movers.units };
    const plot: EventPlot = {
      kind: "event",
      id: "figure1",
      title: `Figure 1. Dynamic effects (TWFE event study, ${Math.round(opts.eventLevel * 100)}% CI)`,
      xLabel: "Years relative to adoption",
      yLabel: `Effect on ${roles.outcome}`,
      series: [{ label: "TWFE i(rel, ref = -1)", points: pts.map(({ x, estimate, low, high }) => ({ x, estimate, low, high })) }],
      reference: -1,
      notes: [`Reference period -1; never-treated units coded -1000 and also referenced. ${fit.vcovLabel}.`],
    };
    const rows = pts.map((p) => [p.x, p.estimate, p.se, p.low, p.high, p.p]);
    const t: DataTable = { kind: "data", id: "figure1_table", title: "Event-study coefficients", header: ["Relative year", "Estimate", "SE", "CI low", "CI high", "p"], rows, notes: [], digits: 4 };
    const text = [
      wald
        ? `Joint test that all leads are zero: F(${wald.df}, ${wald.df2}) = ${wald.F.toFixed(3)}, p = ${wald.p_F.toFixed(3)}; chi2(${wald.df}) = ${wald.chi2.toFixed(2)}, p = ${wald.p_chi2.toFixed(3)}.`
        : "No leads to test.",
      "Paper: pre-period coefficients small and insignificant, effect from year 1, peak in year 3, fading by year 5.",
      timingNote,
    ];
    return { text, tables: [t], figures: [plot] };
}

/** Table 8: heterogeneity. */
function table8Section(env: SuiteEnv): SectionBody | Promise<SectionBody> {
  const { eng, frame, roles, opts, fopts, fe2, ctl, results, did, labels } = env;
  const base = env.base!;
    const splits = (roles.splits ?? []).filter((s) => frame.has(s.column));
    if (!splits.length) throw new RolesError("no split columns (roles.splits) found in the panel");
    const tables: RegressionTable[] = [];
    const rec: Record<string, unknown> = {};
    const skippedNotes: string[] = [];
    for (const s of splits) {
      const codes = frame.codes(s.column);
      const order = s.levels ? Object.keys(s.levels) : [...codes.levels].sort();
      const models: SuiteModel[] = [], labels8: string[] = [], headers: (string | undefined)[] = [], published: ModelColumn["published"][] = [];
      const skip = (label: string, why: string) => {
        models.push({ skipped: why }), labels8.push(label), headers.push(undefined), published.push(undefined);
        skippedNotes.push(`${s.name} = ${label}: ${why}`);
      };
      for (const lev of order) {
        const li = codes.levels.indexOf(lev);
        const label = s.levels?.[lev] ?? lev;
        const idx: number[] = [];
        for (let i = 0; i < frame.nrows; i++) if (codes.codes[i] === li) idx.push(i);
        if (idx.length < 30) {
          skip(label, `${idx.length} rows: too few to estimate`);
          continue;
        }
        try {
          const fit = feols(eng, frame.take(idx), `${roles.outcome} ~ ${did} + ${ctl} | ${fe2}`, fopts);
          const pub = PAPER.table8[lev];
          models.push(fit), labels8.push(label), headers.push(s.name);
          published.push(s.column === roles.region && pub ? { coef: did, estimate: pub.estimate, se: pub.se } : undefined);
          rec[`${s.column}=${lev}`] = fitRecord(fit);
        } catch (e) {
          if (!(e instanceof HdfeError)) throw e;
          skip(label, e.message);
        }
      }
      tables.push(suiteTable(env, {
        id: `table8_${s.column}`, title: `Table 8. Heterogeneity by ${s.name}`, rows: [did], models, labels: labels8, headers, published,
        notes: [STARS_NOTE, `${base.vcovLabel}.`],
      }));
    }
    results.table8 = rec;
    return { text: skippedNotes, tables, figures: [] };
}
