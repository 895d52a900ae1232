// Deterministic generator of a synthetic firm-year panel shaped like the study
// (Wang, Sun & Zhou 2025: cross-border e-commerce pilot zones and firms' financial
// constraints; see shared/docs/paper-suite.md). Column names and codings are those of
// shared/reference/cbec_panel.csv, so one roles mapping serves both panels.
//
// Same seed => same panel, byte for byte, in Node and in browsers: all randomness comes
// from bindings/base/rng.ts (xoshiro128** streams, bit-exact dlog/dexp). Every firm draws from
// its own stream `root.fork(2).fork(firm)`, the cities from `root.fork(1)`, so the rows of
// a firm do not depend on how the firms are chunked.
//
// ---------------------------------------------------------------------------------------
// PLANTED TRUTH (also returned as `truth`, with the realised averages of this draw)
//
// FC_it = a_i + a_city + g_t + s_ct + tau_it + 0.15 * innov_post
//         - 0.20 (Liability - 0.45) + 0.03 (Q - 2) + 0.01 (Quick - 1.7) + 0.04 (Eco - 2.4)
//         + e_it
//   a_i     firm level: lognormal(-3.5, 1.0); 1.1% of firms are outliers with an extra level
//           lognormal(1.8, 1.4) (tens to a few hundred): the heavy tail of Table 2 sits in
//           levels, which the firm fixed effects absorb.
//   a_city  city level N(0, 0.05) + 0.03 if the city is ever a pilot in 2011-2020
//           (pilot firms are less constrained to start with: pooled OLS would be biased).
//   g_t     year effects rising from -0.10 (2011) to +0.10 (2020) (correlated with Post).
//   s_ct    city-year shocks N(0, 0.03).
//   e_it    AR(1) firm noise, rho 0.3, sd 0.55, plus with probability 1% a positive spike
//           lognormal(-0.5, 0.8) (moderate time-varying outliers).
//   tau_it  the treatment effect, 0 before adoption and in never-pilot cities; from the
//           adoption year a on: tau_it = PATH[min(t - a, 5)] * m_region * m_export * m_hightech
//             PATH (event years 0..5) = 0.22, 0.26, 0.32, 0.40, 0.15, 0.05
//               (rises to a peak in event year 3, faded by year 5)
//             m_region   east 1.25, central 0.45, west 0.35   (region of the current city)
//             m_export   non-exporter 1.15, exporter 0.85
//             m_hightech high-tech 1.20, other 0.85
//           The realised average over treated firm-years (truth.fc.att) is about 0.25.
//           Why this path and not 0.10, 0.20, 0.30, 0.40, 0.25, 0.10: with this adoption
//           calendar (the 2016 and 2018 batches carry most treated rows, every pilot is
//           treated by 2020) the static two-way FE estimator weights event years 0..5 by
//           about 0.55, 0.36, 0.14, 0.02, -0.05, -0.01 against treated-row shares of 0.31,
//           0.25, 0.21, 0.11, 0.11, 0.01 (Goodman-Bacon). On the steeper path it returns
//           about 0.75 x ATT, outside its own 95% CI; on the path above the two agree, so
//           the baseline DiD recovers the planted ATT while the event study still shows
//           the hump.
//   Smart-city policy: no effect. Innovative-city policy: +0.15 from its year on.
//   Controls are drawn independently of treatment (no bad controls); PE has no effect.
// Mechanisms and other outcomes (static effects from the adoption year on):
//   Export +0.16, Digitalisation +1.9 (added to the Poisson mean), nlisted x 1.04 in a
//   pilot city from its adoption year (Agg of a pilot city rises about 4%; truth.aggAtt
//   is the realised own-lift effect on Agg), Size +0.014 (=> SA about -0.005),
//   lnGovsub +0.110, lnShortloan +0.317, lnLongloan +0.381, lnTotalloan +0.0631.
// ---------------------------------------------------------------------------------------
//
// Why one long file: the world (cities, firms, policies), the per-firm draws and the chunked
// output are one generator whose streams must stay in step.

import { Rng, dexp, dlog, sigmoid } from "../base/rng.js";
import { OptionError } from "../base/errors.js";
import { checkOption } from "../base/options.js";

export const YEAR_MIN = 2011;
export const YEAR_MAX = 2020;
const NY = YEAR_MAX - YEAR_MIN + 1;

export const DEFAULT_SEED = 20250101;
export const DEFAULT_FIRMS = 1900;

export type SimColumn = Float64Array | string[];
export type SimColumns = Record<string, SimColumn>;

export interface SimOptions {
  /** Integer seed, |seed| <= 2^53. Default 20250101. */
  seed?: number;
  /** Number of firms (ids 1..firms). Default 1900 (about 14,800 firm-years). */
  firms?: number;
}

/** Column order of the panel (and of its CSV). */
export const SIM_COLUMNS: readonly string[] = [
  "firm", "year", "city", "province", "region", "tier", "adopt", "adopt_sa", "zone", "post", "did", "rel",
  "smart_post", "innov_post", "export_type", "hightech", "polluting",
  "FC", "Export", "Digitalisation", "Agg", "SA", "Fin", "Eco", "Top1", "Quick", "Liability", "Q", "PE",
  "Size", "Age", "ROE", "Urban", "Income", "Fiscal", "lnGovsub", "lnShortloan", "lnLongloan", "lnTotalloan",
  "area", "nlisted",
];
/** The columns holding strings; every other column is a Float64Array. */
export const SIM_STRING_COLUMNS: readonly string[] = ["region", "tier"];

