/**
 * The workloads behind connect services: where they are placed (pure), the demo service itself
 * (run as `node -e` runs it, with a real upstream), and the components' argument checks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { defaultLanSubnet, dynamicRange, lanWorkloadAddress } from "../../components/plans/address-plan";
import { DEMO_APP_SOURCE, demoHealthCheck } from "../../components/plans/demo-app";
import { ServiceIntentions } from "../../components/service-intentions";
import { SidecarImage } from "../../components/images/sidecar-image";
import { planWorkloads } from "../../components/plans/workload-plan";
import { declaredIntentions, defaultMesh, planRoutes } from "../../mesh";

describe("planWorkloads", () => {
  const mesh = defaultMesh();
  const lanOf = (dc: string) => defaultLanSubnet(dc === "dc1" ? 0 : 1);
  const workloads = planWorkloads(mesh, planRoutes(mesh), lanOf, 8080);

  test("one per service with a sidecar, at host 30 + k of its datacenter's LAN, the model's host name as alias", () => {
    expect(workloads.map((w) => [w.serviceId, w.datacenter, w.lanAddress, w.aliases])).toEqual([
      ["web", "dc1", "10.250.1.30", ["web-dc1"]],
      ["api", "dc2", "10.250.2.30", ["api-dc2"]],
      ["db", "dc2", "10.250.2.31", ["db-dc2"]],
      ["logging", "dc2", "10.250.2.32", ["logging-dc2"]],
    ]);
  });

  test("the first service with upstreams is published, with each upstream's mode and path from the plan", () => {
    expect(workloads.map((w) => w.hostPort)).toEqual([8080, undefined, undefined, undefined]);
    expect(workloads[0].upstreams).toEqual([
      {
        name: "api",
        datacenter: "dc2",
        localBindPort: 10000,
        mode: "remote",
        path: "web (dc1) → mesh-gateway dc2 WAN → api (dc2)",
      },
      {
        name: "db",
        datacenter: "dc2",
        localBindPort: 10001,
        mode: "local",
        path: "web (dc1) → mesh-gateway dc1 LAN → mesh-gateway dc2 WAN → db (dc2)",
      },
      {
        name: "logging",
        datacenter: "dc2",
        localBindPort: 10002,
        mode: "none",
        path: "web (dc1) → logging (dc2) direct",
      },
    ]);
  });

  test("fixed addresses stay below the range Docker gives out", () => {
    expect(dynamicRange("10.250.1.0/24")).toBe("10.250.1.128/25");
    expect(dynamicRange("10.8.0.0/16")).toBe("10.8.128.0/17");
    expect(lanWorkloadAddress("10.250.1.0/24", 89)).toBe("10.250.1.119");
    expect(() => lanWorkloadAddress("10.250.1.0/24", 90)).toThrow("at most 90 workloads per datacenter");
  });

  test("declaredIntentions: one allow per destination, from the services that name it", () => {
    expect(declaredIntentions(defaultMesh())).toEqual([
      { destination: "api", sources: ["web"] },
      { destination: "db", sources: ["web"] },
      { destination: "logging", sources: ["web"] },
    ]);
  });
});

describe("the demo service, run as node -e runs it", () => {
  const children: ChildProcess[] = [];
  const servers: http.Server[] = [];
  afterAll(() => {
    for (const c of children) c.kill();
    for (const s of servers) s.close();
  });

  async function start(env: Record<string, string>): Promise<void> {
    const child = spawn(process.execPath, ["-e", DEMO_APP_SOURCE], {
      env: { ...process.env, ...env },
      stdio: "ignore",
    });
    children.push(child);
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await fetch(`http://127.0.0.1:${env.DEMO_PORT}/healthz`);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  test("answers for itself, and on / with what each upstream answered (an upstream that refuses is named)", async () => {
    // The "sidecar": a plain listener standing for the upstream's local bind port.
    const api = http.createServer((_req, res) =>
      res.end(JSON.stringify({ service: "api", datacenter: "dc2", instance: "a1" })),
    );
    servers.push(api);
    await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
    const apiPort = (api.address() as AddressInfo).port;
    const port = 20000 + (process.pid % 10000);
    await start({
      DEMO_SERVICE: "web",
      DEMO_DATACENTER: "dc1",
      DEMO_PORT: String(port),
      DEMO_UPSTREAMS: JSON.stringify([
        { name: "api", datacenter: "dc2", localBindPort: apiPort, mode: "remote", path: "p1" },
        { name: "db", datacenter: "dc2", localBindPort: 1, mode: "local", path: "p2" },
      ]),
    });
    const self = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Record<string, unknown>;
    expect(self).toMatchObject({ service: "web", datacenter: "dc1" });
    expect(self.upstreams).toBeUndefined();
    const body = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { upstreams: Record<string, unknown>[] };
    expect(body.upstreams[0]).toEqual({
      name: "api",
      datacenter: "dc2",
      localBindPort: apiPort,
      mode: "remote",
      path: "p1",
      status: 200,
      answer: { service: "api", datacenter: "dc2", instance: "a1" },
    });
    expect(body.upstreams[1]).toMatchObject({
      name: "db",
      mode: "local",
      error: expect.stringContaining("ECONNREFUSED"),
    });
  });

  test("its health check is an exec-form node probe of /healthz", () => {
    const [form, node, flag, probe] = demoHealthCheck(8080);
    expect([form, node, flag]).toEqual(["CMD", "node", "-e"]);
    expect(probe).toContain("http://127.0.0.1:8080/healthz");
  });
});

describe("argument checks", () => {
  test("ServiceIntentions names every bad field", () => {
    expect(
      () =>
        new ServiceIntentions("i", {
          destination: "*",
          sources: [
            { name: "web", action: "allow" },
            { name: "web", action: "allow" },
            { name: "bad name", action: "permit" as "allow" },
          ],
        }),
    ).toThrow(
      /args\.destination: "\*" is not a service name[\s\S]*args\.sources\[1\]\.name: "web" is listed twice[\s\S]*args\.sources\[2\]\.name[\s\S]*args\.sources\[2\]\.action: "permit" is not "allow" or "deny"/,
    );
    expect(() => new ServiceIntentions("i", { destination: "api", sources: [] })).toThrow(
      "args.sources: list at least one source",
    );
  });

  test("SidecarImage refuses a bad reference, and build arguments beside a published image", () => {
    expect(() => new SidecarImage("s", { envoyImage: "Envoy Proxy" })).toThrow(
      'args.envoyImage: "Envoy Proxy" is not an image reference',
    );
    expect(() => new SidecarImage("s", { image: "x/sidecar:1", consulImage: "hashicorp/consul:1.16.3" })).toThrow(
      "args.consulImage: a published `image` is used as it is",
    );
  });
});
