/**
 * `ExistingDatacenter`'s check against a real Consul 1.16.3 started outside Pulumi (ACLs on):
 * what it reads (the leader, the trust domain of the CA roots), and each way a datacenter can
 * be given wrong — a token Consul does not know, a datacenter the agent does not know, an
 * address nobody listens on, an https API whose certificate the CA given did not sign, an API
 * that accepts and never answers — each an error naming the datacenter, within a bounded time.
 */
import https from "node:https";
import net from "node:net";
import { checkDatacenter, checkRights, ExistingDatacenter } from "../../components/existing-datacenter";
import { DatacenterAccessError } from "../../components/errors";
import { createTestPki, type TestPki } from "../../demo/pki";
import { freePorts } from "../support/processes";
import { setupMocks, valueOf } from "../support/pulumi-mocks";
import { RealConsul } from "../support/real-consul";

jest.setTimeout(120_000);

/** The error the check of a datacenter given so fails with, and how long it took. */
async function checkFailure(
  datacenter: string,
  address: string,
  extra: { token?: string; caPem?: string } = {},
): Promise<{ error: DatacenterAccessError; ms: number }> {
  const started = Date.now();
  const error = await checkDatacenter(datacenter, { address, token: extra.token, ca: extra.caPem }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatacenterAccessError);
  return { error: error as DatacenterAccessError, ms: Date.now() - started };
}

describe("ExistingDatacenter's check, against real Consul", () => {
  let consul: RealConsul;
  let pki: TestPki;
  let otherPki: TestPki;
  beforeAll(async () => {
    await setupMocks();
    [consul, pki, otherPki] = await Promise.all([
      RealConsul.start({ datacenters: ["dc1"], acl: true }),
      createTestPki("existing-dc-"),
      createTestPki("existing-dc-other-"),
    ]);
  });
  afterAll(async () => {
    await consul?.stop();
    await pki?.cleanup();
    await otherPki?.cleanup();
  });

  test("given right: the leader and the trust domain Consul's CA roots name", async () => {
    const [dc1] = consul.datacenters;
    const dc = new ExistingDatacenter("dc1", {
      datacenter: "dc1",
      address: dc1.httpAddress,
      token: consul.managementToken,
    });
    const roots = (await dc1.api("GET", "/v1/connect/ca/roots")).json as { TrustDomain: string };
    expect(await valueOf(dc.checked!)).toEqual({
      leader: expect.stringMatching(/:\d+$/),
      trustDomain: roots.TrustDomain,
    });
    expect(await valueOf(dc.trustDomain!)).toMatch(/^[0-9a-f-]{36}\.consul$/);
  });

  test("the route plan of what the datacenter runs, read from it", async () => {
    const [dc1] = consul.datacenters;
    const registered = await dc1.api("PUT", "/v1/agent/service/register", {
      Name: "web",
      Port: 9091,
      Connect: { SidecarService: { Proxy: { Upstreams: [{ DestinationName: "api", LocalBindPort: 9191 }] } } },
    });
    expect(registered.status).toBe(200);
    try {
      const dc = new ExistingDatacenter("dc1-live", {
        datacenter: "dc1",
        address: dc1.httpAddress,
        token: consul.managementToken,
      });
      const live = await valueOf(dc.liveRoutePlan());
      expect(live.problems).toEqual([]);
      expect(
        live.plan.routes.map((r) => [r.source.service, r.destination.name, r.destination.datacenter, r.mode]),
      ).toEqual([["web", "api", "dc1", "none"]]);
    } finally {
      await dc1.api("PUT", "/v1/agent/service/deregister/web");
    }
  });

  test("a token without a right a component needs: each missing right named, with who needs it", async () => {
    const [dc1] = consul.datacenters;
    const created = await dc1.api("PUT", "/v1/acl/token", {
      Description: "web only",
      ServiceIdentities: [{ ServiceName: "web" }],
    });
    const weak = (created.json as { SecretID: string }).SecretID;
    const connection = { address: dc1.httpAddress, token: weak };
    const service = (segment: string) => ({ resource: "service", segment, access: "write" as const });
    expect(
      await checkRights("dc1", connection, 'ConnectService "web"', [service("web"), service("web-sidecar-proxy")]),
    ).toEqual(['service:write on "web"', 'service:write on "web-sidecar-proxy"']);
    const error = await checkRights("dc1", connection, 'MeshGateway "gw"', [
      { resource: "acl", access: "write" },
      service("api"),
    ]).then(
      () => undefined,
      (e: unknown) => e as DatacenterAccessError,
    );
    expect(error).toBeInstanceOf(DatacenterAccessError);
    expect(error?.missingRights).toEqual(["acl:write", 'service:write on "api"']);
    expect(error?.message).toBe(
      'datacenter "dc1": the token lacks acl:write, service:write on "api", which MeshGateway "gw" needs: grant it in the token\'s policy',
    );
  });

  test("a token Consul does not know: refused, naming the datacenter and the token", async () => {
    const { error } = await checkFailure("dc1", consul.datacenters[0].httpAddress, {
      token: "00000000-0000-0000-0000-000000000000",
    });
    expect(error.consulCode).toBe("E_CONSUL_HTTP_STATUS");
    expect(error.message).toMatch(/^datacenter "dc1": GET .*\/v1\/acl\/token\/self: HTTP 403.*args\.token/s);
    expect(error.message).not.toContain("00000000-0000-0000-0000-000000000000");
  });

  test("a datacenter the agent does not know: named", async () => {
    const { error } = await checkFailure("dc9", consul.datacenters[0].httpAddress, { token: consul.managementToken });
    expect(error.message).toMatch(/^datacenter "dc9": GET .*\/v1\/status\/leader\?dc=dc9: HTTP 500/);
  });

  test("nobody listening: unreachable at once", async () => {
    const [port] = await freePorts("127.0.0.1", 1);
    const { error, ms } = await checkFailure("dc1", `http://127.0.0.1:${port}`);
    expect(error.consulCode).toBe("E_CONSUL_UNREACHABLE");
    expect(error.message).toMatch(/^datacenter "dc1": GET http:\/\/127\.0\.0\.1:\d+\/v1\/status\/leader.*ECONNREFUSED/);
    expect(ms).toBeLessThan(5_000);
  });

  test("an https API whose certificate another CA signed: the CA named as what to check", async () => {
    const cert = await pki.issue(["127.0.0.1"]);
    const server = https.createServer({ key: cert.key, cert: cert.cert }, (_req, res) => res.end('"127.0.0.1:8300"'));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const { error } = await checkFailure("dc1", `https://127.0.0.1:${port}`, { caPem: otherPki.caCert });
      expect(error.consulCode).toBe("E_CONSUL_UNREACHABLE");
      expect(error.message).toMatch(/^datacenter "dc1": .*signed by the CA/);
    } finally {
      server.close();
    }
  });

  test("an API that accepts and never answers: a time-out, never a hang", async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const { error, ms } = await checkFailure("dc1", `http://127.0.0.1:${port}`);
      expect(error.consulCode).toBe("E_CONSUL_TIMEOUT");
      expect(ms).toBeLessThan(15_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });
});