/** The city table; city-year arrays are indexed [cityIndex * 10 + (year - 2011)], cityIndex = city - 1. */
export interface CityTable {
  n: number;
  years: number[];
  city: Float64Array;
  name: string[];
  province: Float64Array;
  region: string[];
  tier: string[];
  /** km^2 */
  area: Float64Array;
  /** city level of Fin ((deposits + loans) / GDP) */
  fin: Float64Array;
  /** pilot-zone batch 1..7 (public batch list), 0 = never a pilot */
  batch: Float64Array;
  /** approval "YYYY-MM" of the batch, "" if never */
  approved: string[];
  /** first treated year (approval year) if inside 2011-2020, else NaN */
  adopt: Float64Array;
  /** smart-city pilot year, NaN if none */
  smart: Float64Array;
  /** innovative-city pilot year, NaN if none */
  innov: Float64Array;
  /** share of firms located in the city (sums to 1) */
  weight: Float64Array;
  /** city-year: listed firms in the city (input of Agg) */
  nlisted: Float64Array;
  /** city-year: Agg by eq. (2) over all cities */
  Agg: Float64Array;
  Fin: Float64Array;
  Eco: Float64Array;
  Urban: Float64Array;
  Income: Float64Array;
  Fiscal: Float64Array;
}

export interface PlantedTruth {
  seed: number;
  firms: number;
  nrows: number;
  fc: {
    /** effect by event year 0..5 before the heterogeneity multipliers */
    path: number[];
    regionMultiplier: { east: number; central: number; west: number };
    exportMultiplier: { nonExporter: number; exporter: number };
    hightechMultiplier: { hightech: number; other: number };
    /** realised average effect over treated firm-years (did == 1): the planted ATT */
    att: number;
    /** realised average effect over treated firm-years by region */
    attByRegion: { east: number; central: number; west: number };
    /** realised average effect by event year 0..5 */
    attByEventYear: number[];
    /** treated firm-years */
    treatedRows: number;
    innovEffect: number;
    smartEffect: number;
  };
  export: number;
  digitalisation: number;
  /** relative lift of nlisted in a pilot city from adoption */
  nlistedLift: number;
  /**
   * realised average over treated firm-years of the city's own lift in Agg:
   * (nlisted - nlisted without the lift) / area / that year's eq. (2) denominator.
   * (The lift also raises the denominator, lowering every other city's Agg a little.)
   */
  aggAtt: number;
  size: number;
  lnGovsub: number;
  lnShortloan: number;
  lnLongloan: number;
  lnTotalloan: number;
}

export interface SimPanel {
  columns: SimColumns;
  nrows: number;
  cities: CityTable;
  truth: PlantedTruth;
}

/** What simulateChunks returns after the last chunk. */
export interface SimSummary {
  nrows: number;
  cities: CityTable;
  truth: PlantedTruth;
}

// ---------------------------------------------------------------------------------------
// Constants of the design

const PATH = [0.22, 0.26, 0.32, 0.4, 0.15, 0.05];
const REGION_MULT: Record<string, number> = { east: 1.25, central: 0.45, west: 0.35 };
const EXPORT_MULT = [1.15, 0.85]; // [non-exporter, exporter]
const HIGHTECH_MULT = [0.85, 1.2]; // [other, high-tech]
const INNOV_EFFECT = 0.15;
const EFF_EXPORT = 0.16;
const EFF_DIGIT = 1.9;
const NLISTED_LIFT = 0.04;
const EFF_SIZE = 0.014;
const EFF_GOVSUB = 0.11;
const EFF_SHORT = 0.317;
const EFF_LONG = 0.381;
const EFF_TOTAL = 0.0631;
const YEAR_FE = [-0.1, -0.08, -0.06, -0.03, -0.01, 0.01, 0.03, 0.05, 0.07, 0.1];

// Provinces (GB order) and the three belts: 11 east, 8 central, 12 west.
const PROVINCES: [string, string][] = [
  ["Beijing", "east"], ["Tianjin", "east"], ["Hebei", "east"], ["Shanxi", "central"],
  ["Inner Mongolia", "west"], ["Liaoning", "east"], ["Jilin", "central"], ["Heilongjiang", "central"],
  ["Shanghai", "east"], ["Jiangsu", "east"], ["Zhejiang", "east"], ["Anhui", "central"],
  ["Fujian", "east"], ["Jiangxi", "central"], ["Shandong", "east"], ["Henan", "central"],
  ["Hubei", "central"], ["Hunan", "central"], ["Guangdong", "east"], ["Guangxi", "west"],
  ["Hainan", "east"], ["Chongqing", "west"], ["Sichuan", "west"], ["Guizhou", "west"],
  ["Yunnan", "west"], ["Tibet", "west"], ["Shaanxi", "west"], ["Gansu", "west"],
  ["Qinghai", "west"], ["Ningxia", "west"], ["Xinjiang", "west"],
];
const MUNICIPALITY_PROVINCES = new Set([1, 2, 9, 22]);

const BATCHES: { approved: string; count: number }[] = [
  { approved: "", count: 0 },
  { approved: "2015-03", count: 1 },
  { approved: "2016-01", count: 12 },
  { approved: "2018-07", count: 22 },
  { approved: "2019-12", count: 24 },
  { approved: "2020-04", count: 46 },
  { approved: "2022-01", count: 27 },
  { approved: "2022-11", count: 33 },
];
const N_CITIES = 240;

