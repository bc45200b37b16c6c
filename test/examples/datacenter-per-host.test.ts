import { countByType, outputValue, runExample, type ExampleRun } from "./run-example";

const TRUST_DOMAIN = "0c2f8e7a-5a4b-4c1d-9e8f-123456789abc.consul";
// ssh:// hosts: the provider reaches them, no check at preview (a tcp:// or unix:// host would be pinged).
const HOSTS = { dc1: "ssh://me@10.0.0.5:22", dc2: "ssh://me@10.0.0.6" };

describe("example: a Docker daemon per datacenter (WAN through published ports)", () => {
  let run: ExampleRun;
  beforeAll(async () => {
    run = await runExample("datacenter-per-host", {
      dockerHosts: JSON.stringify(HOSTS),
      gatewayImage: "registry.example/sni-gateway:1",
      sidecarImage: "registry.example/sidecar:1",
      trustDomain: TRUST_DOMAIN,
    });
  });

  test("one docker.Provider per datacenter, at its DOCKER_HOST", () => {
    expect(run.mocks.get("docker-dc1-provider").inputs.host).toBe(HOSTS.dc1);
    expect(run.mocks.get("docker-dc2-provider").inputs.host).toBe(HOSTS.dc2);
  });

  test("every Docker resource of a datacenter goes to that datacenter's daemon, none to the default one", () => {
    const provider = { dc1: run.mocks.get("docker-dc1-provider").urn, dc2: run.mocks.get("docker-dc2-provider").urn };
    const docker = run.mocks.resources.filter((r) => r.custom && r.type.startsWith("docker:index/"));
    expect(docker.length).toBeGreaterThan(10);
    for (const r of docker) {
      const dc = /^(dc1|dc2)-|-(dc1|dc2)-/.exec(r.name)?.slice(1).find(Boolean) as "dc1" | "dc2" | undefined;
      expect([r.name, dc && r.options.provider.startsWith(`${provider[dc]}::`)]).toEqual([r.name, true]);
    }
    expect(countByType(run.mocks)).toMatchObject({
      "pulumi:providers:docker": 2,
      "consul-mesh:index:Datacenter": 2,
      "consul-mesh:index:MeshGateway": 2,
      "consul-mesh:index:Workload": 2,
      // A server and a gateway per datacenter, a demo app and its sidecar per service; no WAN network.
      "docker:index/container:Container": 8,
      "docker:index/network:Network": 2,
    });
  });

  test("each server advertises its host on the WAN, publishes 8300 and 8302 (TCP and UDP) there, and joins the other host", async () => {
    for (const [dc, me, other, http] of [
      ["dc1", "10.0.0.5", "10.0.0.6", 8500],
      ["dc2", "10.0.0.6", "10.0.0.5", 8501],
    ] as const) {
      const server = run.mocks.get(`${dc}-server-0`);
      expect(server.inputs.command).toContain(`-advertise-wan=${me}`);
      expect(server.inputs.ports).toEqual([
        { internal: 8501, external: http, ip: me, protocol: "tcp" },
        { internal: 8300, external: 8300, ip: me, protocol: "tcp" },
        { internal: 8302, external: 8302, ip: me, protocol: "tcp" },
        { internal: 8302, external: 8302, ip: me, protocol: "udp" },
      ]);
      const config = JSON.parse(await outputValue<string>(server.inputs.uploads[0].content));
      expect(config.retry_join_wan).toEqual([other]);
      expect(config.connect.ca_config.cluster_id).toBe("0c2f8e7a-5a4b-4c1d-9e8f-123456789abc");
      expect(server.inputs.networksAdvanced).toHaveLength(1);
    }
  });

  test("each gateway publishes 8443 on its host and registers that as its WAN address", () => {
    for (const [dc, me] of [
      ["dc1", "10.0.0.5"],
      ["dc2", "10.0.0.6"],
    ] as const) {
      const gw = run.mocks.get(`${dc}-mesh-gateway-gateway-0`);
      expect(gw.inputs.ports).toEqual([{ internal: 8443, external: 8443, ip: me, protocol: "tcp" }]);
      expect(gw.inputs.command).toEqual(expect.arrayContaining(["--wan-address", `${me}:8443`]));
      expect(gw.inputs.image).toBe("sha256:mock-image-of-registry.example/sni-gateway:1");
    }
  });

  test("a bad configuration names its key before any resource: none mode, a missing host, a socket without an address", async () => {
    const { readStackConfig } = await import("consul-mesh-gateway");
    const bad = { dockerHosts: '{"dc1":"unix:///run/one.sock","dc2":"nope"}', hostAddresses: '{"dc1":"a b"}' };
    expect(() => readStackConfig({ get: (k) => (bad as Record<string, string>)[k] })).toThrow(
      /config dockerHosts\.dc2: "nope" is not a DOCKER_HOST value[\s\S]*config hostAddresses\.dc1: "a b" is not a host name/,
    );
  });

  test("exports the trust domain, the hosts, the Consul addresses on them and demoUrl on dc1's host", async () => {
    expect(await outputValue(run.outputs.trustDomain)).toBe(TRUST_DOMAIN);
    expect(run.outputs.hostAddresses).toEqual({ dc1: "10.0.0.5", dc2: "10.0.0.6" });
    expect(await outputValue(run.outputs.consulAddresses)).toEqual({
      dc1: "https://10.0.0.5:8500",
      dc2: "https://10.0.0.6:8501",
    });
    expect(run.outputs.demoUrl).toBe("http://10.0.0.5:8080/");
    expect(run.outputs.routeSummary).toEqual([expect.stringMatching(/^web \(dc1\) -> api \(dc2\): local .*/)]);
    expect(run.mocks.get("dc1-web-workload-app").inputs.ports).toEqual([
      { internal: 8080, external: 8080, ip: "10.0.0.5" },
    ]);
  });
});
