// hdfe feols --engine clickhouse --url http://HOST:PORT --table DB.T: the out-of-core fit on a
// ClickHouse server or cluster (bindings/sql/ over bindings/sql/clickhouse.ts). Nothing is
// read into this process but the small results of the pushed-down queries; progress (passes,
// sweeps) goes to stderr; --timeout is ClickHouse's max_execution_time for every query.
import { nodeFetch } from "../bindings/platform/http-node.js";
import { OptionError } from "../bindings/base/errors.js";
import { feolsSql } from "../bindings/sql/feols-sql.js";
import { ClickHouseBackend } from "../bindings/sql/clickhouse.js";
import type { Fit } from "../bindings/estimators/feols.js";
import { outOfCoreFormat, sqlFitOptions, type SqlFitFlags } from "./sql-fit.js";

export interface ClickhouseFlags extends Omit<SqlFitFlags, "data"> {
  data?: string;
  url?: string;
  timeout?: string;
  compress?: boolean;
  float32?: boolean;
}

/** --data is required by every engine but ClickHouse (the data is on the server); --url and --timeout are ClickHouse's. */
export function requireData(flags: { data?: string; url?: string; timeout?: string }, command = "feols"): void {
  if (flags.url !== undefined || flags.timeout !== undefined) throw new OptionError("--url and --timeout apply to --engine clickhouse only", undefined, "add --engine clickhouse (with --table DB.TABLE), or leave them out");
  if (flags.data === undefined) {
    throw new OptionError("required option '--data <file>' not specified", { commander: "commander.missingMandatoryOptionValue" }, `hdfe ${command} --help lists the options`);
  }
}

/** The options that ClickHouse needs and those it does not take, checked before any work. */
export function clickhouseOptions(flags: Omit<ClickhouseFlags, "formula">): { url: string; table: string; timeoutSec: number } {
  if (!flags.url) throw new OptionError("--engine clickhouse needs --url (the HTTP interface of a server, e.g. http://127.0.0.1:8123)");
  if (!flags.table) throw new OptionError("--engine clickhouse needs --table DB.TABLE (a Distributed table for a cluster)");
  if (!/^[^.\s]+\.[^.\s]+$/.test(flags.table)) throw new OptionError(`--table must be DB.TABLE with --engine clickhouse, got ${JSON.stringify(flags.table).slice(0, 80)}`);
  if (flags.data !== undefined) throw new OptionError("--data is not read with --engine clickhouse: the data is the table on the server (--table)");
  outOfCoreFormat(flags, "clickhouse");
  if (flags.compress || flags.float32) throw new OptionError("--compress and --float32 are in-memory options: --engine clickhouse computes the exact fit out of core");
  const timeoutSec = flags.timeout === undefined ? 0 : Number(flags.timeout);
  if (!Number.isInteger(timeoutSec) || timeoutSec < 0 || timeoutSec > 86_400) {
    throw new OptionError(`--timeout must be whole seconds from 0 (no limit) to 86400, got ${JSON.stringify(flags.timeout).slice(0, 40)}`);
  }
  return { url: flags.url, table: flags.table, timeoutSec };
}

/** Fit out of core on ClickHouse. */
export async function fitClickhouse(flags: ClickhouseFlags): Promise<Fit> {
  return feolsSql(openClickhouse(flags), flags.formula, sqlFitOptions(flags));
}

/** The ClickHouse backend of --url and --table (options checked by clickhouseOptions). */
export function openClickhouse(flags: Omit<ClickhouseFlags, "formula">): ClickHouseBackend {
  const o = clickhouseOptions(flags);
  const progress = (m: string) => process.stderr.write(`clickhouse: ${m.replace(/^clickhouse: /, "")}\n`);
  // node:http rather than the global fetch, whose 300 s header timeout cuts long passes
  return new ClickHouseBackend({ ...o, progress, fetch: nodeFetch });
}
