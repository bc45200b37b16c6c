import { AGENT_TLS_FILES, defaultMesh, MeshValidationError, renderAgentConfig } from "../../mesh";

const KEY = Buffer.alloc(32, 7).toString("base64");

/** The mesh with TLS, gossip encryption and ACLs turned off in every datacenter. */
function insecureMesh() {
  const m = defaultMesh();
  for (const dc of m.datacenters)
    Object.assign(dc, { tls: { enabled: false }, gossipEncryption: { enabled: false }, acl: { enabled: false } });
  return m;
}

describe("renderAgentConfig", () => {
  it("renders the secure defaults in a fixed key order: TLS everywhere, gossip encryption, ACLs deny", () => {
    expect(
      JSON.stringify(renderAgentConfig(defaultMesh(), "dc2", { retryJoinWan: ["consul-dc1"], gossipKey: KEY })),
    ).toBe(
      JSON.stringify({
        datacenter: "dc2",
        primary_datacenter: "dc1",
        server: true,
        bootstrap_expect: 1,
        client_addr: "0.0.0.0",
        disable_update_check: true,
        ui_config: { enabled: true },
        connect: { enabled: true },
        ports: { http: -1, https: 8501, grpc: -1, grpc_tls: 8503 },
        tls: {
          defaults: {
            ca_file: AGENT_TLS_FILES.caFile,
            cert_file: AGENT_TLS_FILES.certFile,
            key_file: AGENT_TLS_FILES.keyFile,
            verify_incoming: true,
            verify_outgoing: true,
          },
          internal_rpc: { verify_server_hostname: true },
          https: { verify_incoming: false },
          grpc: { verify_incoming: false },
        },
        encrypt: KEY,
        encrypt_verify_incoming: true,
        encrypt_verify_outgoing: true,
        disable_keyring_file: true,
        enable_central_service_config: true,
        retry_join_wan: ["consul-dc1"],
        acl: { enabled: true, default_policy: "deny", enable_token_persistence: true },
      }),
    );
  });

  it("renders each opt-out: plain HTTP and gRPC, no gossip key, ACLs off", () => {
    expect(JSON.stringify(renderAgentConfig(insecureMesh(), "dc2", { retryJoinWan: ["consul-dc1"] }))).toBe(
      JSON.stringify({
        datacenter: "dc2",
        primary_datacenter: "dc1",
        server: true,
        bootstrap_expect: 1,
        client_addr: "0.0.0.0",
        disable_update_check: true,
        ui_config: { enabled: true },
        connect: { enabled: true },
        ports: { grpc: 8502 },
        enable_central_service_config: true,
        retry_join_wan: ["consul-dc1"],
        acl: { enabled: false },
      }),
    );
  });

  it("asks HTTPS clients for a certificate with httpsVerifyIncoming, and reads the TLS files given", () => {
    const m = defaultMesh();
    m.datacenters[0].tls = { httpsVerifyIncoming: true };
    m.datacenters[0].ports = { grpc: 8502 };
    const files = { caFile: "/x/ca.pem", certFile: "/x/c.pem", keyFile: "/x/k.pem" };
    const config = renderAgentConfig(m, "dc1", { gossipKey: KEY, tlsFiles: files });
    expect(config.tls?.https).toEqual({ verify_incoming: true });
    expect(config.tls?.defaults).toMatchObject({ ca_file: "/x/ca.pem", cert_file: "/x/c.pem", key_file: "/x/k.pem" });
    // Plaintext gRPC beside gRPC TLS only when asked for.
    expect(config.ports).toEqual({ http: -1, https: 8501, grpc: 8502, grpc_tls: 8503 });
  });

  it("refuses gossip encryption without a key, naming the option", () => {
    expect(() => renderAgentConfig(defaultMesh(), "dc1")).toThrow(/gossipKey: gossip encryption is on in "dc1"/);
  });

  it("renders ACLs, servers, ports and options from the model", () => {
    const m = insecureMesh();
    m.datacenters[0] = {
      name: "dc1",
      servers: 3,
      ports: { grpc: 8602 },
      enableCentralServiceConfig: false,
      acl: { enabled: true },
      tls: { enabled: false },
      gossipEncryption: { enabled: false },
    };
    const config = renderAgentConfig(m, "dc1", {
      initialManagementToken: "00000000-0000-0000-0000-000000000001",
      agentToken: "00000000-0000-0000-0000-000000000002",
      clientAddr: "127.0.0.1",
      ui: false,
      bindAddr: "0.0.0.0",
      dataDir: "/consul/data",
    });
    expect(JSON.stringify(config)).toBe(
      JSON.stringify({
        datacenter: "dc1",
        primary_datacenter: "dc1",
        server: true,
        bootstrap_expect: 3,
        data_dir: "/consul/data",
        bind_addr: "0.0.0.0",
        client_addr: "127.0.0.1",
        disable_update_check: true,
        ui_config: { enabled: false },
        connect: { enabled: true },
        ports: { grpc: 8602 },
        enable_central_service_config: false,
        retry_join_wan: [],
        acl: {
          enabled: true,
          default_policy: "deny",
          enable_token_persistence: true,
          tokens: {
            initial_management: "00000000-0000-0000-0000-000000000001",
            agent: "00000000-0000-0000-0000-000000000002",
          },
        },
      }),
    );
  });

  it("bootstraps ACLs in the primary only, replicates with the replication token, and never hands the management token to agents", () => {
    const m = defaultMesh();
    const token = "00000000-0000-0000-0000-00000000000a";
    expect(renderAgentConfig(m, "dc1", { initialManagementToken: token, gossipKey: KEY }).acl).toEqual({
      enabled: true,
      default_policy: "deny",
      enable_token_persistence: true,
      tokens: { initial_management: token },
    });
    expect(renderAgentConfig(m, "dc2", { initialManagementToken: token, gossipKey: KEY }).acl).toEqual({
      enabled: true,
      default_policy: "deny",
      enable_token_persistence: true,
    });
    const separate = renderAgentConfig(m, "dc2", {
      initialManagementToken: token,
      agentToken: "agent-t",
      replicationToken: "repl-t",
      gossipKey: KEY,
    });
    expect(separate.acl).toMatchObject({
      enable_token_replication: true,
      tokens: { replication: "repl-t", agent: "agent-t" },
    });
  });

  it("writes no token when none is given, and keeps an explicit allow policy", () => {
    const m = insecureMesh();
    m.datacenters[1].acl = { enabled: true, defaultPolicy: "allow" };
    expect(renderAgentConfig(m, "dc2").acl).toEqual({
      enabled: true,
      default_policy: "allow",
      enable_token_persistence: true,
    });
  });

  it("uses the mesh's primary datacenter, defaulting to the first", () => {
    const m = insecureMesh();
    delete m.primaryDatacenter;
    m.datacenters.forEach((d) => delete d.primaryDatacenter);
    expect(renderAgentConfig(m, "dc2").primary_datacenter).toBe("dc1");
  });

  it("does not share the retry_join_wan list with the caller", () => {
    const join = ["a"];
    renderAgentConfig(insecureMesh(), "dc1", { retryJoinWan: join }).retry_join_wan.push("b");
    expect(join).toEqual(["a"]);
  });

  it("refuses an unknown datacenter with a MeshValidationError", () => {
    expect(() => renderAgentConfig(defaultMesh(), "dc3")).toThrow(MeshValidationError);
  });
});

