/**
 * The secure defaults against real Consul 1.16.3: TLS on the HTTPS API, gRPC and server RPC
 * (certificates from `consul-secrets.ts`), gossip encryption and ACLs with `default_policy =
 * deny`, as `renderAgentConfig` writes them. Our gateways (with exactly `gatewayAclRules`) and
 * Consul's Envoy sidecars carry web → api in every mode over TLS; what is not allowed is refused.
 */
import { promises as fs } from "node:fs";
import net from "node:net";
import path from "node:path";
import { createCertificateAuthority, createGossipKey } from "../../components/dynamic/consul-secrets";
import { DatacenterAccessError } from "../../components/errors";
import { checkDatacenter } from "../../components/existing-datacenter";
import { gatewayAclRules } from "../../mesh/render/gateway-acl-rules";
import { eventually, freePorts, TestProcess, toolPath } from "../support/processes";
import { agentSecurityOf, SECURE_AGENT, type RealConsul } from "../support/real-consul";
import { WebApiMesh } from "../support/web-api-mesh";

jest.setTimeout(240_000);

/** A token with a policy of `rules`, made in the primary. */
async function tokenWithRules(consul: RealConsul, name: string, rules: string): Promise<string> {
  const dc1 = consul.dc("dc1");
  const policy = await dc1.api("PUT", "/v1/acl/policy", { Name: name, Rules: rules });
  if (policy.status !== 200) throw new Error(`policy ${name}: ${policy.status} ${policy.text}`);
  const token = await dc1.api("PUT", "/v1/acl/token", { Description: name, Policies: [{ Name: name }] });
  if (token.status !== 200) throw new Error(`token ${name}: ${token.status} ${token.text}`);
  return (token.json as { SecretID: string }).SecretID;
}

/** Figures for the note. */
const figures: string[] = [];
afterAll(() => {
  if (figures.length) process.stdout.write(`\nsecure mesh figures:\n${figures.join("\n")}\n`);
});

