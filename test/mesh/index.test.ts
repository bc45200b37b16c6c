import * as mesh from "../../mesh";

describe("mesh/ index", () => {
  it("exports the functions the issue names", () => {
    for (const name of [
      "resolveMeshGatewayMode",
      "serviceSni",
      "gatewaySni",
      "parseSni",
      "toServiceRegistration",
      "fromServiceRegistration",
      "toServiceHcl",
      "toConfigEntry",
      "toConfigEntryHcl",
      "validateMesh",
      "assertValidMesh",
      "planRoutes",
      "formatRoutePlan",
      "renderGatewayRoutes",
      "renderAgentConfig",
      "toGatewayRegistration",
      "defaultMesh",
    ]) {
      expect(typeof (mesh as Record<string, unknown>)[name]).toBe("function");
    }
    expect(new mesh.MeshValidationError([{ path: "p", message: "m" }]).code).toBe("E_MESH_INVALID");
  });
});
