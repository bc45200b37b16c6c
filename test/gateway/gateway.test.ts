/**
 * The gateway's assembly: a start that fails part-way releases what it had started, with the
 * one teardown `close()` uses, in its order (registration, listeners and connections, route
 * source, admin server, Consul client).
 */
import net from "node:net";
import { startGateway } from "../../gateway";
import { AdminServer } from "../../gateway/admin/admin";
import { SniProxy } from "../../gateway/net/proxy";
import { ConsulRouteSource } from "../../gateway/sources/consul-route-source";
import type { RouteSourceListener } from "../../gateway/routing/route-table";
import { SelfRegistration } from "../../gateway/sources/self-registration";
import { StaticRouteSource } from "../../gateway/sources/static-route-source";
import { ConsulClient } from "../../consul/client";
import { ConsulDouble } from "../support/consul-double";
import { freePorts } from "../support/processes";

const TD = "11111111-2222-3333-4444-555555555555.consul";
const FAST = { waitMs: 1500, minIntervalMs: 20, retryMinMs: 50, retryMaxMs: 100, debounceMs: 20, pollIntervalMs: 200 };

/** Whether something accepts TCP connections on `host:port`. */
function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

/** Spies on the teardown steps (each still runs) and names them in the order they were called. */
function teardownSteps(): () => string[] {
  const spies = {
    registration: jest.spyOn(SelfRegistration.prototype, "stop"),
    proxy: jest.spyOn(SniProxy.prototype, "close"),
    "consul source": jest.spyOn(ConsulRouteSource.prototype, "close"),
    "static source": jest.spyOn(StaticRouteSource.prototype, "close"),
    admin: jest.spyOn(AdminServer.prototype, "close"),
    client: jest.spyOn(ConsulClient.prototype, "close"),
  };
  return () =>
    Object.entries(spies)
      .flatMap(([name, spy]) => spy.mock.invocationCallOrder.map((order) => ({ name, order })))
      .sort((a, b) => a.order - b.order)
      .map((step) => step.name);
}

afterEach(() => jest.restoreAllMocks());

describe("a start that fails", () => {
  test("after the registration (the route source's start): registration, listeners, route source, admin server and client are all released, in close's order", async () => {
    const double = await ConsulDouble.start({ datacenter: "dc1" });
    try {
      const host = "127.0.0.71";
      const [port, adminPort] = await freePorts(host, 2);
      const start = ConsulRouteSource.prototype.start;
      jest.spyOn(ConsulRouteSource.prototype, "start").mockImplementationOnce(async function (
        this: ConsulRouteSource,
        listener: RouteSourceListener,
      ) {
        await start.call(this, listener);
        throw new Error("the route source failed to start");
      });
      const steps = teardownSteps();
      await expect(
        startGateway({
          datacenter: "dc1",
          listen: [{ host, port }],
          admin: { host, port: adminPort },
          routes: { via: "catalog", consul: { address: double.url, requestTimeoutMs: 1000 }, watch: FAST },
          register: { address: host },
          logLevel: "silent",
        }),
      ).rejects.toThrow("the route source failed to start");

      expect(steps()).toEqual(["registration", "proxy", "consul source", "admin", "client"]);
      expect(await listening(host, port)).toBe(false);
      expect(await listening(host, adminPort)).toBe(false);
      expect(double.agentServices()["mesh-gateway"]).toBeUndefined();
      expect(double.requests.filter((r) => r.path.startsWith("/v1/agent/service/deregister/"))).toHaveLength(1);
      // The source's watches are stopped: no request reaches Consul any more.
      const requests = double.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(double.requests.length).toBe(requests);
    } finally {
      await double.close();
    }
  });

  test("binding its second listener: the first listener and the admin server are released, in the same order", async () => {
    const host = "127.0.0.72";
    const [first, taken, adminPort] = await freePorts(host, 3);
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(taken, host, resolve));
    try {
      const steps = teardownSteps();
      await expect(
        startGateway({
          datacenter: "dc1",
          listen: [
            { host, port: first },
            { host, port: taken },
          ],
          admin: { host, port: adminPort },
          routes: { static: { datacenter: "dc1", trustDomain: TD, services: [], gateways: [] } },
          logLevel: "silent",
        }),
      ).rejects.toMatchObject({ code: "EADDRINUSE" });
      expect(steps()).toEqual(["proxy", "static source", "admin"]);
      expect(await listening(host, first)).toBe(false);
      expect(await listening(host, adminPort)).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

test("close releases the same parts in the same order", async () => {
  const double = await ConsulDouble.start({ datacenter: "dc1" });
  try {
    const host = "127.0.0.73";
    const gw = await startGateway({
      datacenter: "dc1",
      listen: [{ host, port: 0 }],
      admin: { host, port: 0 },
      routes: { via: "catalog", consul: { address: double.url, requestTimeoutMs: 1000 }, watch: FAST },
      register: { address: host },
      logLevel: "silent",
    });
    const steps = teardownSteps();
    await gw.close(0);
    expect(steps()).toEqual(["registration", "proxy", "consul source", "admin", "client"]);
  } finally {
    await double.close();
  }
});
