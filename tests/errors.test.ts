// Errors keep their class across a thread boundary: errorToWire -> structuredClone (what
// postMessage does) -> errorFromWire gives an instance of the same class with the same
// message, hint and details, so the CLI's exit code per class survives worker threads.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import * as E from "../bindings/base/errors.js";
import { STATUS, STATUS_ERRORS, statusError, check } from "../bindings/engine/kernels.js";
import { createEngine } from "../bindings/engine/wasm.js";
import { exitCodeOf } from "../cli/errors.js";

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
  new E.SingularError("singular"),
  new E.KernelArgumentError("status 3"),
  new E.EmptyGroupError("empty level"),
  new E.SeparationError("separated"),
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

describe("each kernel status has its own error class", () => {
  it("the status table is assembly/status.ts", () => {
    const src = readFileSync(new URL("../assembly/status.ts", import.meta.url), "utf8");
    const codes = Object.fromEntries([...src.matchAll(/export const (\w+): i32 = (\d+);/g)].map((m) => [m[1], Number(m[2])]));
    expect(codes).toEqual(STATUS);
  });
  it("every non-OK status maps to a distinct class with its name as a literal", () => {
    const classes = Object.values(STATUS_ERRORS);
    expect(new Set(classes).size).toBe(Object.keys(STATUS).length - 1);
    for (const [name, code] of Object.entries(STATUS)) {
      if (name === "OK") continue;
      const e = statusError(code, "someKernel");
      expect(e).toBeInstanceOf(STATUS_ERRORS[name as keyof typeof STATUS_ERRORS]);
      expect(e.name).toBe(STATUS_ERRORS[name as keyof typeof STATUS_ERRORS].name);
      expect(e.details).toMatchObject({ kernel: "someKernel", status: code, statusName: name });
      const back = E.errorFromWire(structuredClone(E.errorToWire(e)));
      expect(back.constructor).toBe(e.constructor);
      expect(exitCodeOf(back)).toBe(exitCodeOf(e));
    }
    expect(statusError(99, "k")).toBeInstanceOf(E.KernelError);
  });
  it("the CLI's exit codes: not converged 7, separation a sample problem (6), the others bugs (70)", () => {
    expect(exitCodeOf(statusError(STATUS.NOT_CONVERGED, "k"))).toBe(7);
    expect(exitCodeOf(statusError(STATUS.SEPARATION, "k"))).toBe(6);
    for (const s of [STATUS.SINGULAR, STATUS.BAD_ARGUMENT, STATUS.EMPTY_GROUP]) expect(exitCodeOf(statusError(s, "k"))).toBe(70);
  });
  it("a kernel's BAD_ARGUMENT comes back as KernelArgumentError", async () => {
    const eng = await createEngine(readFileSync(new URL("../build/hdfe.wasm", import.meta.url)));
    const out = eng.allocF64(4);
    expect(() => check(eng.kernels.gram(out, -1, 2, out), "gram")).toThrow(E.KernelArgumentError);
  });
});
