/**
 * Service definitions as HCL in the form of Consul's documentation:
 * `service { name = "web" … proxy { … upstreams = [ { … } ] } }`, snake_case keys,
 * two-space indentation. Written from the registration JSON (`registration.ts` holds the one
 * table of fields): each key in snake_case, each nested object a block, `Upstreams` a list of
 * objects, as Consul's agent reads a config file.
 */
import { snakeKey } from "../model/consul-config-keys";
import { renderHcl, type HclNode } from "./hcl";
import { toServiceRegistration, type RegistrableService } from "./registration";

/** Registration fields written as blocks (`proxy { … }`); `Config` and `Meta` are values. */
const BLOCKS = new Set(["Proxy", "Connect", "SidecarService", "MeshGateway"]);

function nodesOf(json: object): HclNode[] {
  return Object.entries(json).map(([key, value]): HclNode => {
    const name = snakeKey(key);
    if (BLOCKS.has(key)) return { block: name, body: nodesOf(value as object) };
    if (key === "Upstreams") return { attr: name, objects: (value as object[]).map(nodesOf) };
    return { attr: name, value };
  });
}

/**
 * The HCL service definition for `def`, as Consul's agent reads it from a config file: the
 * fields of {@link toServiceRegistration}, so unset fields are omitted, as is a `mesh_gateway`
 * whose mode is `""`, and a `MeshService`'s `namespace`/`partition` are written only when not
 * `"default"`. Deterministic; never throws on input of the declared type (check untyped input
 * with `validateMesh` first).
 * @param def - The service definition (a `MeshService` is accepted).
 */
export function toServiceHcl(def: RegistrableService): string {
  return renderHcl([{ block: "service", body: nodesOf(toServiceRegistration(def)) }]) + "\n";
}
