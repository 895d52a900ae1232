// CPU profile of fepois fits (issue 18): node --cpu-prof --import tsx bench/glm-profile.ts
//   N rows (default 1M), FE=2 (firm + year) or 3 (+ city), REPS fits (default 2)
import { loadEngine } from "../bindings/node.js";
import { feglm } from "../bindings/estimators/glm.js";
import { Frame } from "../bindings/core/frame.js";
import { Rng } from "../bindings/base/rng.js";
import { genPanel } from "./gen.js";
const n = Number(process.env.N ?? 1000000);
const fe = Number(process.env.FE ?? 2);
const reps = Number(process.env.REPS ?? 2);
const eng = await loadEngine();
const X = ["treat", "x1", "x2", "x3"];
const g = genPanel({ rows: n, city: true });
const rng = new Rng(2026);
const y = g.numeric("y");
const c = Float64Array.from(y, (v) => rng.poisson(Math.exp(0.3 * v)));
const frame = Frame.fromColumns({ c, firm: g.numeric("firm"), year: g.numeric("year"), city: g.numeric("city"), ...Object.fromEntries(X.map((x) => [x, g.numeric(x)])) });
const fes = fe === 3 ? "firm + year + city" : "firm + year";
for (let r = 0; r < reps; r++) {
  const t = performance.now();
  const f = feglm(eng, frame, `c ~ treat + x1 + x2 + x3 | ${fes}`, { family: "poisson", vcov: "cluster:firm" });
  console.log(((performance.now() - t) / 1000).toFixed(2), "s", f.coef.treat, f.stats.wpr2, f.iterations, f.demean?.iterations);
}
