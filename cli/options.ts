// The CLI side of the one option schema (bindings/base/options.ts, which the library checks
// its arguments with): every option of a command that the schema knows is checked in one
// place (a preAction hook registered by cli/index.ts) before the action runs. A value that is
// not a number, not a whole number or out of range is an OptionError (exit 2) naming the flag,
// its range and the value given (shortened), with the same wording a library caller gets.
import type { Command } from "commander";
import { OptionError } from "../bindings/base/errors.js";
import { OPTIONS, checkValue, clip, type OptionName, type OptionSpec } from "../bindings/base/options.js";

export { checkValue, clip, type OptionSpec };

/**
 * Per-command differences from the library schema (bindings/base/options.ts), by commander
 * attribute name: an attribute maps to the schema entry it feeds.
 */
const BY_COMMAND: Record<string, Record<string, OptionName>> = {
  event: { draws: "csDraws" },
  suite: { draws: "suiteDraws", eventLevel: "level" },
  // fepois / feglm (cli/commands/glm.ts): fixest's GLM removal rules and families
  fepois: { fixefRm: "glmFixefRm" },
  feglm: { fixefRm: "glmFixefRm", family: "glmFamily" },
};

export function optionSpec(command: string, attr: string): OptionSpec | undefined {
  const name = BY_COMMAND[command]?.[attr] ?? attr;
  return Object.hasOwn(OPTIONS, name) ? OPTIONS[name as OptionName] : undefined;
}

/** Validate every option of `cmd` that has a spec (given on the command line or defaulted). */
export function validateOptions(cmd: Command): void {
  const values = cmd.opts() as Record<string, unknown>;
  for (const opt of cmd.options) {
    const attr = opt.attributeName();
    const spec = optionSpec(cmd.name(), attr);
    const value = values[attr];
    if (!spec || typeof value !== "string") continue;
    const why = checkValue(spec, value);
    if (why) {
      const flag = opt.long ?? opt.flags;
      throw new OptionError(`${flag} ${why}, got ${clip(value)}`, { option: flag, value: value.slice(0, 200) }, `hdfe ${cmd.name()} --help describes the options`);
    }
  }
}