// The pilot cities named in paper-suite.md: [name, province id, batch]. The other 25 cities
// of batch 5 and the 60 of the 2022 batches get generic names.
const NAMED: [string, number, number][] = [
  ["Hangzhou", 11, 1],
  ["Tianjin", 2, 2], ["Shanghai", 9, 2], ["Chongqing", 22, 2], ["Hefei", 12, 2], ["Zhengzhou", 16, 2],
  ["Guangzhou", 19, 2], ["Chengdu", 23, 2], ["Dalian", 6, 2], ["Ningbo", 11, 2], ["Qingdao", 15, 2],
  ["Shenzhen", 19, 2], ["Suzhou", 10, 2],
  ["Beijing", 1, 3], ["Hohhot", 5, 3], ["Shenyang", 6, 3], ["Changchun", 7, 3], ["Harbin", 8, 3],
  ["Nanjing", 10, 3], ["Nanchang", 14, 3], ["Wuhan", 17, 3], ["Changsha", 18, 3], ["Nanning", 20, 3],
  ["Haikou", 21, 3], ["Guiyang", 24, 3], ["Kunming", 25, 3], ["Xi'an", 27, 3], ["Lanzhou", 28, 3],
  ["Xiamen", 13, 3], ["Tangshan", 3, 3], ["Wuxi", 10, 3], ["Weihai", 15, 3], ["Zhuhai", 19, 3],
  ["Dongguan", 19, 3], ["Yiwu", 11, 3],
  ["Shijiazhuang", 3, 4], ["Taiyuan", 4, 4], ["Chifeng", 5, 4], ["Fushun", 6, 4], ["Hunchun", 7, 4],
  ["Suifenhe", 8, 4], ["Xuzhou", 10, 4], ["Nantong", 10, 4], ["Wenzhou", 11, 4], ["Shaoxing", 11, 4],
  ["Wuhu", 12, 4], ["Fuzhou", 13, 4], ["Quanzhou", 13, 4], ["Ganzhou", 14, 4], ["Jinan", 15, 4],
  ["Yantai", 15, 4], ["Luoyang", 16, 4], ["Huangshi", 17, 4], ["Yueyang", 18, 4], ["Shantou", 19, 4],
  ["Foshan", 19, 4], ["Luzhou", 23, 4], ["Haidong", 29, 4], ["Yinchuan", 30, 4],
  ["Xiong'an", 3, 5], ["Datong", 4, 5], ["Manzhouli", 5, 5], ["Yingkou", 6, 5], ["Changzhou", 10, 5],
  ["Lianyungang", 10, 5], ["Huai'an", 10, 5], ["Yancheng", 10, 5], ["Huzhou", 11, 5], ["Jiaxing", 11, 5],
  ["Taizhou", 11, 5], ["Zhangzhou", 13, 5], ["Weifang", 15, 5], ["Linyi", 15, 5], ["Yichang", 17, 5],
  ["Huizhou", 19, 5], ["Zhongshan", 19, 5], ["Jiangmen", 19, 5], ["Sanya", 21, 5], ["Mianyang", 23, 5],
  ["Urumqi", 31, 5],
];
const MUNICIPALITIES = new Set(["Beijing", "Tianjin", "Shanghai", "Chongqing"]);
const SUBPROVINCIAL = new Set([
  "Harbin", "Changchun", "Shenyang", "Dalian", "Jinan", "Qingdao", "Nanjing", "Hangzhou", "Ningbo",
  "Xiamen", "Wuhan", "Guangzhou", "Shenzhen", "Chengdu", "Xi'an",
]);
const MEGA = new Set(["Beijing", "Shanghai", "Shenzhen"]);
const SMALL = new Set(["Yiwu", "Hunchun", "Suifenhe", "Manzhouli", "Xiong'an", "Haidong"]);

/** Share of firms in the cities of each batch group (index = batch, 0 = never). */
const GROUP_SHARE = [0.07, 0.035, 0.25, 0.262, 0.115, 0.173, 0.05, 0.045];

// First listed year (entry) distribution 2011..2020 and exit probability.
const ENTRY = [0.356, 0.228, 0.143, 0.119, 0.063, 0.034, 0.017, 0.016, 0.007, 0.017];
const EXIT_PROB = 0.12;
const MOVE_PROB = 0.021;
const NLISTED_TOTAL = [2340, 2490, 2490, 2610, 2830, 3050, 3480, 3580, 3760, 4150];

// ---------------------------------------------------------------------------------------

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];
function round(x: number, digits: number): number {
  const f = POW10[digits];
  return Math.round(x * f) / f;
}

function checkOptions(opts: SimOptions): { seed: number; firms: number } {
  // the option schema shared with the CLI (bindings/base/options.ts)
  const seed = opts.seed === undefined ? DEFAULT_SEED : checkOption("seed", opts.seed);
  const firms = opts.firms === undefined ? DEFAULT_FIRMS : checkOption("firms", opts.firms);
  return { seed, firms };
}

/** The 240 cities, their policies and city-year series (deterministic in the seed). */
export function simulateCities(seed: number = DEFAULT_SEED): CityTable {
  return buildWorld(seed).C;
}

/** City table plus the city-level parts of the design that are not published as columns. */
interface World {
  C: CityTable;
  /** city-year effect of the city's own nlisted lift on its Agg (for the truth) */
  aggOwn: Float64Array;
  /** city FC level and city-year FC shocks */
  fcLevel: Float64Array;
  fcShock: Float64Array;
}

type CityProto = { name: string; province: number; batch: number };

