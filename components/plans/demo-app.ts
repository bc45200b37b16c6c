/**
 * The demo service the stacks run for each connect service: a small HTTP server (Node.js, no
 * dependencies) that answers with its service, datacenter and instance, and, when it has
 * upstreams, calls each through its sidecar's local bind port on `/` and answers with what each
 * returned beside the mode and path the route plan gives it. It is passed to `node -e`, so any
 * image with Node.js runs it (the gateway image has it).
 *
 * Environment: `DEMO_SERVICE`, `DEMO_DATACENTER`, `DEMO_PORT`, `DEMO_UPSTREAMS` (JSON list of
 * {@link DemoUpstream}).
 */

/** An upstream the demo service calls, as the route plan describes it. */
export interface DemoUpstream {
  /** Destination service. */
  name: string;
  /** Destination datacenter. */
  datacenter: string;
  /** The sidecar's local bind port for it (on 127.0.0.1). */
  localBindPort: number;
  /** The effective mesh gateway mode. */
  mode: string;
  /** The path the route plan gives, as one line. */
  path: string;
}

/* eslint-disable @typescript-eslint/no-require-imports -- the body runs on its own under `node -e` */
function demoApp(): void {
  const http = require("node:http") as typeof import("node:http");
  const self = {
    service: process.env.DEMO_SERVICE,
    datacenter: process.env.DEMO_DATACENTER,
    instance: require("node:os").hostname() as string,
  };
  const upstreams = JSON.parse(process.env.DEMO_UPSTREAMS || "[]") as DemoUpstream[];
  const call = (upstream: DemoUpstream) =>
    new Promise<Record<string, unknown>>((resolve) => {
      // A connection per call (no keep-alive), so that every call takes the path anew.
      const options = { host: "127.0.0.1", port: upstream.localBindPort, path: "/", timeout: 5000, agent: false };
      const request = http.get(options, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          try {
            resolve({ ...upstream, status: res.statusCode, answer: JSON.parse(body) });
          } catch {
            resolve({ ...upstream, status: res.statusCode, error: `not JSON: ${body.slice(0, 200)}` });
          }
        });
      });
      request.on("timeout", () => request.destroy(new Error("no answer within 5 s")));
      request.on("error", (error) => resolve({ ...upstream, error: error.message }));
    });
  const server = http.createServer((req, res) => {
    // `/` calls the upstreams; any other path (the health check's `/healthz`) answers for itself.
    const answer = async () =>
      req.url === "/" && upstreams.length > 0 ? { ...self, upstreams: await Promise.all(upstreams.map(call)) } : self;
    void answer().then((body) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(body, null, 2) + "\n");
    });
  });
  server.listen(Number(process.env.DEMO_PORT), "0.0.0.0");
  process.on("SIGTERM", () => process.exit(0));
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** The program `node -e` runs. */
export const DEMO_APP_SOURCE = `(${demoApp.toString()})();\n`;

/** The container health check of a demo service on `port`: `/healthz` answers 200. */
export function demoHealthCheck(port: number): string[] {
  const probe =
    `require("node:http").get("http://127.0.0.1:${port}/healthz", (r) => process.exit(r.statusCode === 200 ? 0 : 1))` +
    `.on("error", () => process.exit(1)).setTimeout(2000, () => process.exit(1))`;
  return ["CMD", "node", "-e", probe];
}
