import { Writable } from "node:stream";
import pino from "pino";
import { startGateway } from "../../gateway";
import { RateLimiter } from "../../gateway/admin/logger";
import { ConsulDouble } from "../support/consul-double";
import { rawExchange, waitFor } from "./helpers";

describe("RateLimiter", () => {
  test("allows perSecond events per window and reports how many were suppressed", () => {
    const limiter = new RateLimiter(2);
    expect(limiter.take(1000)).toBe(0);
    expect(limiter.take(1100)).toBe(0);
    expect(limiter.take(1200)).toBe(false);
    expect(limiter.take(1300)).toBe(false);
    expect(limiter.take(2000)).toBe(2);
    expect(limiter.take(2001)).toBe(0);
  });
});

describe("gateway logs", () => {
  test("a flood of bad connections is rate-limited; the Consul token never appears, even on ACL errors", async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
        cb();
      },
    });
    const token = "d1c0ffee-0000-4000-8000-secret-token";
    // ACLs on, and the gateway's token is not accepted: every call is a 403.
    const double = await ConsulDouble.start({ tokens: ["another-token"] });
    const gw = await startGateway({
      datacenter: "dc1",
      listen: [{ host: "127.0.0.70", port: 0 }],
      routes: {
        consul: { address: double.url, token, requestTimeoutMs: 500 },
        watch: { minIntervalMs: 20, retryMinMs: 50, retryMaxMs: 100, initialLoadTimeoutMs: 300 },
      },
      register: { address: "127.0.0.70" },
      proxy: { logLinesPerSecond: 5 },
      logger: pino({ level: "info" }, stream),
    });
    try {
      for (let i = 0; i < 30; i++)
        await rawExchange("127.0.0.70", gw.listenAddresses[0].port, Buffer.from("GET / HTTP/1.0\r\n\r\n"));
      await waitFor(() => lines.some((l) => l.includes("register-failed")), 3000, "registration failure logged");
      const refused = lines.map((l) => JSON.parse(l)).filter((l) => l.event === "hello-refused");
      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(refused.length).toBeLessThanOrEqual(10);
      expect(refused.every((l) => l.reason === "not-tls")).toBe(true);
      expect(lines.some((l) => l.includes("HTTP 403"))).toBe(true);
      expect(lines.join("\n")).not.toContain(token);
    } finally {
      await gw.close(0);
      await double.close();
    }
    expect(lines.join("\n")).not.toContain(token);
  });
});