/** The named cities plus generic ones filling batches 5-7 and the never-pilot group, shuffled. */
function cityProtos(rng: Rng): CityProto[] {
  const protos: CityProto[] = NAMED.map(([name, province, batch]) => ({ name, province, batch }));
  const ordinary: number[] = [];
  for (let p = 1; p <= PROVINCES.length; p++) if (!MUNICIPALITY_PROVINCES.has(p)) ordinary.push(p);
  const namedPerBatch = new Array(8).fill(0);
  for (const p of protos) namedPerBatch[p.batch]++;
  let generic = 0;
  const addGeneric = (batch: number): void => {
    generic++;
    // Tibet and every other ordinary province get a share; cycle first so none is empty
    const province = generic <= ordinary.length ? ordinary[generic - 1] : ordinary[rng.int(ordinary.length)];
    protos.push({ name: "", province, batch });
  };
  for (let b = 5; b <= 7; b++) for (let k = namedPerBatch[b]; k < BATCHES[b].count; k++) addGeneric(b);
  while (protos.length < N_CITIES) addGeneric(0);
  rng.shuffle(protos);
  return protos;
}

function emptyCityTable(n: number): CityTable {
  return {
    n,
    years: Array.from({ length: NY }, (_, i) => YEAR_MIN + i),
    city: new Float64Array(n),
    name: [],
    province: new Float64Array(n),
    region: [],
    tier: [],
    area: new Float64Array(n),
    fin: new Float64Array(n),
    batch: new Float64Array(n),
    approved: [],
    adopt: new Float64Array(n),
    smart: new Float64Array(n),
    innov: new Float64Array(n),
    weight: new Float64Array(n),
    nlisted: new Float64Array(n * NY),
    Agg: new Float64Array(n * NY),
    Fin: new Float64Array(n * NY),
    Eco: new Float64Array(n * NY),
    Urban: new Float64Array(n * NY),
    Income: new Float64Array(n * NY),
    Fiscal: new Float64Array(n * NY),
  };
}

/** Names, provinces, tiers, batches, adoption years and weights (within batch groups). */
function fillCityIdentity(T: CityTable, protos: CityProto[], rng: Rng): void {
  const n = T.n;
  const raw = new Float64Array(n);
  const groupSum = new Float64Array(8);
  for (let c = 0; c < n; c++) {
    const p = protos[c];
    T.city[c] = c + 1;
    T.name.push(p.name || `City${String(c + 1).padStart(3, "0")}`);
    T.province[c] = p.province;
    T.region.push(PROVINCES[p.province - 1][1]);
    const tier = MUNICIPALITIES.has(p.name) ? "municipality" : SUBPROVINCIAL.has(p.name) ? "subprovincial" : "prefecture";
    T.tier.push(tier);
    T.batch[c] = p.batch;
    T.approved.push(BATCHES[p.batch].approved);
    const y = p.batch >= 1 && p.batch <= 5 ? Number(BATCHES[p.batch].approved.slice(0, 4)) : NaN;
    T.adopt[c] = y;
    let f = tier === "municipality" ? 2.5 : tier === "subprovincial" ? 2 : 1;
    if (MEGA.has(p.name)) f *= 2;
    if (SMALL.has(p.name)) f *= 0.3;
    raw[c] = f * rng.lognormal(0, 0.5);
    groupSum[p.batch] += raw[c];
  }
  for (let c = 0; c < n; c++) T.weight[c] = (GROUP_SHARE[T.batch[c]] * raw[c]) / groupSum[T.batch[c]];
}

/** Area, finance, policies and the city-year covariates; nlisted provisional (real-valued). */
function fillCityCovariates(T: CityTable, protos: CityProto[], rng: Rng): void {
  const n = T.n;
  // standardised log weight: bigger cities are richer, denser, more financial
  let mlw = 0;
  for (let c = 0; c < n; c++) mlw += dlog(T.weight[c]) / n;
  let vlw = 0;
  for (let c = 0; c < n; c++) vlw += (dlog(T.weight[c]) - mlw) ** 2 / n;
  const slw = Math.sqrt(vlw);
  const lev = new Float64Array(n); // log-level deviation of listed firms
  const areaRef = 12000;
  for (let c = 0; c < n; c++) {
    const zw = (dlog(T.weight[c]) - mlw) / slw;
    const region = T.region[c];
    const west = region === "west" ? 1 : 0;
    const east = region === "east" ? 1 : 0;
    // area: grows less than proportionally with size -> denser big cities
    T.area[c] = Math.max(300, Math.round(areaRef * dexp(0.3 * zw + 0.35 * west + 0.4 * rng.normal())));
    if (SMALL.has(protos[c].name)) T.area[c] = Math.round(T.area[c] * 0.15);
    T.fin[c] = dexp(1.0 + 0.18 * zw + 0.32 * rng.normal());
    const eco = 1.75 + 0.45 * east + 0.12 * (region === "central" ? 1 : 0) + 0.25 * zw + 0.55 * rng.normal();
    const urb = 0.35 + 0.45 * zw + 0.3 * east + 0.4 * rng.normal();
    const inc = 9.95 + 0.25 * east + 0.12 * zw + 0.12 * rng.normal();
    const fis = 0.1 + 0.07 * west + 0.05 * rng.exponential();
    lev[c] = 0.15 * rng.normal();
    // policies: smart city 2012-2015 for ~40%, innovative city for ~25% (years 2011-2019)
    T.smart[c] = rng.bernoulli(0.3 + 0.15 * (zw > 0 ? 1 : 0)) ? 2012 + rng.int(4) : NaN;
    T.innov[c] = rng.bernoulli(0.18 + 0.12 * (zw > 0.5 ? 1 : 0)) ? 2011 + rng.int(9) : NaN;
    let walk = 0;
    for (let t = 0; t < NY; t++) {
      const k = c * NY + t;
      walk += 0.01 * rng.normal();
      T.Fin[k] = round(T.fin[c] * dexp(0.015 * (t - 4) + 0.05 * rng.normal()), 4);
      T.Eco[k] = round(eco + 0.065 * (t - 4) + 0.02 * rng.normal(), 4);
      T.Urban[k] = round(Math.min(0.995, sigmoid(urb + 0.04 * (t - 4) + 0.02 * rng.normal())), 4);
      T.Income[k] = round(inc + 0.08 * (t - 4) + 0.01 * rng.normal(), 4);
      T.Fiscal[k] = round(fis * dexp(0.03 * rng.normal()), 4);
      const base = T.weight[c] * NLISTED_TOTAL[t] * dexp(lev[c] + walk);
      T.nlisted[k] = base; // provisional (real-valued), lifted and rounded below
    }
  }
}