describe("a secure mesh: TLS, gossip encryption, ACLs deny by default", () => {
  const mesh = new WebApiMesh({
    gateways: { dc1: "ours", dc2: "ours" },
    acl: true,
    secure: true,
    gatewayToken: (consul) => tokenWithRules(consul, "mesh-gateway", gatewayAclRules("mesh-gateway")),
  });
  beforeAll(() => mesh.start(), 180_000);
  afterAll(() => mesh.stop());

  test("the servers run with TLS, gossip encryption and ACLs, as read back from /v1/agent/self", async () => {
    for (const dc of [mesh.dc1, mesh.dc2]) {
      const self = agentSecurityOf((await dc.api("GET", "/v1/agent/self")).json);
      const read = {
        ...self,
        HTTPSPort: self.HTTPSPort === dc.ports.http,
        GRPCTLSPort: self.GRPCTLSPort === dc.ports.grpc,
      };
      figures.push(`${dc.name} /v1/agent/self: ${JSON.stringify(read)}`);
      expect(read).toEqual({ ...SECURE_AGENT, HTTPSPort: true, GRPCTLSPort: true });
    }
  });

  test.each(["none", "remote", "local"] as const)("web reaches api over the mesh in %s mode", async (mode) => {
    if (mode === "none") await mesh.setMode(undefined);
    else await mesh.setMode("upstream", mode);
    await mesh.awaitEndpoint(mode);
    const results = await eventually(
      `5 answers in ${mode} mode`,
      async () => {
        const r = await mesh.requests(5);
        return r.every((x) => x.ok) && r;
      },
      { timeoutMs: 30_000 },
    );
    expect(results.map((r) => r.body)).toEqual(Array(5).fill("api in dc2\n"));
    figures.push(`${mode}: 5/5 requests, ${results.map((r) => r.ms.toFixed(1)).join(" ")} ms`);
  });

  test("plain HTTP to the API is refused, and so is a server certificate from another CA", async () => {
    const plain = await fetch(`http://${mesh.dc1.host}:${mesh.dc1.ports.http}/v1/status/leader`);
    expect(plain.status).toBe(400);
    expect(await plain.text()).toMatch(/HTTP request to an HTTPS server/);
    // Node's own trust store does not know the mesh's CA.
    const untrusted = await fetch(`https://${mesh.dc1.host}:${mesh.dc1.ports.http}/v1/status/leader`).catch(
      (error: Error & { cause?: { code?: string } }) => error.cause?.code,
    );
    expect(untrusted).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT/);
    figures.push(`plain HTTP: ${plain.status}; unknown CA: ${untrusted}`);
  });

  test("a wrong CA: the datacenter check fails at once, naming the datacenter and the CA", async () => {
    const other = await createCertificateAuthority();
    const started = Date.now();
    const error = await checkDatacenter("dc1", { address: mesh.dc1.httpAddress, ca: other.caPem }).catch((e) => e);
    const ms = Date.now() - started;
    expect(error).toBeInstanceOf(DatacenterAccessError);
    expect((error as Error).message).toMatch(/^datacenter "dc1": .*CA/);
    expect(ms).toBeLessThan(5_000);
    figures.push(`wrong CA: ${(error as Error).message} (${ms} ms)`);
  });

  test("requests without a token are refused", async () => {
    const register = await mesh.dc1.api("PUT", "/v1/agent/service/register", { Name: "intruder", Port: 1 }, "");
    const tokens = await mesh.dc1.api("GET", "/v1/acl/tokens", undefined, "");
    const config = await mesh.dc1.api("PUT", "/v1/config", { Kind: "service-defaults", Name: "x" }, "");
    expect([register.status, tokens.status, config.status]).toEqual([403, 403, 403]);
    expect(register.text).toMatch(/Permission denied/);
    figures.push(`no token: register ${register.status}, list tokens ${tokens.status}, write config ${config.status}`);
  });

  test("a gateway's token writes its own service only, and cannot read ACLs", async () => {
    const token = mesh.gatewayToken as string;
    const own = await mesh.dc1.api(
      "PUT",
      "/v1/agent/service/register",
      { Kind: "mesh-gateway", Name: "mesh-gateway", ID: "mesh-gateway-probe", Port: 1 },
      token,
    );
    expect(own.status).toBe(200);
    expect(
      (await mesh.dc1.api("PUT", "/v1/agent/service/deregister/mesh-gateway-probe", undefined, token)).status,
    ).toBe(200);
    const other = await mesh.dc1.api("PUT", "/v1/agent/service/register", { Name: "web", ID: "web-2", Port: 1 }, token);
    const acl = await mesh.dc1.api("GET", "/v1/acl/tokens", undefined, token);
    const intention = await mesh.dc1.api(
      "PUT",
      "/v1/config",
      { Kind: "service-intentions", Name: "api", Sources: [{ Name: "*", Action: "allow" }] },
      token,
    );
    expect([other.status, acl.status, intention.status]).toEqual([403, 403, 403]);
    figures.push(
      `gateway token: own service 200, web ${other.status}, ACL list ${acl.status}, intention ${intention.status}`,
    );
    const logs = mesh.gateways.dc1.process.log() + mesh.gateways.dc2.process.log();
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(mesh.consul.managementToken as string);
  });

  test("a pair with no intention is refused end to end, the declared one passes", async () => {
    await mesh.setMode("upstream", "remote");
    await mesh.awaitEndpoint("remote");
    expect((await mesh.requests(1))[0].ok).toBe(true);
    // Under default_policy deny, no intention is a deny.
    expect((await mesh.dc1.api("DELETE", "/v1/config/service-intentions/api")).status).toBe(200);
    const started = Date.now();
    await eventually("web → api to be refused", async () => !(await mesh.requests(1))[0].ok, { timeoutMs: 30_000 });
    const served = mesh.api.served;
    expect((await mesh.requests(3)).every((r) => !r.ok)).toBe(true);
    expect(mesh.api.served).toBe(served);
    figures.push(`no intention: refused ${Date.now() - started} ms after the intention went, 3/3 refused`);
    const allow = { Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "allow" }] };
    expect((await mesh.dc1.api("PUT", "/v1/config", allow)).status).toBe(200);
    await eventually("web → api to pass again", async () => (await mesh.requests(1))[0].ok, { timeoutMs: 30_000 });
  });

  test.each([
    ["without the gossip key", undefined],
    ["with another gossip key", "other"],
  ])("an agent joining %s is refused", async (_label, key) => {
    const dc1 = mesh.dc1;
    const host = dc1.host.replace(/\.1$/, ".3");
    const [serfLan] = await freePorts(host, 1);
    const dir = await fs.mkdtemp(path.join(mesh.consul.workDir, "intruder-"));
    const node = `intruder-${key ? "wrong-key" : "no-key"}`;
    const config = {
      node_name: node,
      datacenter: "dc1",
      data_dir: path.join(dir, "data"),
      bind_addr: host,
      advertise_addr: host,
      ports: { http: -1, https: -1, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: serfLan, serf_wan: -1 },
      retry_join: [`${dc1.host}:${dc1.ports.serfLan}`],
      retry_interval: "1s",
      ...(key ? { encrypt: await createGossipKey() } : {}),
    };
    await fs.writeFile(path.join(dir, "agent.json"), JSON.stringify(config));
    const intruder = TestProcess.start(
      node,
      toolPath("consul"),
      ["agent", "-config-file", path.join(dir, "agent.json")],
      {
        logFile: path.join(dir, "consul.log"),
      },
    );
    try {
      const line = await eventually(
        "the join to fail",
        () =>
          intruder
            .log()
            .split("\n")
            .find((l) => /Failed to join|failed to join/i.test(l)),
        { timeoutMs: 30_000, describe: () => intruder.tail(20) },
      );
      const members = (await dc1.api("GET", "/v1/agent/members")).json as Array<{ Name: string }>;
      expect(members.map((m) => m.Name)).not.toContain(node);
      figures.push(`agent ${_label}: ${line.trim().slice(0, 200)}`);
    } finally {
      await intruder.stop("SIGKILL");
    }
  });

  test("server RPC refuses a client without a certificate of the CA", async () => {
    // The RPC port's first byte names the protocol; 0x04 asks for TLS, which verify_incoming
    // completes only with a certificate the CA signed. A plaintext RPC (0x00) is closed at once.
    const closed = await new Promise<boolean>((resolve) => {
      const socket = net.connect(mesh.dc1.ports.server, mesh.dc1.host, () => socket.write(Buffer.from([0x00, 0x81])));
      socket.setTimeout(5000, () => resolve(false));
      socket.on("close", () => resolve(true));
      socket.on("error", () => resolve(true));
    });
    expect(closed).toBe(true);
  });
});
