// Out-of-core feols in DuckDB against in-memory feols and R fixest: the rest of the matrix
// (heavy: npm run test:large; the cases: tests/sql-duckdb-cases.ts).
import { setupFiles } from "./sql-duckdb-setup.js";
import { defineCases } from "./sql-duckdb-cases.js";

setupFiles();
defineCases("large");
