import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startGateway, GatewayHandle } from "../../gateway";
import { FileRouteSource } from "../../gateway/sources/file-route-source";
import type { RouteTable } from "../../gateway/routing/route-table";
import type { RoutesFile } from "../../mesh/model/routes-file";
import { httpGet, metricValue, waitFor } from "./helpers";

const TD = "5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul";
const file = (port: number): RoutesFile => ({
  datacenter: "dc1",
  trustDomain: TD,
  services: [{ name: "web", endpoints: [{ address: "127.0.0.1", port }] }],
  gateways: [],
});

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "routes-"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Writes atomically (write + rename), as config managers do. */
async function writeAtomic(target: string, text: string): Promise<void> {
  const tmp = `${target}.tmp-${process.hrtime.bigint()}`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, target);
}

function webPort(table: RouteTable | undefined): number | undefined {
  return table?.services.get("default/default/web/")?.endpoints[0]?.port;
}

describe("FileRouteSource", () => {
  test("loads, reloads a valid change, keeps the last good table on an invalid one, and recovers", async () => {
    const routes = path.join(dir, "routes.json");
    await fs.writeFile(routes, JSON.stringify(file(1001)));
    let table: RouteTable | undefined;
    const errors: string[] = [];
    const source = new FileRouteSource({ path: routes, datacenter: "dc1", pollIntervalMs: 100, debounceMs: 20 });
    await source.start({ onTable: (t) => (table = t), onError: (e) => errors.push(e.message) });
    try {
      expect(webPort(table)).toBe(1001);
      expect(source.status()).toMatchObject({ loaded: true, stale: false });

      await writeAtomic(routes, JSON.stringify(file(1002)));
      await waitFor(() => webPort(table) === 1002, 3000, "reload after rename");

      await fs.writeFile(routes, JSON.stringify(file(1003)));
      await waitFor(() => webPort(table) === 1003, 3000, "reload after in-place write");

      // Each bad file (written atomically, so every read sees all of it) is refused once, named,
      // and stays refused across the next polls without repeating the error.
      const refuse = async (text: string, expected: string) => {
        const before = errors.length;
        await writeAtomic(routes, text);
        await waitFor(() => errors.length > before, 3000, `error for ${expected}`);
        await new Promise((r) => setTimeout(r, 350)); // three more polls
        expect(errors.slice(before)).toEqual([expect.stringContaining(expected)]);
        expect(webPort(table)).toBe(1003);
        expect(source.status()).toMatchObject({
          loaded: true,
          stale: true,
          lastError: expect.stringContaining(expected),
        });
      };
      await refuse("{ not json", "invalid JSON");
      await refuse(
        JSON.stringify({ ...file(1004), services: [{ name: "web", endpoints: [{ address: "x", port: 0 }] }] }),
        "services[0].endpoints[0].port",
      );
      await refuse(
        JSON.stringify({ ...file(1005), datacenter: "dc2" }),
        'datacenter: "dc2" is not the gateway\'s datacenter "dc1"',
      );

      const beforeRemoval = errors.length;
      await fs.rm(routes);
      await waitFor(() => errors.length > beforeRemoval, 3000, "missing file reported");
      expect(errors[errors.length - 1]).toContain("ENOENT");
      expect(webPort(table)).toBe(1003);

      await writeAtomic(routes, JSON.stringify(file(1006)));
      await waitFor(() => webPort(table) === 1006, 3000, "recovery");
      expect(source.status()).toMatchObject({ loaded: true, stale: false });
    } finally {
      await source.close();
    }
  });

  test("a missing file at start: not loaded, reported, loaded once it appears", async () => {
    const routes = path.join(dir, "later.json");
    let table: RouteTable | undefined;
    const errors: string[] = [];
    const source = new FileRouteSource({ path: routes, pollIntervalMs: 100 });
    await source.start({ onTable: (t) => (table = t), onError: (e) => errors.push(e.message) });
    try {
      expect(table).toBeUndefined();
      expect(errors[0]).toContain("ENOENT");
      expect(source.status()).toMatchObject({ loaded: false });
      await writeAtomic(routes, JSON.stringify(file(2001)));
      await waitFor(() => webPort(table) === 2001, 3000, "late file");
    } finally {
      await source.close();
    }
  });

  test("through a gateway: /readyz, /routes and reload metrics follow the file", async () => {
    const routes = path.join(dir, "routes.json");
    await fs.writeFile(routes, JSON.stringify(file(3001)));
    const gw: GatewayHandle = await startGateway({
      datacenter: "dc1",
      listen: [{ host: "127.0.0.5", port: 0 }],
      admin: { host: "127.0.0.1", port: 0 },
      routes: { file: routes, watch: { pollIntervalMs: 100, debounceMs: 20 } },
      logLevel: "silent",
    });
    const base = `http://127.0.0.1:${gw.adminAddress?.port}`;
    try {
      expect((await httpGet(`${base}/readyz`)).status).toBe(200);
      await fs.writeFile(routes, "[]");
      await waitFor(async () => (await httpGet(`${base}/readyz`)).status === 503, 3000, "not ready");
      const ready = JSON.parse((await httpGet(`${base}/readyz`)).body);
      expect(ready).toMatchObject({ ready: false, routesLoaded: true, stale: true, source: "file" });
      expect(JSON.parse((await httpGet(`${base}/routes`)).body).services[0].endpoints[0].port).toBe(3001);
      expect(
        metricValue((await httpGet(`${base}/metrics`)).body, "sni_gateway_route_reload_failures_total", {
          source: "file",
        }),
      ).toBe(1);
      await writeAtomic(routes, JSON.stringify(file(3002)));
      await waitFor(async () => (await httpGet(`${base}/readyz`)).status === 200, 3000, "ready again");
      expect(JSON.parse((await httpGet(`${base}/routes`)).body).services[0].endpoints[0].port).toBe(3002);
    } finally {
      await gw.close(0);
    }
  });

  test("a table over --max-routes is refused: not ready at start, the last good table kept after", async () => {
    const routes = path.join(dir, "routes.json");
    const services = (n: number) => ({
      ...file(3001),
      services: Array.from({ length: n }, (_, i) => ({
        name: `s${i}`,
        endpoints: [{ address: "127.0.0.1", port: 3001 }],
      })),
    });
    await fs.writeFile(routes, JSON.stringify(services(3)));
    const gw: GatewayHandle = await startGateway({
      datacenter: "dc1",
      listen: [{ host: "127.0.0.5", port: 0 }],
      admin: { host: "127.0.0.1", port: 0 },
      routes: { file: routes, watch: { pollIntervalMs: 100, debounceMs: 20 } },
      maxRoutes: 2,
      logLevel: "silent",
    });
    const base = `http://127.0.0.1:${gw.adminAddress?.port}`;
    const readyz = async () => JSON.parse((await httpGet(`${base}/readyz`)).body);
    const failures = async () =>
      metricValue((await httpGet(`${base}/metrics`)).body, "sni_gateway_route_reload_failures_total", {
        source: "file",
      });
    try {
      expect(await readyz()).toMatchObject({ ready: false, routesLoaded: false });
      expect((await readyz()).lastError).toMatch(/3 routes, more than --max-routes 2/);
      expect((await httpGet(`${base}/routes`)).status).toBe(503);
      expect(await failures()).toBe(1);

      await writeAtomic(routes, JSON.stringify(services(2)));
      await waitFor(async () => (await httpGet(`${base}/readyz`)).status === 200, 3000, "ready with 2 routes");

      await writeAtomic(routes, JSON.stringify(services(5)));
      await waitFor(async () => (await failures()) === 2, 3000, "the 5-route table refused");
      expect(await readyz()).toMatchObject({ ready: false, routesLoaded: true, stale: true });
      expect((await readyz()).lastError).toMatch(/5 routes, more than --max-routes 2/);
      expect(JSON.parse((await httpGet(`${base}/routes`)).body).services).toHaveLength(2);
      expect(gw.ready()).toBe(false);
    } finally {
      await gw.close(0);
    }
  });
});
