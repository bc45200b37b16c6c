/**
 * `renderAgentConfig` against the real agent: two Consul servers started from exactly what it
 * renders (plus a loopback overlay) come up WAN-joined with Connect, gRPC, central service config
 * and (in the second variant) ACLs as the model says; `/v1/agent/self` reads each setting back.
 */
import { RealConsul } from "../support/real-consul";

jest.setTimeout(180_000);

interface AgentSelf {
  Config: { Datacenter: string; PrimaryDatacenter: string; Server: boolean };
  DebugConfig: {
    ConnectEnabled: boolean;
    GRPCPort: number;
    EnableCentralServiceConfig: boolean;
    ACLsEnabled: boolean;
    ACLResolverSettings?: { ACLDefaultPolicy?: string };
    ACLTokenReplication?: boolean;
  };
}

describe.each([
  ["ACLs off", false],
  ["ACLs on", true],
])("real Consul from renderAgentConfig (%s)", (_label, acl) => {
  let consul: RealConsul;
  beforeAll(async () => {
    consul = await RealConsul.start({ acl });
  });
  afterAll(async () => {
    await consul?.stop();
  });

  test("each server runs the settings the model rendered", async () => {
    for (const dc of consul.datacenters) {
      const self = (await dc.api("GET", "/v1/agent/self")).json as AgentSelf;
      expect(self.Config).toMatchObject({ Datacenter: dc.name, PrimaryDatacenter: "dc1", Server: true });
      expect(self.DebugConfig).toMatchObject({
        ConnectEnabled: true,
        GRPCPort: dc.ports.grpc,
        EnableCentralServiceConfig: true,
        ACLsEnabled: acl,
      });
      if (acl) {
        expect(self.DebugConfig.ACLResolverSettings?.ACLDefaultPolicy).toBe("deny");
        expect(self.DebugConfig.ACLTokenReplication).toBe(dc.name !== "dc1");
      }
      expect(dc.renderedConfig).toMatchObject({
        datacenter: dc.name,
        primary_datacenter: "dc1",
        ports: { grpc: dc.ports.grpc },
      });
    }
  });

  test("the datacenters are WAN joined and share one trust domain", async () => {
    const wan = (await consul.dc("dc1").api("GET", "/v1/agent/members?wan=1")).json as Array<{
      Name: string;
      Status: number;
    }>;
    expect(wan.map((m) => m.Name).sort()).toEqual(["dc1-server.dc1", "dc2-server.dc2"]);
    expect(wan.every((m) => m.Status === 1)).toBe(true);
    const domains = await Promise.all(
      consul.datacenters.map(
        async (dc) => ((await dc.api("GET", "/v1/agent/connect/ca/roots")).json as { TrustDomain: string }).TrustDomain,
      ),
    );
    expect(domains[0]).toMatch(/^[0-9a-f-]{36}\.consul$/);
    expect(domains[1]).toBe(domains[0]);
  });

  if (acl) {
    test("with ACLs on, an anonymous request is denied and the management token is accepted in both datacenters", async () => {
      for (const dc of consul.datacenters) {
        expect((await dc.api("GET", "/v1/agent/self", undefined, "")).status).toBe(403);
        expect((await dc.api("GET", "/v1/acl/token/self")).status).toBe(200);
      }
    });
  }
});
