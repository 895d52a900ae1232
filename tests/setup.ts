// Every vitest file starts here. Property tests are deterministic: one fixed fast-check seed
// for all of them (FC_SEED overrides it to explore; fast-check prints the seed and the
// shrunk counterexample of any failure, so a failure can be replayed with FC_SEED=<seed>).
import fc from "fast-check";

export const FC_SEED = process.env.FC_SEED === undefined ? 20250101 : Number(process.env.FC_SEED);
if (!Number.isInteger(FC_SEED)) throw new Error(`FC_SEED must be an integer, got ${process.env.FC_SEED}`);
fc.configureGlobal({ seed: FC_SEED });
