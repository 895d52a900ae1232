// Out-of-core feols in DuckDB against in-memory feols and R fixest: the fast part of the
// matrix (the cases and their tolerances: tests/sql-duckdb-cases.ts, tests/sql-duckdb-setup.ts).
import { setupFiles } from "./sql-duckdb-setup.js";
import { defineCases } from "./sql-duckdb-cases.js";

setupFiles();
defineCases("fast");
