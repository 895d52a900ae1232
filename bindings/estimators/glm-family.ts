// GLM families of fepois / feglm: inverse link, its derivative, variance, deviance and
// log-likelihood, as R's stats families (poisson(), binomial("logit"), binomial("probit"))
// define them, including their clamps (binomial: mu in [eps, 1 - eps]; probit: eta within
// +-qnorm(eps), dnorm(eta) at least eps). The one-pass working weights and response of an
// IRLS step over n rows are bindings/ref/glm.ts (the reference of the kernel).
import { lgamma, pnorm } from "../base/stats.js";

export type FamilyName = "poisson" | "logit" | "probit";

export interface Family {
  name: FamilyName;
  /** fixest's label: "Poisson", "Logit", "Probit" */
  label: string;
  link: "log" | "logit" | "probit";
  linkinv(eta: number): number;
  /** d mu / d eta */
  muEta(eta: number): number;
  variance(mu: number): number;
  /** deviance contribution of one row with prior weight w (R's dev.resids) */
  devResid(y: number, mu: number, w: number): number;
  /** log-likelihood contribution of one row with prior weight w */
  loglik(y: number, mu: number, w: number): number;
  /** IRLS starting mean of a row (R's mustart) */
  start(y: number, w: number, meanY: number): number;
  /** family code of the working-values kernel (assembly/glm.ts) */
  code: number;
}

const EPS = 2.220446049250313e-16;
/** -qnorm(.Machine$double.eps): R's probit linkinv clamp */
const PROBIT_THRESH = 8.125890664701906;
const LOG_2PI_HALF = 0.9189385332046728;

/** y log(y / mu), 0 at y = 0 (R's y_log_y) */
function ylogy(y: number, mu: number): number {
  return y > 0 ? y * Math.log(y / mu) : 0;
}

function binomialDev(y: number, mu: number, w: number): number {
  return 2 * w * (ylogy(y, mu) + ylogy(1 - y, 1 - mu));
}

/**
 * The binomial log-likelihood of a fit as fixest computes it: R's binomial()$aic / -2, so with
 * prior weights w the row is a binomial draw of round(w y) successes in round(w) trials (R's
 * round: halves to even, so a weight of 0.5 makes a row of 0 trials that adds 0).
 */
function binomialLoglik(y: number, mu: number, w: number): number {
  const m = roundHalfEven(w);
  if (!(w > 0) || m === 0) return 0;
  const k = roundHalfEven(w * y);
  const lchoose = m === 1 ? 0 : lgamma(m + 1) - lgamma(k + 1) - lgamma(m - k + 1);
  return lchoose + (k > 0 ? k * Math.log(mu) : 0) + (m - k > 0 ? (m - k) * Math.log(1 - mu) : 0);
}

/** R's round(x): to the nearest integer, halves to the even one. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** log(y!) = lgamma(y + 1), from a table (filled on first use, the same values) for integer y < 4096: counts */
export function lfactorial(y: number): number {
  if (y >= 0 && y < LFACT_MAX && Number.isInteger(y)) {
    const t = (LFACT ??= Float64Array.from({ length: LFACT_MAX }, (_, i) => lgamma(i + 1)));
    return t[y];
  }
  return lgamma(y + 1);
}
const LFACT_MAX = 4096;
let LFACT: Float64Array | null = null;

const clampMu = (mu: number) => (mu < EPS ? EPS : mu > 1 - EPS ? 1 - EPS : mu);

const poisson: Family = {
  name: "poisson", label: "Poisson", link: "log", code: 0,
  linkinv: (eta) => Math.max(Math.exp(eta), EPS),
  muEta: (eta) => Math.max(Math.exp(eta), EPS),
  variance: (mu) => mu,
  devResid: (y, mu, w) => 2 * w * (ylogy(y, mu) - (y - mu)),
  loglik: (y, mu, w) => w * (y * Math.log(mu) - mu - lfactorial(y)),
  start: (y) => y + 0.1,
};

const logit: Family = {
  name: "logit", label: "Logit", link: "logit", code: 1,
  linkinv: (eta) => clampMu(1 / (1 + Math.exp(-eta))),
  muEta: (eta) => {
    const e = Math.exp(-Math.abs(eta));
    return Math.max(e / ((1 + e) * (1 + e)), EPS);
  },
  variance: (mu) => mu * (1 - mu),
  devResid: binomialDev,
  loglik: binomialLoglik,
  start: (y, w) => (w * y + 0.5) / (w + 1),
};

const probit: Family = {
  name: "probit", label: "Probit", link: "probit", code: 2,
  linkinv: (eta) => pnorm(Math.min(Math.max(eta, -PROBIT_THRESH), PROBIT_THRESH)),
  muEta: (eta) => Math.max(Math.exp(-0.5 * eta * eta - LOG_2PI_HALF), EPS),
  variance: (mu) => mu * (1 - mu),
  devResid: binomialDev,
  loglik: binomialLoglik,
  start: (y, w) => (w * y + 0.5) / (w + 1),
};

export const FAMILIES: Record<FamilyName, Family> = { poisson, logit, probit };

/** The link of the family at mu (starting values). */
export function linkfun(f: Family, mu: number): number {
  if (f.link === "log") return Math.log(mu);
  if (f.link === "logit") return Math.log(mu / (1 - mu));
  return probitLink(mu);
}

function probitLink(p: number): number {
  // Newton on pnorm from a logistic guess: starting values only need to be sensible
  let x = Math.log(p / (1 - p)) / 1.6;
  for (let i = 0; i < 50; i++) {
    const d = (pnorm(x) - p) / Math.exp(-0.5 * x * x - LOG_2PI_HALF);
    x -= d;
    if (Math.abs(d) < 1e-14) break;
  }
  return x;
}