/** nlisted rounded, >= 1, lifted by NLISTED_LIFT in a pilot city from its adoption year; Agg; the own-lift effect on Agg. */
function liftNlisted(T: CityTable): Float64Array {
  const n = T.n;
  const base = T.nlisted.slice();
  for (let c = 0; c < n; c++) {
    for (let t = 0; t < NY; t++) T.nlisted[c * NY + t] = Math.max(1, Math.round(base[c * NY + t]));
  }
  const n0 = T.nlisted.slice();
  for (let c = 0; c < n; c++) {
    for (let t = 0; t < NY; t++) {
      const post = T.adopt[c] <= YEAR_MIN + t ? 1 : 0;
      T.nlisted[c * NY + t] = Math.max(1, Math.round(base[c * NY + t] * (1 + NLISTED_LIFT * post)));
    }
  }
  const avg = computeAgg(T);
  // own-lift effect on Agg: (n - n without the lift) / S / the year's actual denominator
  const aggOwn = new Float64Array(n * NY);
  for (let c = 0; c < n; c++) {
    for (let t = 0; t < NY; t++) {
      const k = c * NY + t;
      aggOwn[k] = (T.nlisted[k] - n0[k]) / T.area[c] / avg[t];
    }
  }
  return aggOwn;
}

function buildWorld(seed: number): World {
  const rng = new Rng(seed).fork(1);
  const protos = cityProtos(rng);
  const T = emptyCityTable(protos.length);
  fillCityIdentity(T, protos, rng);
  fillCityCovariates(T, protos, rng);
  const aggOwn = liftNlisted(T);
  // city FC level and city-year shocks (own stream)
  const rf = new Rng(seed).fork(3);
  const fcLevel = new Float64Array(T.n);
  const fcShock = new Float64Array(T.n * NY);
  for (let c = 0; c < T.n; c++) {
    fcLevel[c] = 0.05 * rf.normal() + (T.adopt[c] === T.adopt[c] ? 0.03 : 0);
    for (let t = 0; t < NY; t++) fcShock[c * NY + t] = 0.03 * rf.normal();
  }
  return { C: T, aggOwn, fcLevel, fcShock };
}

/** Agg_ct = (n_ct / S_c) / (sum_j n_jt / sum_j S_j), eq. (2) of paper-suite.md. */
function computeAgg(T: CityTable): Float64Array {
  let sumS = 0;
  for (let c = 0; c < T.n; c++) sumS += T.area[c];
  const avgs = new Float64Array(NY);
  for (let t = 0; t < NY; t++) {
    let sumN = 0;
    for (let c = 0; c < T.n; c++) sumN += T.nlisted[c * NY + t];
    const avg = sumN / sumS;
    avgs[t] = avg;
    for (let c = 0; c < T.n; c++) T.Agg[c * NY + t] = T.nlisted[c * NY + t] / T.area[c] / avg;
  }
  return avgs;
}

// ---------------------------------------------------------------------------------------

class ChunkBuilder {
  readonly num: Record<string, Float64Array> = {};
  readonly str: Record<string, string[]> = {};
  len = 0;
  constructor(capacity: number) {
    for (const name of SIM_COLUMNS) {
      if (SIM_STRING_COLUMNS.includes(name)) this.str[name] = [];
      else this.num[name] = new Float64Array(capacity);
    }
  }
  finish(): SimColumns {
    const out: SimColumns = {};
    for (const name of SIM_COLUMNS) {
      out[name] = SIM_STRING_COLUMNS.includes(name) ? this.str[name] : this.num[name].slice(0, this.len);
    }
    return out;
  }
}

interface Acc {
  nrows: number;
  treated: number;
  sumTau: number;
  regionSum: Record<string, number>;
  regionN: Record<string, number>;
  eventSum: number[];
  eventN: number[];
  aggDiff: number;
}

/** Entry, exit and location of one firm. */
interface FirmLife {
  first: number;
  last: number;
  city0: number;
  city1: number;
  moveYear: number;
}

