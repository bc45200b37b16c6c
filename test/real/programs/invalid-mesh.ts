/**
 * A `ConsulMesh` program with an invalid topology, for the real engine's preview: remote and local
 * mode towards a datacenter without gateways, a duplicate local bind port and an undeclared service.
 */
import { ConsulMesh } from "../../../components";
import { defaultMesh } from "../../../mesh";

/** The program. */
export function invalidMeshProgram(): () => Promise<void> {
  return async () => {
    const mesh = defaultMesh();
    mesh.gateways = mesh.gateways?.filter((g) => g.datacenter === "dc1");
    mesh.services?.[0].connect?.sidecarService.proxy?.upstreams?.push({
      destinationName: "cache",
      datacenter: "dc2",
      localBindPort: 10000,
    });
    new ConsulMesh("mesh", mesh);
  };
}
