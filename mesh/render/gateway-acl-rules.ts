/**
 * The ACL rules a mesh gateway's token needs (Consul's mesh gateway documentation, and
 * hashicorp/consul PR #6291 for `node:read`): `service:write` on its own service name to
 * register, `service:read` on every service and `node:read` on every node to route; for cluster
 * peering, `peering:read` (the peerings, their imported services) and `mesh:read` (the `mesh` and
 * `exported-services` entries), as Consul's own mesh gateway policy grants.
 */
import { DEFAULT_GATEWAY_NAME } from "../model/defaults";
import { hclString } from "./hcl";

/** The same rights in words, for the errors of a gateway whose token lacks them. */
export const GATEWAY_TOKEN_RIGHTS =
  "a mesh gateway's token needs service:write on its own name, service:read on every service, node:read on every node";

/**
 * The policy rules (HCL) for a mesh gateway registered as `serviceName`.
 * @param serviceName - The gateway's service name. Default: `"mesh-gateway"`.
 */
export function gatewayAclRules(serviceName = DEFAULT_GATEWAY_NAME): string {
  return [
    `service ${hclString(serviceName)} {`,
    `  policy = "write"`,
    `}`,
    `service_prefix "" {`,
    `  policy = "read"`,
    `}`,
    `node_prefix "" {`,
    `  policy = "read"`,
    `}`,
    `peering = "read"`,
    `mesh = "read"`,
    ``,
  ].join("\n");
}
