#!/usr/bin/env node
// hdfe command line: registers the commands in cli/commands/ and maps errors to exit codes.
import { Command } from "commander";
import { formatError, exitCodeOf } from "./errors.js";
import { register as feols } from "./commands/feols.js";
import { register as suite } from "./commands/suite.js";
import { register as simulate } from "./commands/simulate.js";
import { register as psm } from "./commands/psm.js";
import { register as event } from "./commands/event.js";
import { register as placebo } from "./commands/placebo.js";
import { register as bench } from "./commands/bench.js";

const program = new Command();
program
  .name("hdfe")
  .description("Fixed-effects regression and difference-in-differences, WebAssembly core")
  .option("--verbose", "print stack traces on errors")
  .showHelpAfterError();

for (const reg of [suite, feols, event, placebo, psm, simulate, bench]) reg(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(formatError(err, program.opts().verbose === true) + "\n");
  process.exit(exitCodeOf(err));
});
