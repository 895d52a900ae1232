// A fetch for the ClickHouse backend in Node without the global fetch's 300 s header timeout:
// with wait_end_of_query=1 ClickHouse sends its headers only when a query is done, so a pass
// over tens of millions of rows on a loaded machine outlives undici's headersTimeout and the
// global fetch fails with UND_ERR_HEADERS_TIMEOUT although the server is still working (seen
// on the 60M-row bench). This one is node:http with a keep-alive agent and no timeout of its
// own: the query's limit is ClickHouse's max_execution_time (--timeout) and the caller's signal.
import { request as httpRequest, Agent as HttpAgent } from "node:http";
import { request as httpsRequest, Agent as HttpsAgent } from "node:https";

const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/** The subset of fetch that bindings/sql/clickhouse.ts uses: POST a text body, read the text. */
export const nodeFetch: typeof fetch = (input, init = {}) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(String(input));
    const https = url.protocol === "https:";
    const req = (https ? httpsRequest : httpRequest)(
      url,
      { method: init.method ?? "GET", headers: init.headers as Record<string, string>, agent: https ? agents.https : agents.http, signal: init.signal ?? undefined },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, statusText: res.statusMessage })));
      },
    );
    // errors as the global fetch gives them (a cause with a code), so the backend's retry and messages hold
    req.on("error", (e: NodeJS.ErrnoException) => reject(e.name === "AbortError" ? e : Object.assign(new TypeError("fetch failed"), { cause: e })));
    if (init.body !== undefined && init.body !== null) req.write(init.body as string);
    req.end();
  });
