// The types a suite section is written against: the options of a run, the context handed to
// an extension section and the extension itself (suite/run.ts runs them, suite/extensions.ts
// and callers provide them).
import type { Engine } from "../engine/wasm.js";
import type { Frame } from "../core/frame.js";
import type { Fit } from "../estimators/feols.js";
import type { SscName } from "../core/vcov.js";
import type { FixefRm } from "../core/sample.js";
import type { Roles } from "./roles.js";
import type { ReportSection } from "../report/types.js";
import type { DemeanCache } from "../core/demean-cache.js";

export interface SuiteOptions {
  /** vcov of every model (default: clustered by the unit, e.g. firm) */
  vcov?: string;
  ssc?: SscName;
  /** default "singleton": iterative removal, as reghdfe/pyfixest; "none" = fixest's default */
  fixefRm?: FixefRm;
  /** FE projection limits of every model (feols' fixefTol / fixefIter) */
  fixefTol?: number;
  fixefIter?: number;
  /** in-space placebo draws (Table 7); 0 skips the placebo; planned with planSuiteDraws */
  draws?: number;
  /** bound on the placebo draws' memory (bytes, default 1 GiB; bindings/engine/limits.ts) */
  memoryLimit?: number;
  seed?: number;
  /** confidence level of the event-study intervals (the paper uses 90%) */
  eventLevel?: number;
  /** progress messages for long steps */
  onProgress?: (step: string, done?: number, total?: number) => void;
  /** keep duplicated (unit, time) pairs instead of stopping with a PanelError */
  allowDuplicates?: boolean;
  /**
   * the library's extension sections (PSM-DiD, the in-space placebo, the robust event-study
   * estimators; suite/extensions.ts) are run unless this is false
   */
  extensions?: boolean;
  /** further sections provided by the caller, run after the library's */
  extraSections?: SuiteExtension[];
  /**
   * the demeaned columns the core tables' models share (same sample and FE: outcome, DiD
   * term and controls are demeaned once); default a new cache per run, pass one to read its stats
   */
  demeanCache?: DemeanCache;
}

/** A section computed by another module on the prepared frame and the baseline fit. */
export interface SuiteExtension {
  id: string;
  title: string;
  /** where to insert it: after the section with this id */
  after: string;
  run: (ctx: SuiteContext) => Promise<ReportSection & { results: Record<string, unknown> }> | (ReportSection & { results: Record<string, unknown> });
}

export interface SuiteContext {
  eng: Engine;
  frame: Frame;
  roles: Roles & { did: string; zone: string };
  opts: Required<Pick<SuiteOptions, "vcov" | "ssc" | "fixefRm" | "draws" | "seed" | "eventLevel">>;
  /** Table 3 column (2): outcome ~ did + controls | unit + time */
  baseline: Fit;
  baselineFormula: string;
  progress: (step: string, done?: number, total?: number) => void;
}