describe("renderAgentConfig cluster ID", () => {
  it("pins the trust domain through connect.ca_config.cluster_id only when Connect is on", () => {
    const id = "5fcd4b81-a2ca-405a-ac62-0fac602c1949";
    const m = insecureMesh();
    expect(renderAgentConfig(m, "dc1", { clusterId: id }).connect).toEqual({
      enabled: true,
      ca_config: { cluster_id: id },
    });
    expect(renderAgentConfig(m, "dc1").connect).toEqual({ enabled: true });
    m.datacenters[0].connect = { enabled: false };
    expect(renderAgentConfig(m, "dc1", { clusterId: id }).connect).toEqual({ enabled: false });
  });
});

describe("renderAgentConfig: WAN federation through mesh gateways", () => {
  const throughGateways = () => ({ ...defaultMesh(), wanFederation: { mode: "mesh-gateways" as const } });

  it("turns it on everywhere, tells secondaries the primary's gateways, and joins nothing over the WAN", () => {
    const primary = renderAgentConfig(throughGateways(), "dc1", { gossipKey: KEY });
    expect(primary.connect).toEqual({ enabled: true, enable_mesh_gateway_wan_federation: true });
    expect(primary.retry_join_wan).toEqual([]);
    expect(primary.primary_gateways).toBeUndefined();
    const secondary = renderAgentConfig(throughGateways(), "dc2", {
      gossipKey: KEY,
      primaryGateways: ["10.0.0.9:8443"],
    });
    expect(secondary.connect.enable_mesh_gateway_wan_federation).toBe(true);
    expect(secondary.primary_gateways).toEqual(["10.0.0.9:8443"]);
    expect(Object.keys(secondary).slice(-3)).toEqual(["retry_join_wan", "primary_gateways", "acl"]);
  });

  it("refuses a secondary without the primary's gateways, and WAN joins, naming the option", () => {
    let error: unknown;
    try {
      renderAgentConfig(throughGateways(), "dc2", { gossipKey: KEY, retryJoinWan: ["consul-dc1"] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MeshValidationError);
    expect((error as MeshValidationError).problems.map((p) => p.path)).toEqual(["retryJoinWan", "primaryGateways"]);
  });

  it("leaves gossip federation as it was", () => {
    const config = renderAgentConfig(defaultMesh(), "dc2", { gossipKey: KEY, primaryGateways: ["x:1"] });
    expect(config.connect).toEqual({ enabled: true });
    expect(config.primary_gateways).toBeUndefined();
  });
});

describe("renderAgentConfig: cluster peering", () => {
  it("writes peering only when the datacenter turns it off (Consul's default is on)", () => {
    const mesh = defaultMesh();
    expect(renderAgentConfig(mesh, "dc1", { gossipKey: KEY }).peering).toBeUndefined();
    mesh.datacenters[0].peering = { enabled: false };
    expect(renderAgentConfig(mesh, "dc1", { gossipKey: KEY }).peering).toEqual({ enabled: false });
  });
});