function firmLife(rng: Rng, cumW: Float64Array): FirmLife {
  // entry / exit
  let u = rng.uniform();
  let first = YEAR_MIN;
  for (let t = 0; t < NY; t++) {
    u -= ENTRY[t];
    if (u < 0 || t === NY - 1) {
      first = YEAR_MIN + t;
      break;
    }
  }
  let last = YEAR_MAX;
  if (first < YEAR_MAX && rng.bernoulli(EXIT_PROB)) last = first + rng.int(YEAR_MAX - first);
  // location and a possible move
  const city0 = rng.pickCumulative(cumW);
  let city1 = city0;
  let moveYear = Infinity;
  if (last > first && rng.bernoulli(MOVE_PROB)) {
    moveYear = first + 1 + rng.int(last - first);
    while (city1 === city0) city1 = rng.pickCumulative(cumW);
  }
  return { first, last, city0, city1, moveYear };
}

/** Time-invariant attributes and levels of one firm (drawn in this order). */
function firmTraits(rng: Rng, first: number) {
  const exporter = rng.bernoulli(0.5) ? 1 : 0;
  const hightech = rng.bernoulli(0.46) ? 1 : 0;
  const polluting = rng.bernoulli(hightech ? 0.15 : 0.42) ? 1 : 0;
  const founded = Math.min(first - 2, 1986 + rng.int(23));
  // FC level: lognormal body, 1.2% outlier firms far in the tail
  let aFC = rng.lognormal(-3.5, 1.0);
  if (rng.bernoulli(0.011)) aFC += rng.lognormal(1.8, 1.4);
  const expLevel = exporter ? rng.lognormal(-1.35, 1.6) : rng.lognormal(-4.5, 1.0);
  const digLevel = rng.lognormal(-0.15, 1.3);
  const top1Level = -0.66 + 0.72 * rng.normal();
  let quickLevel = rng.lognormal(0.25, 0.55);
  if (rng.bernoulli(0.01)) quickLevel += rng.paretoTrunc(3, 1.5, 120);
  let levLevel = sigmoid(-0.22 + 0.95 * rng.normal());
  if (rng.bernoulli(0.004)) levLevel *= 1.3 + rng.uniform();
  const qLevel = -0.1 + 0.7 * rng.normal();
  const peLevel = 3.3 + 0.6 * rng.normal();
  const sizeLevel = 12.1 + 1.15 * rng.normal();
  const roeLevel = 0.065 + 0.05 * rng.normal();
  const govLevel = 15.6 + 1.4 * rng.normal();
  const shortLevel = 19.2 + 1.6 * rng.normal();
  const longLevel = 18.4 + 2.0 * rng.normal();
  const totalLevel = 20.1 + 1.5 * rng.normal();
  return {
    exporter, hightech, polluting, founded, aFC, expLevel, digLevel, top1Level, quickLevel, levLevel, qLevel,
    peLevel, sizeLevel, roeLevel, govLevel, shortLevel, longLevel, totalLevel,
  };
}

type FirmTraits = ReturnType<typeof firmTraits>;

/** The treatment effect of a firm-year (0 before adoption), recorded in the truth accumulator. */
function firmYearTau(W: World, f: FirmTraits, c: number, year: number, acc: Acc): number {
  const C = W.C;
  const adopt = C.adopt[c];
  if (!(adopt === adopt && year >= adopt)) return 0;
  const region = C.region[c];
  const e = Math.min(year - adopt, PATH.length - 1);
  const tau = PATH[e] * REGION_MULT[region] * EXPORT_MULT[f.exporter] * HIGHTECH_MULT[f.hightech];
  acc.treated++;
  acc.sumTau += tau;
  acc.regionSum[region] += tau;
  acc.regionN[region]++;
  acc.eventSum[e] += tau;
  acc.eventN[e]++;
  acc.aggDiff += W.aggOwn[c * NY + (year - YEAR_MIN)];
  return tau;
}

/** One firm-year's controls and outcomes (drawn in this order); eps is the AR(1) state, updated. */
function firmYearDraws(rng: Rng, W: World, f: FirmTraits, c: number, year: number, post: number, tau: number, state: { eps: number }) {
  const C = W.C;
  const t = year - YEAR_MIN;
  const k = c * NY + t;
  const innovPost = C.innov[c] <= year ? 1 : 0;
  // controls (independent of treatment)
  const top1 = round(100 * sigmoid(f.top1Level + 0.08 * rng.normal()), 2);
  let quick = round(f.quickLevel * dexp(0.25 * rng.normal()), 4);
  if (rng.bernoulli(0.002)) quick = round(Math.min(200, quick * (1 + rng.paretoTrunc(1, 1.3, 60))), 4);
  const liab = round(Math.max(0.007, f.levLevel + 0.05 * rng.normal()), 4);
  const q = round(0.674 + dexp(f.qLevel + 0.12 * (t === 4 ? 1 : 0) + 0.35 * rng.normal()), 4);
  let pe: number;
  const ru = rng.uniform();
  if (ru < 0.04) pe = 0; // loss-making
  else if (ru < 0.065) pe = round(80 * rng.paretoTrunc(1, 0.85, 6000), 2); // earnings near zero
  else pe = round(dexp(f.peLevel + 0.3 * (t === 4 ? 1 : 0) + 0.35 * rng.normal()), 2);
  const size = round(f.sizeLevel + 0.065 * t + EFF_SIZE * post + 0.04 * rng.normal(), 4);
  const roe = round(f.roeLevel + 0.05 * rng.normal() - (rng.bernoulli(0.03) ? 0.4 * rng.uniform() : 0), 4);
  // outcome
  state.eps = 0.3 * state.eps + Math.sqrt(1 - 0.09) * 0.55 * rng.normal();
  const spike = rng.bernoulli(0.01) ? rng.lognormal(-0.5, 0.8) : 0;
  const fc =
    f.aFC + W.fcLevel[c] + YEAR_FE[t] + W.fcShock[k] + tau + INNOV_EFFECT * innovPost -
    0.2 * (liab - 0.45) + 0.03 * (q - 2) + 0.01 * (quick - 1.7) + 0.04 * (C.Eco[k] - 2.4) + state.eps + spike;
  const exportV = f.expLevel * (1 + 0.03 * t) + EFF_EXPORT * post + 0.04 * rng.normal();
  const dig = rng.poisson(f.digLevel * dexp(0.17 * t) + EFF_DIGIT * post);
  const gov = f.govLevel + 0.05 * t + EFF_GOVSUB * post + 0.7 * rng.normal();
  const shortL = f.shortLevel + 0.02 * t + EFF_SHORT * post + 0.9 * rng.normal();
  const longL = f.longLevel + 0.03 * t + EFF_LONG * post + 1.2 * rng.normal();
  const totalL = f.totalLevel + 0.04 * t + EFF_TOTAL * post + 0.45 * rng.normal();
  const missQuick = rng.bernoulli(0.0017);
  const missPE = rng.bernoulli(0.0013);
  return { top1, quick: missQuick ? NaN : quick, liab, q, pe: missPE ? NaN : pe, size, roe, fc, exportV, dig, gov, shortL, longL, totalL };
}

