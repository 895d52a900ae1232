// The page: builds a model spec from the selects, sends it to the engine worker, renders what
// comes back. No estimation happens on this thread (the worker owns the engine).
import { EngineClient } from "./client.js";
import { HdfeError } from "../../bindings/base/errors.js";
import { formulaOf, vcovOf } from "./spec.js";
import { eventFigure, placeboFigure, regressionTable } from "./report.js";
import { tableHtml } from "./render.js";
import { renderFigure } from "../../bindings/report/svg.js";
import { renderTable } from "../../bindings/report/tables.js";
import embedSource from "../embed-example.html?raw";
import type { BenchResult, DatasetInfo, ModelResult, ModelSpec, PlaceboResult } from "../../bindings/platform/worker-protocol.js";

declare global {
  interface Window {
    /** animation frames seen since load: keeps growing while the main thread is free */
    __ticks: number;
    /** longest gap between two frames (ms) since the last reset */
    __maxGap: number;
    __hdfe: {
      model: ModelResult | null; placebo: PlaceboResult | null; data: DatasetInfo | null; busy: boolean; progressEvents: number;
      /** benchmark results, in run order */
      bench: BenchResult[];
    };
  }
}

// ---- heartbeat: proves the main thread stays responsive while the worker computes
window.__ticks = 0;
window.__maxGap = 0;
let lastFrame = performance.now();
function beat(now: number): void {
  window.__ticks++;
  window.__maxGap = Math.max(window.__maxGap, now - lastFrame);
  lastFrame = now;
  requestAnimationFrame(beat);
}
requestAnimationFrame(beat);

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};

const state: Window["__hdfe"] = { model: null, placebo: null, data: null, busy: false, progressEvents: 0, bench: [] };
window.__hdfe = state;
let lastSpec: ModelSpec | null = null;

const client = new EngineClient();
client.ready.then(
  () => {
    $("engine-status").textContent = "Engine ready";
    $("engine-status").classList.add("ok");
  },
  (e) => showError(e),
);

// ---- errors and busy state
function showError(e: unknown): void {
  const box = $("error");
  const err = e instanceof Error ? e : new Error(String(e));
  const hint = err instanceof HdfeError && err.hint ? `\n${err.hint}` : "";
  box.textContent = `${err.name === "Error" ? "" : err.name + ": "}${err.message}${hint}`;
  box.hidden = false;
}

function clearError(): void {
  $("error").hidden = true;
  $("error").textContent = "";
}

async function busy<T>(button: HTMLButtonElement, label: string, work: () => Promise<T>): Promise<T | undefined> {
  const old = button.textContent;
  button.disabled = true;
  button.textContent = label;
  button.setAttribute("aria-busy", "true");
  state.busy = true;
  document.body.classList.add("busy");
  clearError();
  try {
    return await work();
  } catch (e) {
    showError(e);
    return undefined;
  } finally {
    button.disabled = false;
    button.textContent = old;
    button.removeAttribute("aria-busy");
    state.busy = false;
    document.body.classList.remove("busy");
  }
}

// ---- column pickers
function options(sel: HTMLSelectElement, names: string[], keep: string | undefined, none?: string): void {
  const cur = keep ?? sel.value;
  sel.replaceChildren();
  if (none !== undefined) sel.append(new Option(none, ""));
  for (const n of names) sel.append(new Option(n, n));
  if (cur && names.includes(cur)) sel.value = cur;
}

// ticked names per group, in the order they were ticked (the first FE is fixest's default cluster)
const ticked = new Map<string, string[]>();

