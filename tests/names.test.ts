// Column-name suggestions (bindings/io/select.ts closestName), used by the readers and Frame:
// a name that is a prefix of an existing one is suggested (county -> countyreal), as are case
// and small spelling differences; unrelated names get no suggestion.
import { describe, it, expect } from "vitest";
import { closestName, resolveColumns } from "../bindings/io/select.js";
import { Frame } from "../bindings/core/frame.js";
import { ColumnError } from "../bindings/base/errors.js";

const MPDTA = ["year", "countyreal", "lpop", "lemp", "first.treat", "treat"];

describe("column-name suggestions", () => {
  it("suggests the near name", () => {
    expect(closestName("county", MPDTA)).toBe("countyreal");
    expect(closestName("Year", MPDTA)).toBe("year");
    expect(closestName("lemp2", MPDTA)).toBe("lemp");
    expect(closestName("first_treat", MPDTA)).toBe("first.treat");
    expect(closestName("firm", ["firm_id", "firmsize_class", "year"])).toBe("firm_id");
    expect(closestName("zzz", MPDTA)).toBeUndefined();
    expect(closestName("gdp", MPDTA)).toBeUndefined();
  });

  it("the readers' and Frame's errors carry it", () => {
    let e: unknown;
    try {
      resolveColumns(["county"], MPDTA, "CSV header");
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ColumnError);
    expect((e as ColumnError).hint).toBe('"county" -> did you mean "countyreal"?');
    const f = Frame.fromColumns({ countyreal: [1, 2], year: [2001, 2002] });
    expect(() => f.numeric("county")).toThrow(ColumnError);
    try {
      f.numeric("county");
    } catch (x) {
      expect((x as ColumnError).hint).toMatch(/did you mean "countyreal"\?/);
    }
  });
});
