// Conley cutoffs as fixest takes them (R/VCOV.R, fixest 0.12.1): in miles ("100mi", converted
// with fixest's factor 1.60934 km per mile) and, when none is given, fixest's rule of thumb
// (cutoff_deduce), recomputed here independently: every pair of distinct locations is
// enumerated by brute force and the rule applied to the sorted lists. The reference Conley
// models of vcov_fixest.json are checked in vcov-hac.test.ts (unchanged).
//
// Tolerances: a cutoff in miles gives the same variance as the equal cutoff in km to the bit
// (the same pairs, the same kernel); the default cutoff equals the rule's value exactly (it is
// rounded to tens of km); SEs of the fit with the default equal those of the fit given that
// cutoff to the bit.
import { describe, it, expect, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { loadEngine } from "../bindings/node.js";
import { readFile } from "../bindings/platform/read-node.js";
import { Frame } from "../bindings/core/frame.js";
import { feols, withVcov, type Fit } from "../bindings/estimators/feols.js";
import { parseVcov } from "../bindings/core/vcov.js";
import { OptionError } from "../bindings/base/errors.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { FIX } from "./reference.js";
import { HDFE_BIN, assertFresh } from "./cli-bin.js";
assertFresh();

const FIXEST_KM_PER_MILE = 1.60934; // fixest: cutoff = as.numeric(...) * 1.60934
const MODEL = "FC ~ did + Fin + Eco | firm + year";

let eng: Engine;
let frame: Frame;
let base: Fit;

beforeAll(async () => {
  eng = await loadEngine();
  frame = Frame.fromArrow((await readFile(new URL("cbec_panel_ext.csv", FIX).pathname)).table);
  base = feols(eng, frame, MODEL, { fixefRm: "none", vcov: "hetero" });
}, 120_000);

/** fixest's cutoff_deduce, written out plainly: haversine (R = 6371 km), nearest of the next 3, medians. */
function ruleOfThumb(lat: number[], lon: number[]): number {
  const locs: [number, number][] = [];
  for (let i = 0; i < lat.length; i++) if (!locs.some(([a, b]) => a === lat[i] && b === lon[i])) locs.push([lat[i], lon[i]]);
  const hav = (p: [number, number], q: [number, number]) => {
    const toRad = (d: number) => (d * Math.PI) / 180;
    const h = Math.sin(toRad(q[0] - p[0]) / 2) ** 2 + Math.cos(toRad(p[0])) * Math.cos(toRad(q[0])) * Math.sin(toRad(q[1] - p[1]) / 2) ** 2;
    return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
  };
  const med = (v: number[]) => {
    const s = v.slice().sort((a, b) => a - b);
    return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const side = (cmp: (a: [number, number], b: [number, number]) => number) => {
    const s = locs.slice().sort(cmp);
    const d: number[] = [];
    for (let i = 0; i + 3 < s.length; i++) d.push(Math.min(hav(s[i], s[i + 1]), hav(s[i], s[i + 2]), hav(s[i], s[i + 3])));
    return med(d);
  };
  const raw = side((a, b) => a[0] - b[0] || a[1] - b[1]) + side((a, b) => a[1] - b[1] || a[0] - b[0]);
  // fixest: m = floor(log10(cutoff)) - 1, at least 1 above 20 km; cutoff %/% 10^m * 10^m
  const m = raw > 20 ? Math.max(1, Math.floor(Math.log10(raw)) - 1) : Math.floor(Math.log10(raw)) - 1;
  return Math.floor(raw / 10 ** m) * 10 ** m;
}

describe("Conley cutoff in miles", () => {
  it("parses fixest's unit suffixes: km by default, mi / miles converted with 1.60934", () => {
    expect(parseVcov("conley:100mi")).toMatchObject({ type: "conley", cutoff: 100 * FIXEST_KM_PER_MILE, unit: "mi" });
    expect(parseVcov('conley("100mi") ~ lat + lon')).toMatchObject({ cutoff: 100 * FIXEST_KM_PER_MILE, lat: "lat", lon: "lon" });
    expect(parseVcov("conley:100 miles:spherical")).toMatchObject({ cutoff: 100 * FIXEST_KM_PER_MILE, distance: "spherical" });
    expect(parseVcov("conley:100km")).toEqual(parseVcov("conley:100"));
    expect(() => parseVcov("conley:100furlongs")).toThrow(OptionError);
  });

  it("a cutoff in miles gives the variance of the same cutoff in km, labelled in miles", () => {
    const mi = withVcov(eng, base, "conley:100mi");
    const km = withVcov(eng, base, `conley:${100 * FIXEST_KM_PER_MILE}`);
    const k100 = withVcov(eng, base, "conley:100");
    expect(mi.vcovLabel).toBe("Conley (100mi)");
    for (const n of base.coefNames) {
      expect(mi.se[n]).toBe(km.se[n]);
      expect(mi.se[n]).not.toBe(k100.se[n]); // 160.9 km selects more pairs than 100 km: the conversion matters
    }
  });
});

describe("Conley default cutoff (none given): fixest's rule of thumb", () => {
  it("equals the rule computed independently, and the fit with that cutoff given", () => {
    const lat = Array.from(frame.numeric("lat")), lon = Array.from(frame.numeric("lon"));
    const expected = ruleOfThumb(lat, lon);
    expect(expected).toBeGreaterThan(0);
    const def = withVcov(eng, base, "conley");
    expect(def.vcovLabel).toBe(`Conley (${expected}km)`);
    const given = withVcov(eng, base, `conley:${expected}`);
    for (const n of base.coefNames) expect(def.se[n]).toBe(given.se[n]);
    expect(parseVcov("conley")).toEqual({ type: "conley", lat: undefined, lon: undefined, distance: undefined });
    expect(withVcov(eng, base, "conley:spherical").vcovLabel).toBe(`Conley (${expected}km)`);
  });

  it("is refused with a named error when there are fewer than 4 locations", () => {
    const idx = Array.from({ length: frame.nrows }, (_, i) => i).filter((i) => frame.numeric("city")[i] <= 3);
    const small = frame.take(idx);
    const cities = new Set(idx.map((i) => `${frame.numeric("lat")[i]},${frame.numeric("lon")[i]}`)).size;
    expect(cities).toBeLessThan(4);
    expect(() => feols(eng, small, "FC ~ did + Fin", { vcov: "conley" })).toThrow(/too few for the default cutoff/);
  });
});

describe("hdfe feols --vcov conley:100mi | conley", () => {
  const ROOT = new URL("..", import.meta.url).pathname;
  const run = (vcov: string) => {
    const r = spawnSync(process.execPath, [HDFE_BIN, "feols", "--data", new URL("cbec_panel_ext.csv", FIX).pathname,
      "-f", MODEL, "--fixef-rm", "none", "--vcov", vcov, "--json"], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { se: Record<string, number>; vcov: string };
  };
  it("prints the library's fit for both", () => {
    const mi = run("conley:100mi");
    const lib = withVcov(eng, base, "conley:100mi");
    expect(mi.vcov).toBe("Conley (100mi)");
    for (const n of base.coefNames) expect(mi.se[n]).toBe(lib.se[n]);
    const def = run("conley");
    expect(def.vcov).toBe(withVcov(eng, base, "conley").vcovLabel);
    for (const n of base.coefNames) expect(def.se[n]).toBe(withVcov(eng, base, "conley").se[n]);
  }, 240_000);
});
