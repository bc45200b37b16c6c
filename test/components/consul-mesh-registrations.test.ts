/**
 * What ConsulMesh registers, as Consul sees it: every agent registration the component
 * declares for the default mesh is replayed through the dynamic provider against a Consul
 * contract double per datacenter, and the catalog then answers the queries the gateway's
 * Consul route source makes.
 */
import {
  agentServiceProvider,
  type AgentServiceRegistrationState,
} from "../../components/dynamic/agent-service-registration";
import { ConsulMesh } from "../../components/consul-mesh";
import { defaultMesh } from "../../mesh";
import { ConsulDouble } from "../support/consul-double";
import { setupMocks } from "../support/pulumi-mocks";

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.json();
}

describe("ConsulMesh registrations against the Consul contract double", () => {
  const doubles: ConsulDouble[] = [];
  afterAll(async () => {
    for (const d of doubles) await d.close();
  });

  test("the default mesh's services and gateways register, and the catalog answers the gateway's queries", async () => {
    const mocks = await setupMocks();
    new ConsulMesh("mesh", { ...defaultMesh(), routeSource: "file" });
    await mocks.settle();

    // The stack speaks https to its datacenters; the double, in the clear, stands for each.
    const agents: Record<string, ConsulDouble> = {
      "https://127.0.0.1:8500": await ConsulDouble.start({ datacenter: "dc1" }),
      "https://127.0.0.1:8501": await ConsulDouble.start({ datacenter: "dc2" }),
    };
    doubles.push(...Object.values(agents));

    const registrations = mocks.byType("pulumi-nodejs:dynamic:AgentServiceRegistration");
    expect(registrations).toHaveLength(6);
    for (const r of registrations) {
      const state = r.inputs as AgentServiceRegistrationState;
      const agent = agents[state.address];
      expect(agent).toBeDefined();
      const created = await agentServiceProvider.create({ ...state, address: agent.url });
      expect(created.id).toBe(state.serviceId);
    }

    const [dc1, dc2] = [agents["https://127.0.0.1:8500"], agents["https://127.0.0.1:8501"]];
    expect(Object.keys(dc1.agentServices()).sort()).toEqual(["mesh-gateway", "web", "web-sidecar-proxy"]);
    expect(Object.keys(dc2.agentServices()).sort()).toEqual([
      "api",
      "api-sidecar-proxy",
      "db",
      "db-sidecar-proxy",
      "logging",
      "logging-sidecar-proxy",
      "mesh-gateway",
    ]);

    // Remote gateways, as the gateway's Consul route source finds them.
    const gateways = await getJson(
      `${dc2.url}/v1/catalog/services?filter=${encodeURIComponent('ServiceKind == "mesh-gateway"')}`,
    );
    expect(Object.keys(gateways as object)).toEqual(["mesh-gateway"]);
    const [gw] = (await getJson(`${dc2.url}/v1/health/service/mesh-gateway?passing`)) as {
      Service: Record<string, unknown>;
    }[];
    expect(gw.Service).toMatchObject({
      Kind: "mesh-gateway",
      Port: 8443,
      TaggedAddresses: {
        lan: { Address: "10.250.2.20", Port: 8443 },
        wan: { Address: "10.250.0.40", Port: 8443 },
      },
    });

    // Local connect endpoints: api's sidecar, with web's upstream modes on web's sidecar.
    const api = (await getJson(`${dc2.url}/v1/health/connect/api?passing`)) as { Service: Record<string, unknown> }[];
    expect(api).toHaveLength(1);
    expect(api[0].Service).toMatchObject({
      Kind: "connect-proxy",
      Port: 21000,
      Proxy: { DestinationServiceName: "api" },
    });
    const web = dc1.agentServices()["web-sidecar-proxy"] as {
      Proxy: { Upstreams: { DestinationName: string; MeshGateway: { Mode: string } }[] };
    };
    expect(web.Proxy.Upstreams.map((u) => `${u.DestinationName}:${u.MeshGateway.Mode}`)).toEqual([
      "api:remote",
      "db:local",
      "logging:none",
    ]);
  });
});
