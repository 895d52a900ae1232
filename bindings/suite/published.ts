// The paper's published numbers (Wang, Sun & Zhou 2025, HSSC, doi:10.1057/s41599-025-05409-3),
// as restated in ../shared/docs/paper-suite.md, shown beside every rerun.

export const PAPER = {
  citation: "Wang, Sun & Zhou (2025), The impact of cross-border e-commerce comprehensive pilot zone on corporate financial constraints in China, Humanities and Social Sciences Communications, doi:10.1057/s41599-025-05409-3",
  table2: {
    N: 14791,
    rows: {
      FC: [0.227, 3.947, 0, 307.5],
      Export: [0.681, 3.694, -0.186, 102.1],
      Digitalisation: [5.867, 15.88, 0, 318],
      Agg: [2.3, 4.145, 0.001, 15.82],
      Zone: [0.834, 0.372, 0, 1],
      Post: [0.297, 0.457, 0, 1],
      Fin: [3.797, 1.6, 0.58, 13.53],
      Eco: [2.411, 0.776, -0.123, 3.921],
      Top1: [34.83, 15.32, 2.87, 89.99],
      Quick: [1.773, 3.295, 0.04, 179.6],
      Liability: [0.452, 0.203, 0.007, 1.957],
      Q: [1.936, 1.439, 0.674, 31.4],
      PE: [107.4, 3463.6, 0, 420284.6],
    } as Record<string, [number, number, number, number]>,
  },
  table3: [
    { estimate: 0.251, se: 0.115, n: 14791, r2: 0.01 },
    { estimate: 0.272, se: 0.128, n: 14791, r2: 0.015 },
    { estimate: 0.256, se: 0.114, n: 14745, r2: 0.245 },
    { estimate: 0.259, se: 0.113, n: 14745, r2: 0.245 },
  ],
  table4: [
    { outcome: "SA", estimate: -0.005, se: 0.00265 },
    { outcome: "ln Govsub", estimate: 0.11, se: 0.032 },
    { outcome: "ln Shortloan", estimate: 0.317, se: 0.118 },
    { outcome: "ln Longloan", estimate: 0.381, se: 0.201 },
    { outcome: "ln Totalloan", estimate: 0.0631, se: 0.0267 },
  ],
  table5: [0.251, 0.269, 0.337, 0.195, 0.194],
  table6: {
    lead1: { estimate: 0.101, se: 0.089 },
    lead2: { estimate: 0.168, se: 0.104 },
    psm: { estimate: 0.267, se: 0.127 },
    confounders: { estimate: 0.244, se: 0.128, smart: { estimate: -0.038, se: 0.055 }, innov: { estimate: 0.183, se: 0.072 } },
  },
  table7: { estimate: 0.259, pTwoSided: 0.09, pLeft: 0.984, pRight: 0.016, draws: 500 },
  table8: { east: { estimate: 0.315, se: 0.166 }, central: { estimate: 0.0153 }, west: { estimate: 0.0038 } } as Record<string, { estimate: number; se?: number }>,
  table9: [
    { outcome: "Export", estimate: 0.16, se: 0.077 },
    { outcome: "Digitalisation", estimate: 1.918, se: 0.298 },
    { outcome: "Agg", estimate: 0.026, se: 0.008 },
  ],
};
