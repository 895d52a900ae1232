#!/usr/bin/env node
// hdfe command line: registers the commands in cli/commands/ and maps errors to exit codes.
import { Command, CommanderError } from "commander";
import { formatError, exitCodeOf, errorJson, fromCommander, isHelpExit } from "./errors.js";
import { validateOptions } from "./options.js";
import { OptionError } from "../bindings/base/errors.js";
import { register as feols } from "./commands/feols.js";
import { register as glm } from "./commands/glm.js";
import { register as suite } from "./commands/suite.js";
import { register as simulate } from "./commands/simulate.js";
import { register as psm } from "./commands/psm.js";
import { register as event } from "./commands/event.js";
import { register as placebo } from "./commands/placebo.js";
import { register as bench } from "./commands/bench.js";
import { register as etable } from "./commands/etable.js";
import { refuseEngine, OUT_OF_CORE } from "./sql-fit.js";

const program = new Command();
program
  .name("hdfe")
  .description("Fixed-effects regression and difference-in-differences, WebAssembly core")
  .option("--verbose", "print stack traces on errors")
  // usage errors are thrown (and printed by the handler below as one line and a hint)
  .exitOverride()
  .configureOutput({ outputError: () => {} });

for (const reg of [suite, feols, etable, glm, event, placebo, psm, simulate, bench]) reg(program);

// which command a usage error came from (for the hint); every command's numeric and
// enumerated options checked against the schema in cli/options.ts before its action
for (const cmd of program.commands) {
  cmd.exitOverride((e) => {
    throw Object.assign(e, { command: cmd.name() });
  });
}
program.hook("preAction", (_program, action) => validateOptions(action));

/** Write every piece, then exit once both streams have taken everything (pipes drain asynchronously). */
function finish(code: number, stderr: string, stdout?: string): void {
  let pending = 1 + (stdout === undefined ? 0 : 1);
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  if (stdout !== undefined) process.stdout.write(stdout, done);
  process.stderr.write(stderr, done);
}

// the out-of-core engines run feols, wild, placebo and event (OUT_OF_CORE; event refuses its methods that need the rows, placebo its options that do): another command given --engine is refused by name
const word = process.argv.slice(2).find((a) => !a.startsWith("-"));
const engineElsewhere = word && !OUT_OF_CORE.includes(word) && program.commands.some((c) => c.name() === word) && process.argv.some((a) => a === "--engine" || a.startsWith("--engine="));
const parsed = engineElsewhere ? Promise.reject(refuseEngine(word)) : process.argv.length > 2 ? program.parseAsync(process.argv) : Promise.reject(
  new OptionError("no command given", undefined, `hdfe --help lists the commands: ${program.commands.map((c) => c.name()).join(", ")}`),
);
parsed.catch((caught: unknown) => {
  if (isHelpExit(caught)) return finish(0, "");
  const err = caught instanceof CommanderError ? fromCommander(caught, (caught as CommanderError & { command?: string }).command) : caught;
  const code = exitCodeOf(err);
  const verbose = process.argv.includes("--verbose");
  const json = process.argv.slice(2).includes("--json");
  finish(code, formatError(err, verbose) + "\n", json ? errorJson(err) + "\n" : undefined);
});