/** Append one firm-year row to the builder. */
function writeFirmYear(
  B: ChunkBuilder, W: World, firm: number, f: FirmTraits, c: number, year: number, post: number,
  d: ReturnType<typeof firmYearDraws>,
): void {
  const C = W.C;
  const k = c * NY + (year - YEAR_MIN);
  const adopt = C.adopt[c];
  const zone = adopt === adopt ? 1 : 0;
  const age = year - f.founded;
  const i = B.len++;
  const N = B.num;
  N.firm[i] = firm;
  N.year[i] = year;
  N.city[i] = c + 1;
  N.province[i] = C.province[c];
  B.str.region.push(C.region[c]);
  B.str.tier.push(C.tier[c]);
  N.adopt[i] = adopt;
  N.adopt_sa[i] = zone ? adopt : 10000;
  N.zone[i] = zone;
  N.post[i] = post;
  N.did[i] = zone * post;
  N.rel[i] = zone ? year - adopt : -1000;
  N.smart_post[i] = C.smart[c] <= year ? 1 : 0;
  N.innov_post[i] = C.innov[c] <= year ? 1 : 0;
  N.export_type[i] = f.exporter;
  N.hightech[i] = f.hightech;
  N.polluting[i] = f.polluting;
  N.FC[i] = round(d.fc, 6);
  N.Export[i] = round(d.exportV, 6);
  N.Digitalisation[i] = d.dig;
  N.Agg[i] = C.Agg[k];
  N.SA[i] = Math.abs(-0.737 * d.size + 0.043 * d.size * d.size - 0.04 * age);
  N.Fin[i] = C.Fin[k];
  N.Eco[i] = C.Eco[k];
  N.Top1[i] = d.top1;
  N.Quick[i] = d.quick;
  N.Liability[i] = d.liab;
  N.Q[i] = d.q;
  N.PE[i] = d.pe;
  N.Size[i] = d.size;
  N.Age[i] = age;
  N.ROE[i] = d.roe;
  N.Urban[i] = C.Urban[k];
  N.Income[i] = C.Income[k];
  N.Fiscal[i] = C.Fiscal[k];
  N.lnGovsub[i] = round(d.gov, 4);
  N.lnShortloan[i] = round(d.shortL, 4);
  N.lnLongloan[i] = round(d.longL, 4);
  N.lnTotalloan[i] = round(d.totalL, 4);
  N.area[i] = C.area[c];
  N.nlisted[i] = C.nlisted[k];
}

/** Generate the rows of one firm into the builder. */
function simulateFirm(firm: number, rng: Rng, W: World, cumW: Float64Array, B: ChunkBuilder, acc: Acc): void {
  const life = firmLife(rng, cumW);
  const f = firmTraits(rng, life.first);
  const state = { eps: 0.55 * rng.normal() };
  for (let year = life.first; year <= life.last; year++) {
    const c = year >= life.moveYear ? life.city1 : life.city0;
    const adopt = W.C.adopt[c];
    const post = adopt === adopt && year >= adopt ? 1 : 0;
    const tau = firmYearTau(W, f, c, year, acc);
    const d = firmYearDraws(rng, W, f, c, year, post, tau, state);
    writeFirmYear(B, W, firm, f, c, year, post, d);
    acc.nrows++;
  }
}

/**
 * Stream the panel in chunks of `chunkFirms` firms (firm order, years ascending within a
 * firm). Only one chunk is held at a time; the rows are identical to simulatePanel's.
 * Returns the row count, the city table and the planted truth after the last chunk.
 */
