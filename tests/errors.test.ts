// Errors keep their class across a thread boundary: errorToWire -> structuredClone (what
// postMessage does) -> errorFromWire gives an instance of the same class with the same
// message, hint and details, so the CLI's exit code per class survives worker threads.
import { describe, it, expect } from "vitest";
import * as E from "../bindings/base/errors.js";

const cases: E.HdfeError[] = [
  new E.OptionError("bad option", { x: 1 }, "try another"),
  new E.ColumnError("no column", { column: "y" }),
  new E.SampleError("empty"),
  new E.NonConvergenceError("slow"),
  new E.VcovError("one cluster"),
  new E.WasmMemoryError("too big"),
  new E.KernelError("status 3"),
  new E.RolesError("no roles"),
  new E.PanelError("dups"),
  new E.DataReadError("bad file"),
  new E.FormulaSyntaxError("unexpected ')'", "y ~ x)", 5, "remove it"),
];

describe("errors across a thread boundary", () => {
  for (const e of cases) {
    it(`${e.name} keeps its class, message, hint and details`, () => {
      const back = E.errorFromWire(structuredClone(E.errorToWire(e)));
      expect(back).toBeInstanceOf(E.HdfeError);
      expect(back.constructor).toBe(e.constructor);
      expect(back.name).toBe(e.name);
      expect(back.message).toBe(e.message);
      expect((back as E.HdfeError).hint).toBe(e.hint);
      expect((back as E.HdfeError).details).toEqual(e.details);
      expect(back.stack).toBeTypeOf("string");
    });
  }
  it("FormulaSyntaxError keeps its position and formula", () => {
    const back = E.errorFromWire(E.errorToWire(cases[cases.length - 1])) as E.FormulaSyntaxError;
    expect(back.position).toBe(5);
    expect(back.formula).toBe("y ~ x)");
  });
  it("other errors come back as plain Errors with their name", () => {
    const back = E.errorFromWire(E.errorToWire(new TypeError("nope")));
    expect(back).not.toBeInstanceOf(E.HdfeError);
    expect(back.name).toBe("TypeError");
    expect(back.message).toBe("nope");
    expect(E.errorToWire("plain").message).toBe("plain");
  });
});
