// The page's worker handler (web/src/worker-handler.ts) driven without a Worker: its errors go
// out as ErrorWire and come back on the page side (errorFromWire, as web/src/client.ts does)
// with their own class, hint and details, the same wire as the Node workers use.
import { describe, it, expect, beforeAll } from "vitest";
import { loadEngine } from "../bindings/node.js";
import type { Engine } from "../bindings/engine/wasm.js";
import { ColumnError, HdfeError, OptionError, errorFromWire } from "../bindings/base/errors.js";
import type { ReadyMessage, WorkerRequest, WorkerResponse } from "../bindings/platform/worker-protocol.js";
import { workerHandler } from "../web/src/worker-handler.js";

type Msg = WorkerResponse | ReadyMessage;

let eng: Engine;
beforeAll(async () => {
  eng = await loadEngine();
});

/** A handler over the test engine and the messages it posts. */
function harness(ready: Promise<Engine> = Promise.resolve(eng)) {
  const out: Msg[] = [];
  const send = workerHandler(ready, (m) => out.push(structuredClone(m)));
  return { out, send: (req: WorkerRequest) => send(req) };
}

/** The one error posted for request id, rebuilt as the page rebuilds it. */
function errorOf(out: Msg[], id: number): Error {
  const m = out.find((x) => x.id === id && x.type === "error");
  if (!m || m.type !== "error") throw new Error(`no error posted for request ${id}`);
  return errorFromWire(m.error);
}

const spec = (outcome: string) => ({ outcome, treatment: "did", controls: [], fixef: ["firm", "year"], vcov: "iid" as const, cluster: [] });

describe("page worker handler: errors keep their class across the boundary", () => {
  it("posts ready with the engine's memory", async () => {
    const { out } = harness();
    await Promise.resolve();
    await Promise.resolve();
    expect(out[0]).toMatchObject({ id: 0, type: "ready" });
  });

  it("an unknown column comes back as a ColumnError", async () => {
    const { out, send } = harness();
    await send({ id: 1, type: "simulate", seed: 7, firms: 60 });
    expect(out.find((m) => m.id === 1)?.type).toBe("result");
    await send({ id: 2, type: "fit", spec: spec("no_such_column") });
    const e = errorOf(out, 2);
    expect(e).toBeInstanceOf(ColumnError);
    expect(e).toBeInstanceOf(HdfeError);
    expect(e.name).toBe("ColumnError");
    expect(e.message).toContain("no_such_column");
  });

  it("a bad placebo option comes back as an OptionError", async () => {
    const { out, send } = harness();
    await send({ id: 1, type: "simulate", seed: 7, firms: 60 });
    await send({ id: 2, type: "placebo", spec: spec("FC"), placebo: { draws: 0, seed: 1, unit: "firm" } });
    const e = errorOf(out, 2);
    expect(e).toBeInstanceOf(OptionError);
    expect(e.name).toBe("OptionError");
    expect(e.message).toContain("draws");
  });

  it("deriving from a missing column comes back as a ColumnError", async () => {
    const { out, send } = harness();
    await send({ id: 1, type: "simulate", seed: 7, firms: 60 });
    await send({ id: 5, type: "derive-did", firstTreat: "nope", year: "year", name: "d" });
    expect(errorOf(out, 5)).toBeInstanceOf(ColumnError);
  });

  it("an engine that fails to start posts its error on id 0 and on every request", async () => {
    const { out, send } = harness(Promise.reject(new OptionError("no engine", undefined, "try again")));
    await send({ id: 9, type: "simulate", seed: 1, firms: 10 });
    const e0 = errorOf(out, 0) as HdfeError;
    expect(e0).toBeInstanceOf(OptionError);
    expect(e0.hint).toBe("try again");
    expect(errorOf(out, 9)).toBeInstanceOf(OptionError);
  });
});
