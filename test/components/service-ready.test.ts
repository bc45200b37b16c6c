import http from "node:http";
import type { AddressInfo } from "node:net";
import { serviceReadyProvider } from "../../components/dynamic/service-ready";

/** An agent whose `/v1/health/service/mesh-gateway?passing` lists nothing for the first `emptyFor` answers. */
async function agent(emptyFor: number): Promise<{ address: string; asked: () => number; close: () => Promise<void> }> {
  let asked = 0;
  const server = http.createServer((req, res) => {
    asked++;
    if (req.url !== "/v1/health/service/mesh-gateway?passing") return res.writeHead(404).end("not found");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(asked > emptyFor ? [{ Service: { ID: "gw" } }] : []));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}`,
    asked: () => asked,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("ServiceReady's provider", () => {
  test("waits until the service has a passing instance", async () => {
    const a = await agent(2);
    try {
      const created = await serviceReadyProvider.create({ address: a.address, service: "mesh-gateway" });
      expect(created.outs.instances).toBe(1);
      expect(a.asked()).toBe(3);
    } finally {
      await a.close();
    }
  });

  test("fails after its time limit, naming the service and the last answer", async () => {
    const a = await agent(Infinity);
    try {
      await expect(
        serviceReadyProvider.create({ address: a.address, service: "mesh-gateway", timeoutMs: 1500 }),
      ).rejects.toThrow(/mesh-gateway has no passing instance after 1500 ms \(no passing instance\)/);
    } finally {
      await a.close();
    }
  });
});