export function simulateChunks(opts: SimOptions, onChunk: (cols: SimColumns) => void, chunkFirms = 5000): SimSummary {
  const { seed, firms } = checkOptions(opts);
  checkOption("firms", chunkFirms, "chunkFirms");
  const W = buildWorld(seed);
  const C = W.C;
  const cumW = new Float64Array(C.n);
  let s = 0;
  for (let c = 0; c < C.n; c++) cumW[c] = s += C.weight[c];
  const firmRoot = new Rng(seed).fork(2);
  const acc: Acc = {
    nrows: 0,
    treated: 0,
    sumTau: 0,
    regionSum: { east: 0, central: 0, west: 0 },
    regionN: { east: 0, central: 0, west: 0 },
    eventSum: new Array(PATH.length).fill(0),
    eventN: new Array(PATH.length).fill(0),
    aggDiff: 0,
  };
  for (let f0 = 1; f0 <= firms; f0 += chunkFirms) {
    const f1 = Math.min(firms, f0 + chunkFirms - 1);
    const B = new ChunkBuilder((f1 - f0 + 1) * NY);
    for (let f = f0; f <= f1; f++) simulateFirm(f, firmRoot.fork(f), W, cumW, B, acc);
    onChunk(B.finish());
  }
  const div = (a: number, b: number): number => (b > 0 ? a / b : NaN);
  const truth: PlantedTruth = {
    seed,
    firms,
    nrows: acc.nrows,
    fc: {
      path: PATH.slice(),
      regionMultiplier: { east: REGION_MULT.east, central: REGION_MULT.central, west: REGION_MULT.west },
      exportMultiplier: { nonExporter: EXPORT_MULT[0], exporter: EXPORT_MULT[1] },
      hightechMultiplier: { hightech: HIGHTECH_MULT[1], other: HIGHTECH_MULT[0] },
      att: div(acc.sumTau, acc.treated),
      attByRegion: {
        east: div(acc.regionSum.east, acc.regionN.east),
        central: div(acc.regionSum.central, acc.regionN.central),
        west: div(acc.regionSum.west, acc.regionN.west),
      },
      attByEventYear: acc.eventSum.map((v, e) => div(v, acc.eventN[e])),
      treatedRows: acc.treated,
      innovEffect: INNOV_EFFECT,
      smartEffect: 0,
    },
    export: EFF_EXPORT,
    digitalisation: EFF_DIGIT,
    nlistedLift: NLISTED_LIFT,
    aggAtt: div(acc.aggDiff, acc.treated),
    size: EFF_SIZE,
    lnGovsub: EFF_GOVSUB,
    lnShortloan: EFF_SHORT,
    lnLongloan: EFF_LONG,
    lnTotalloan: EFF_TOTAL,
  };
  return { nrows: acc.nrows, cities: C, truth };
}

/** The whole panel in memory: the concatenation of simulateChunks' chunks. */
export function simulatePanel(opts: SimOptions = {}): SimPanel {
  const parts: SimColumns[] = [];
  const firms = opts.firms ?? DEFAULT_FIRMS;
  const summary = simulateChunks(opts, (cols) => parts.push(cols), Math.max(1, Math.min(firms, 1e6)));
  return { columns: concatColumns(parts), nrows: summary.nrows, cities: summary.cities, truth: summary.truth };
}

/** Concatenate chunks column by column. */
export function concatColumns(parts: SimColumns[]): SimColumns {
  if (parts.length === 1) return parts[0];
  const out: SimColumns = {};
  for (const name of SIM_COLUMNS) {
    if (SIM_STRING_COLUMNS.includes(name)) {
      const arr: string[] = [];
      for (const p of parts) for (const v of p[name] as string[]) arr.push(v);
      out[name] = arr;
    } else {
      let len = 0;
      for (const p of parts) len += p[name].length;
      const arr = new Float64Array(len);
      let off = 0;
      for (const p of parts) {
        arr.set(p[name] as Float64Array, off);
        off += p[name].length;
      }
      out[name] = arr;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// CSV

/** Fixed number formatting: integers as is, others to 10 significant digits (shortest form), NaN as "". */
export function formatNumber(x: number): string {
  if (x !== x) return "";
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return String(x === 0 ? 0 : x);
  return String(Number(x.toPrecision(10)));
}

/** The CSV header line (quoted names, like R's write.csv), with the trailing newline. */
export function csvHeader(): string {
  return SIM_COLUMNS.map((c) => `"${c}"`).join(",") + "\n";
}

/** CSV lines for a chunk of columns (no header); strings quoted, NaN as empty. */
export function csvRows(cols: SimColumns): string {
  const names = SIM_COLUMNS;
  const n = cols.firm.length;
  const lines: string[] = new Array(n);
  const colArr = names.map((nm) => cols[nm]);
  const isStr = names.map((nm) => SIM_STRING_COLUMNS.includes(nm));
  const cells: string[] = new Array(names.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < names.length; j++) {
      cells[j] = isStr[j] ? `"${(colArr[j] as string[])[i]}"` : formatNumber((colArr[j] as Float64Array)[i]);
    }
    lines[i] = cells.join(",");
  }
  return n > 0 ? lines.join("\n") + "\n" : "";
}

/** The panel as CSV text: stable bytes for a given seed. */
export function panelToCsv(panel: { columns: SimColumns }): string {
  return csvHeader() + csvRows(panel.columns);
}

/** The city table as CSV (the columns of cbec_cities.csv, then name, batch, approved). */
export function citiesToCsv(T: CityTable): string {
  const lines = ['"city","province","region","tier","area","fin","adopt","smart","innov","name","batch","approved"'];
  for (let c = 0; c < T.n; c++) {
    lines.push(
      [
        formatNumber(T.city[c]), formatNumber(T.province[c]), `"${T.region[c]}"`, `"${T.tier[c]}"`,
        formatNumber(T.area[c]), formatNumber(T.fin[c]), formatNumber(T.adopt[c]), formatNumber(T.smart[c]),
        formatNumber(T.innov[c]), `"${T.name[c].replace(/"/g, '""')}"`, formatNumber(T.batch[c]), `"${T.approved[c]}"`,
      ].join(","),
    );
  }
  return lines.join("\n") + "\n";
}