function checks(box: HTMLElement, group: string, names: string[], on: string[]): void {
  box.replaceChildren();
  ticked.set(group, on.filter((n) => names.includes(n)));
  for (const n of names) {
    const id = `${group}-${n.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    const input = document.createElement("input");
    input.type = "checkbox";
    input.value = n;
    input.id = id;
    input.name = group;
    input.checked = on.includes(n);
    input.addEventListener("change", () => {
      const list = (ticked.get(group) ?? []).filter((x) => x !== n);
      if (input.checked) list.push(n);
      ticked.set(group, list);
    });
    const label = document.createElement("label");
    label.htmlFor = id;
    label.className = "check";
    label.append(input, document.createTextNode(n));
    box.append(label);
  }
  box.dataset.group = group;
}

function checked(box: HTMLElement): string[] {
  const on = new Set(Array.from(box.querySelectorAll<HTMLInputElement>("input[type=checkbox]:checked"), (i) => i.value));
  return (ticked.get(box.dataset.group ?? "") ?? []).filter((n) => on.has(n));
}

function populate(info: DatasetInfo, fresh: boolean): void {
  state.data = info;
  const all = info.columns.map((c) => c.name);
  const numeric = info.columns.filter((c) => c.kind === "numeric").map((c) => c.name);
  const s = info.suggest;
  const pick = (cur: string[], sug?: string[]) => (fresh ? (sug ?? []) : cur).filter((n) => all.includes(n));
  const fe = pick(checked($("fixef")), s.fixef);
  const ctl = pick(checked($("controls-list")), s.controls);
  const cl = pick(checked($("cluster")), s.cluster);
  // no suggestion: an empty choice first, so that nothing is estimated until the user picks
  options($("outcome"), numeric, fresh ? (s.outcome ?? "") : undefined, fresh && !s.outcome ? "(choose the outcome)" : undefined);
  options($("treatment"), numeric, fresh ? (s.treatment ?? "") : (s.treatment ?? undefined), fresh && !s.treatment ? "(choose the treatment)" : undefined);
  options($("instrument"), numeric, fresh ? "" : undefined, "(none: OLS)");
  options($("first-treat"), numeric, fresh ? s.firstTreat : undefined, "(none)");
  options($("year"), numeric, fresh ? s.year : undefined, "(none)");
  // the placebo reassigns adoption years across units: default to the unit, never the time column
  options($("placebo-unit"), all, fresh ? (s.cluster?.[0] ?? s.fixef?.find((n) => n !== s.year) ?? all.find((n) => n !== s.year)) : undefined);
  checks($("fixef"), "fixef", all, fe);
  checks($("controls-list"), "controls", numeric, ctl);
  checks($("cluster"), "cluster", all, cl);
  if (fresh && s.vcov) ($("vcov") as HTMLSelectElement).value = s.vcov;
  for (const id of ["timing-set", "model-set"]) ($(id) as HTMLFieldSetElement).disabled = false;
  const fmt = info.format === "simulated" ? "simulated" : info.format.toUpperCase();
  $("data-status").textContent = `${info.source}: ${info.nrows.toLocaleString("en-US")} rows × ${info.columns.length} columns (${fmt})`;
  refresh();
}

function spec(): ModelSpec {
  const v = (id: string) => ($(id) as HTMLSelectElement).value;
  const ft = v("first-treat"), yr = v("year");
  return {
    outcome: v("outcome"),
    treatment: v("treatment"),
    instrument: v("instrument") || undefined,
    controls: checked($("controls-list")),
    fixef: checked($("fixef")),
    vcov: v("vcov") as ModelSpec["vcov"],
    cluster: checked($("cluster")),
    estimator: (v("estimator") || "feols") as ModelSpec["estimator"],
    timing: ft && yr ? { firstTreat: ft, year: yr } : undefined,
  };
}

function refresh(): void {
  const s = spec();
  const ok = Boolean(s.outcome && s.treatment);
  const vc = vcovOf(s);
  $("formula").textContent = ok ? `${formulaOf(s)}${vc ? `, vcov = ${vc}` : ""}` : "–";
  $("cluster-group").toggleAttribute("hidden", s.vcov !== "cluster");
  ($("derive-did") as HTMLButtonElement).disabled = !s.timing;
  ($("placebo-set") as HTMLFieldSetElement).disabled = !(state.model && s.timing);
}

$("controls").addEventListener("change", refresh);

// ---- data
$("file").addEventListener("change", async () => {
  const input = $("file") as HTMLInputElement;
  const file = input.files?.[0];
  if (!file) return;
  $("data-status").textContent = `Reading ${file.name}…`;
  const info = await busy($("simulate") as HTMLButtonElement, "Use the synthetic panel", async () => {
    const bytes = await file.arrayBuffer();
    return client.request("load", { name: file.name, bytes }, { transfer: [bytes] });
  });
  // results of the previous data never stay on screen, whether or not the new file loaded
  resetResults();
  if (info) populate(info, true);
  else $("data-status").textContent = "No data loaded.";
});

$("simulate").addEventListener("click", async () => {
  const seed = Number(($("sim-seed") as HTMLInputElement).value) || 20250101;
  $("data-status").textContent = "Simulating the panel…";
  const info = await busy($("simulate") as HTMLButtonElement, "Simulating…", () => client.request("simulate", { seed }));
  if (info) {
    ($("file") as HTMLInputElement).value = "";
    resetResults();
    populate(info, true);
  }
});

$("derive-did").addEventListener("click", async () => {
  const s = spec();
  if (!s.timing) return;
  const info = await busy($("derive-did") as HTMLButtonElement, "Adding…", () =>
    client.request("derive-did", { firstTreat: s.timing!.firstTreat, year: s.timing!.year, name: "treat_post" }),
  );
  if (info) populate(info, false);
});

// ---- estimate
function resetResults(): void {
  state.model = null;
  state.placebo = null;
  $("results").hidden = true;
  $("results-empty").hidden = false;
  $("placebo-figure").hidden = true;
  $("download-draws").hidden = true;
  ($("placebo-progress") as HTMLProgressElement).value = 0;
  $("placebo-status").textContent = "";
}

$("controls").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const s = spec();
  if (!s.outcome || !s.treatment) return showError(new Error("choose an outcome and a treatment"));
  const res = await busy($("run") as HTMLButtonElement, "Estimating…", () => client.request("fit", { spec: s }));
  if (!res) return;
  lastSpec = s;
  state.model = res;
  state.placebo = null;
  renderModel(res);
  $("placebo-figure").hidden = true;
  $("download-draws").hidden = true;
  $("placebo-status").textContent = "";
  refresh();
});

function renderModel(res: ModelResult): void {
  const table = regressionTable(res);
  $("table-wrap").innerHTML = tableHtml(table);
  $("summary").textContent = res.summary;
  const fig = eventFigure(res);
  $("event-figure").hidden = !fig && !(res.event && "error" in res.event);
  if (fig) {
    $("event-plot").innerHTML = renderFigure(fig);
    $("event-caption").textContent = `Coefficients on i(rel) with ${Math.round(res.fit.level * 100)}% confidence intervals; the period before adoption (−1) is the reference.`;
  } else if (res.event && "error" in res.event) {
    $("event-plot").replaceChildren();
    $("event-caption").textContent = `Event study not estimated: ${res.event.error}`;
  }
  $("results").hidden = false;
  $("results-empty").hidden = true;
}

// ---- placebo
$("run-placebo").addEventListener("click", async () => {
  const s = lastSpec ?? spec();
  const draws = Math.floor(Number(($("draws") as HTMLInputElement).value));
  const seed = Math.floor(Number(($("placebo-seed") as HTMLInputElement).value));
  const unit = ($("placebo-unit") as HTMLSelectElement).value;
  const bar = $("placebo-progress") as HTMLProgressElement;
  bar.value = 0;
  state.progressEvents = 0;
  const t0 = performance.now();
  const res = await busy($("run-placebo") as HTMLButtonElement, "Running…", () =>
    client.request("placebo", { spec: { ...s, timing: spec().timing ?? s.timing }, placebo: { draws, seed, unit } }, {
      onProgress: (done, total, what) => {
        const draws = what === "placebo draws";
        // setup (basis columns) fills the first fifth of the bar, draws the rest
        bar.value = draws ? 0.2 + 0.8 * (done / total) : 0.2 * (done / total);
        $("placebo-status").textContent = draws
          ? `${done.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} draws`
          : `Preparing (${what})…`;
        state.progressEvents++;
      },
    }),
  );
  if (!res) {
    bar.value = 0;
    $("placebo-status").textContent = "The placebo did not run (see the message above).";
    return;
  }
  state.placebo = res;
  bar.value = 1;
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  $("placebo-status").textContent =
    `${res.draws.length.toLocaleString("en-US")} draws in ${secs} s; two-sided p = ${res.p.twoSided.toFixed(4)}` +
    (res.warnings.length ? `. ${res.warnings.join(" ")}` : "");
  const fig = placeboFigure(res);
  $("placebo-plot").innerHTML = renderFigure(fig);
  $("placebo-caption").textContent =
    `In-space placebo: ${res.method}. The orange line is the estimate. p-values (share of ${res.valid.toLocaleString("en-US")} draws): ` +
    `two-sided |b*| ≥ |b| ${res.p.twoSided.toFixed(4)}, left b* ≤ b ${res.p.left.toFixed(4)}, right b* ≥ b ${res.p.right.toFixed(4)}.`;
  $("placebo-figure").hidden = false;
  $("download-draws").hidden = false;
});

// ---- downloads
function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

$("download-json").addEventListener("click", () => {
  const m = state.model;
  if (!m) return;
  const ev = m.event && !("error" in m.event) ? m.event : null;
  const out = {
    data: state.data ? { source: state.data.source, rows: state.data.nrows } : null,
    model: m.fit,
    event_study: ev ? { ...ev.fit, points: ev.points } : null,
    placebo: state.placebo
      ? {
          coef: state.placebo.coef, estimate: state.placebo.estimate, seed: state.placebo.seed, p: state.placebo.p,
          valid: state.placebo.valid, units: state.placebo.units, cohorts: state.placebo.cohorts, method: state.placebo.method,
          warnings: state.placebo.warnings, draws: state.placebo.draws,
        }
      : null,
  };
  download("hdfe-results.json", "application/json", JSON.stringify(out, null, 2));
});

$("download-csv").addEventListener("click", () => {
  const m = state.model;
  if (m) download("hdfe-results.csv", "text/csv", renderTable(regressionTable(m), "csv"));
});

$("download-draws").addEventListener("click", () => {
  const p = state.placebo;
  if (!p) return;
  const lines = ["draw,coefficient", ...p.draws.map((d, i) => `${i},${d ?? ""}`)];
  download("hdfe-placebo-draws.csv", "text/csv", lines.join("\n") + "\n");
});

$("download-tex").addEventListener("click", () => {
  const m = state.model;
  if (!m) return;
  download("hdfe-results.tex", "application/x-tex", renderTable(regressionTable(m), "latex"));
});

// ---- embedding docs: the snippet shown is the one in embed-example.html (which the e2e test runs)
const snippet = /<!-- hdfe:embed -->\n([\s\S]*?)\n\s*<!-- \/hdfe:embed -->/.exec(embedSource)?.[1] ?? embedSource;
const indent = Math.min(...snippet.split("\n").filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
$("embed-code").textContent = snippet.split("\n").map((l) => l.slice(indent)).join("\n");

// ---- benchmark (the `hdfe bench` case, run in the worker)
function benchSecs(s: number | null): string {
  return s === null ? "–" : s < 0.1 ? s.toFixed(4) : s.toFixed(2);
}

function benchRow(r: BenchResult): HTMLTableRowElement {
  const tr = document.createElement("tr");
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  const cells: [string, string][] = [
    ["rows", r.rows.toLocaleString("en-US")],
    ["fe", String(r.fe)],
    ["storage", r.storage ?? "f64"],
    ["runs", `${r.repetitions}${r.warmup ? ` (+${r.warmup} warm-up)` : ""}`],
    ["seconds", benchSecs(r.seconds)],
    ["rows-per-second", Math.round(r.rowsPerSecond).toLocaleString("en-US")],
    ["map", String(r.mapIterations)],
    ["cg", String(r.cgIterations)],
    ["wasm-memory", mib(r.wasmMemoryBytes)],
    ["wasm-peak", mib(r.wasmPeakBytes)],
    ["fixest", benchSecs(r.fixestPublished)],
    ["ratio", r.fixestPublished ? (r.seconds / r.fixestPublished).toFixed(2) : "–"],
    ["coef-treat", r.coefTreat.toPrecision(8)],
  ];
  for (const [k, v] of cells) {
    const td = document.createElement("td");
    td.dataset.col = k;
    td.textContent = v;
    tr.append(td);
  }
  tr.className = "bench-result";
  // exact values for scripts and tests (String(x) round-trips the double)
  tr.dataset.rows = String(r.rows);
  tr.dataset.fe = String(r.fe);
  tr.dataset.storage = r.storage ?? "f64";
  tr.dataset.seconds = String(r.seconds);
  tr.dataset.coefTreat = String(r.coefTreat);
  tr.title = `${r.formula}, vcov = cluster:firm; runs (s): ${r.times.map((t) => t.toFixed(4)).join(", ")}; panel generated in ${r.genSeconds.toFixed(2)} s`;
  return tr;
}

$("bench-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const rows = Math.floor(Number(($("bench-rows") as HTMLInputElement).value));
  const fe = Number(($("bench-fe") as HTMLSelectElement).value) as 2 | 3;
  const repetitions = Math.floor(Number(($("bench-reps") as HTMLInputElement).value));
  const warmup = ($("bench-warmup") as HTMLInputElement).checked ? 1 : 0;
  const storage = ($("bench-f32") as HTMLInputElement).checked ? ("f32" as const) : ("f64" as const);
  const bar = $("bench-progress") as HTMLProgressElement;
  const status = $("bench-status");
  bar.value = 0;
  status.textContent = "Starting…";
  const t0 = performance.now();
  const res = await busy($("bench-run") as HTMLButtonElement, "Running…", () =>
    client.request("bench", { bench: { rows, fe, repetitions, warmup, storage } }, {
      onProgress: (done, total, what) => {
        state.progressEvents++;
        bar.max = Math.max(total, 1);
        bar.value = done;
        status.textContent = `${what}… (${((performance.now() - t0) / 1000).toFixed(1)} s)`;
      },
    }),
  );
  if (!res) {
    status.textContent = "Benchmark failed (see the message above).";
    return;
  }
  state.bench.push(res);
  $("bench-body").append(benchRow(res));
  $("bench-wrap").hidden = false;
  status.textContent =
    `${res.rows.toLocaleString("en-US")} rows, ${res.fe} FE${res.storage === "f32" ? ", float32" : ""}: ${benchSecs(res.seconds)} s median of ${res.repetitions}` +
    (res.fixestPublished ? `, ${(res.seconds / res.fixestPublished).toFixed(2)}× fixest's published time` : "") +
    ` (panel generated in ${res.genSeconds.toFixed(2)} s).`;
});
