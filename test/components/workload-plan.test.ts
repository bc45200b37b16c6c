import { DEMO_APP_SOURCE, demoHealthCheck } from "../../components/plans/demo-app";
import { planWorkloadContainers } from "../../components/plans/workload-plan";

const datacenter = { name: "dc2", lanHttpAddress: "http://10.250.2.10:8500", lanGrpcAddress: "10.250.2.10:8502" };

describe("workload containers plan", () => {
  test("the demo service: its name, environment, health check and LAN placement; not published by default", () => {
    const { app } = planWorkloadContainers("w", {
      serviceId: "api-1",
      serviceName: "api",
      port: 8080,
      datacenter,
      lanAddress: "10.250.2.30",
      aliases: ["zeta", "api-dc2"],
    });
    expect(app.resourceName).toBe("w-app");
    expect(app.container).toMatchObject({
      name: "consul-mesh-dc2-api-1",
      hostname: "api-1-dc2",
      entrypoints: ["node", "-e", DEMO_APP_SOURCE],
      envs: ["DEMO_DATACENTER=dc2", "DEMO_PORT=8080", "DEMO_SERVICE=api", "DEMO_UPSTREAMS=[]"],
      ports: [],
      labels: [
        { label: "consul-mesh.datacenter", value: "dc2" },
        { label: "consul-mesh.role", value: "app" },
        { label: "consul-mesh.service", value: "api-1" },
      ],
    });
    expect(app.container.healthcheck.tests).toEqual(demoHealthCheck(8080));
    // Aliases sorted, so that their order in the model makes no diff.
    expect(app.lan).toEqual({ ipv4Address: "10.250.2.30", aliases: ["api-dc2", "zeta"] });
  });

  test("published on 127.0.0.1, with its upstreams; the sidecar asks the first server", () => {
    const upstreams = [{ name: "db", datacenter: "dc1", localBindPort: 10001, mode: "local", path: "web -> db" }];
    const { app, sidecar } = planWorkloadContainers("w", {
      serviceId: "web",
      serviceName: "web",
      port: 8080,
      datacenter,
      lanAddress: "10.250.2.31",
      upstreams,
      hostPort: 9090,
      resourcePrefix: "p",
    });
    expect(app.container.ports).toEqual([{ internal: 8080, external: 9090, ip: "127.0.0.1" }]);
    expect(app.container.envs).toContain(`DEMO_UPSTREAMS=${JSON.stringify(upstreams)}`);
    expect(app.lan.aliases).toEqual([]);
    expect(sidecar.resourceName).toBe("w-sidecar");
    expect(sidecar.container.name).toBe("p-dc2-web-sidecar");
    expect(sidecar.container.command.join(" ")).toBe(
      "-sidecar-for web -http-addr http://10.250.2.10:8500 -grpc-addr 10.250.2.10:8502 " +
        "-admin-bind 127.0.0.1:19000 -ignore-envoy-compatibility",
    );
    expect(sidecar.container.labels.map((l) => l.value)).toEqual(["dc2", "sidecar", "web"]);
    expect(sidecar.tokenEnv).toBe("CONSUL_HTTP_TOKEN");
    expect(sidecar.caFile).toBeUndefined();
    expect(sidecar.token).toEqual({
      resourceName: "w-token",
      description: "sidecar of web in dc2",
      serviceName: "web",
    });
  });

  test("with TLS: the sidecar asks the agent over https and gRPC TLS, verified by the datacenter's CA", () => {
    const { sidecar } = planWorkloadContainers("w", {
      serviceId: "web",
      serviceName: "web",
      port: 8080,
      datacenter: {
        name: "dc2",
        lanHttpAddress: "https://10.250.2.10:8501",
        lanGrpcAddress: "https://10.250.2.10:8503",
        caPem: "PEM",
      },
      lanAddress: "10.250.2.31",
    });
    expect(sidecar.container.command.join(" ")).toBe(
      "-sidecar-for web -http-addr https://10.250.2.10:8501 -grpc-addr https://10.250.2.10:8503 " +
        "-ca-file /consul/ca.pem -grpc-ca-file /consul/ca.pem -admin-bind 127.0.0.1:19000 -ignore-envoy-compatibility",
    );
    expect(sidecar.caFile).toBe("/consul/ca.pem");
  });
});
