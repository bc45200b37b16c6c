import { defaultMesh, MeshValidationError, renderAgentConfig } from "../../mesh";

describe("renderAgentConfig", () => {
  it("renders the default server configuration in a fixed key order", () => {
    expect(JSON.stringify(renderAgentConfig(defaultMesh(), "dc2", { retryJoinWan: ["consul-dc1"] }))).toBe(
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

  it("renders ACLs, servers, ports and options from the model", () => {
    const m = defaultMesh();
    m.datacenters[0] = {
      name: "dc1",
      servers: 3,
      ports: { grpc: 8602 },
      enableCentralServiceConfig: false,
      acl: { enabled: true },
    };
    const config = renderAgentConfig(m, "dc1", {
      initialManagementToken: "00000000-0000-0000-0000-000000000001",
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
            agent: "00000000-0000-0000-0000-000000000001",
          },
        },
      }),
    );
  });

  it("bootstraps ACLs in the primary only and replicates tokens to the secondaries", () => {
    const m = defaultMesh();
    m.datacenters.forEach((d) => (d.acl = { enabled: true }));
    const token = "00000000-0000-0000-0000-00000000000a";
    expect(renderAgentConfig(m, "dc1", { initialManagementToken: token }).acl).toEqual({
      enabled: true,
      default_policy: "deny",
      enable_token_persistence: true,
      tokens: { initial_management: token, agent: token },
    });
    expect(renderAgentConfig(m, "dc2", { initialManagementToken: token }).acl).toEqual({
      enabled: true,
      default_policy: "deny",
      enable_token_persistence: true,
      enable_token_replication: true,
      tokens: { replication: token, agent: token },
    });
    const separate = renderAgentConfig(m, "dc2", {
      initialManagementToken: token,
      agentToken: "agent-t",
      replicationToken: "repl-t",
    });
    expect(separate.acl.tokens).toEqual({ replication: "repl-t", agent: "agent-t" });
  });

  it("writes no token when none is given, and keeps an explicit allow policy", () => {
    const m = defaultMesh();
    m.datacenters[1].acl = { enabled: true, defaultPolicy: "allow" };
    expect(renderAgentConfig(m, "dc2").acl).toEqual({
      enabled: true,
      default_policy: "allow",
      enable_token_persistence: true,
    });
  });

  it("uses the mesh's primary datacenter, defaulting to the first", () => {
    const m = defaultMesh();
    delete m.primaryDatacenter;
    m.datacenters.forEach((d) => delete d.primaryDatacenter);
    expect(renderAgentConfig(m, "dc2").primary_datacenter).toBe("dc1");
  });

  it("does not share the retry_join_wan list with the caller", () => {
    const join = ["a"];
    renderAgentConfig(defaultMesh(), "dc1", { retryJoinWan: join }).retry_join_wan.push("b");
    expect(join).toEqual(["a"]);
  });

  it("refuses an unknown datacenter with a MeshValidationError", () => {
    expect(() => renderAgentConfig(defaultMesh(), "dc3")).toThrow(MeshValidationError);
  });
});

describe("renderAgentConfig cluster ID", () => {
  it("pins the trust domain through connect.ca_config.cluster_id only when Connect is on", () => {
    const id = "5fcd4b81-a2ca-405a-ac62-0fac602c1949";
    const m = defaultMesh();
    expect(renderAgentConfig(m, "dc1", { clusterId: id }).connect).toEqual({
      enabled: true,
      ca_config: { cluster_id: id },
    });
    expect(renderAgentConfig(m, "dc1").connect).toEqual({ enabled: true });
    m.datacenters[0].connect = { enabled: false };
    expect(renderAgentConfig(m, "dc1", { clusterId: id }).connect).toEqual({ enabled: false });
  });
});
