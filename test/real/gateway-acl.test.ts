/**
 * ACLs on (`default_policy = deny`): our gateways run with a token made from exactly the policy
 * rules `MeshGateway` declares (`gatewayAclRules`). They register, read both datacenters'
 * catalogs and route; a token without `node:read` is named in the gateway's log.
 */
import { gatewayAclRules } from "../../mesh/render/gateway-acl-rules";
import { eventually } from "../support/processes";
import type { RealConsul, RealDatacenter } from "../support/real-consul";
import { gatewayAddresses, startOurGateway } from "../support/real-mesh";
import { WebApiMesh } from "../support/web-api-mesh";

jest.setTimeout(180_000);

/** A token with a policy of `rules`, made in the primary (global: replicated to the others). */
async function tokenWithRules(consul: RealConsul, name: string, rules: string): Promise<string> {
  const dc1 = consul.dc("dc1");
  const policy = await dc1.api("PUT", "/v1/acl/policy", { Name: name, Rules: rules });
  if (policy.status !== 200) throw new Error(`policy ${name}: ${policy.status} ${policy.text}`);
  const token = await dc1.api("PUT", "/v1/acl/token", { Description: name, Policies: [{ Name: name }] });
  if (token.status !== 200) throw new Error(`token ${name}: ${token.status} ${token.text}`);
  return (token.json as { SecretID: string }).SecretID;
}

describe("our gateways with ACLs on, with the token MeshGateway declares", () => {
  const mesh = new WebApiMesh({
    gateways: { dc1: "ours", dc2: "ours" },
    acl: true,
    gatewayToken: (consul) => tokenWithRules(consul, "mesh-gateway", gatewayAclRules("mesh-gateway")),
  });
  beforeAll(() => mesh.start(), 180_000);
  afterAll(() => mesh.stop());

  test("each gateway registered itself and sees the other datacenter's gateway and its local services", async () => {
    for (const dc of [mesh.dc1, mesh.dc2]) {
      const registered = (await dc.api("GET", "/v1/health/service/mesh-gateway?passing")).json as Array<{
        Service: { ID: string };
      }>;
      expect(registered.map((e) => e.Service.ID)).toEqual([`mesh-gateway-ours-${dc.name}`]);
    }
    const routes = async (dc: string) =>
      (await (await fetch(`${mesh.gateways[dc].adminUrl}/routes`)).json()) as {
        services: Array<{ name: string }>;
        gateways: Array<{ datacenter: string; endpoints: Array<{ address: string; port: number }> }>;
      };
    // Registered and passing in Consul; the agent's xDS push of dc2's gateway endpoint to dc1's
    // gateway follows within moments.
    const dc1 = await eventually(
      "dc1's gateway to route to dc2's gateway",
      async () => {
        const table = await routes("dc1");
        return table.gateways.some((g) => g.endpoints.length > 0) && table;
      },
      { timeoutMs: 10_000 },
    );
    expect(dc1.gateways).toEqual(
      [{ datacenter: "dc2", partition: "default", endpoints: [mesh.gateways.dc2.addresses.wan] }].map((g) => ({
        ...g,
        endpoints: g.endpoints.map((e) => ({ address: e.host, port: e.port })),
      })),
    );
    const dc2 = await routes("dc2");
    expect(dc2.services.map((s) => s.name)).toEqual(["api"]);
    const log = mesh.gateways.dc1.process.log() + mesh.gateways.dc2.process.log();
    expect(log).not.toContain(mesh.gatewayToken as string);
    expect(log).not.toMatch(/acl-filtered|register-failed/);
  });

  test.each(["remote", "local"] as const)("web reaches api in %s mode", async (mode) => {
    await mesh.setMode("upstream", mode);
    await mesh.awaitEndpoint(mode);
    const results = await mesh.requests(5);
    expect(results.map((r) => r.body)).toEqual(Array(5).fill("api in dc2\n"));
  });

  test("a token without node:read: the gateway says in its log what the token lacks", async () => {
    const rules = gatewayAclRules("mesh-gateway").replace(/node_prefix "" \{[^}]*\}\n/, "");
    expect(rules).not.toContain("node_prefix");
    const weak = await tokenWithRules(mesh.consul, "mesh-gateway-no-node-read", rules);
    const dc2: RealDatacenter = mesh.dc2;
    const gateway = await startOurGateway(mesh.consul, mesh.program, dc2, await gatewayAddresses(dc2), {
      token: weak,
      waitReady: false,
      serviceId: "mesh-gateway-weak",
    });
    try {
      await eventually(
        "the gateway to log that Consul filtered its reads",
        () => /"event":"acl-filtered"/.test(gateway.process.log()),
        {
          timeoutMs: 20_000,
          describe: () => gateway.process.tail(20),
        },
      );
      const line = gateway.process
        .log()
        .split("\n")
        .find((l) => l.includes('"event":"acl-filtered"')) as string;
      expect(line).toContain("node:read on every node");
      expect(gateway.process.log()).not.toContain(weak);
    } finally {
      await gateway.stop();
    }
  });
});
