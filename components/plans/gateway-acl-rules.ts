/**
 * The ACL rules a mesh gateway's token needs (Consul's mesh gateway documentation, and
 * hashicorp/consul PR #6291 for `node:read`): `service:write` on its own service name to
 * register, `service:read` on every service and `node:read` on every node to route.
 */
import { hclString } from "../../mesh";

/**
 * The policy rules (HCL) for a mesh gateway registered as `serviceName`.
 * @param serviceName - The gateway's service name. Default: `"mesh-gateway"`.
 */
export function gatewayAclRules(serviceName = "mesh-gateway"): string {
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
    ``,
  ].join("\n");
}
