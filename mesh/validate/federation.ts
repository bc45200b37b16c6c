/** What WAN federation asks of a set of datacenters, checked by `validateMesh` and by `WanFederation`. */
import type { MeshProblem } from "../errors";
import { securityOf } from "../model/security";
import type { DatacenterSpec } from "../model/types";

/**
 * The problems of federating `datacenters`: each name used once, and every datacenter naming the
 * same primary datacenter (the authority for Connect certificates) and the primary's TLS, gossip
 * encryption and ACLs (servers of one federation speak RPC and gossip to each other, and
 * replicate ACLs), each at `datacenters[i]…`.
 * @param datacenters - The datacenters.
 * @param primary - The primary they must all name (a datacenter's own `primaryDatacenter` defaults to it).
 * @param whose - Whose primary it is, for the message, e.g. `"the mesh's"`.
 */
export function federationProblems(
  datacenters: DatacenterSpec[],
  primary: string | undefined,
  whose: string,
): MeshProblem[] {
  const problems: MeshProblem[] = [];
  const seen = new Map<string, number>();
  datacenters.forEach((dc, i) => {
    const first = seen.get(dc.name);
    if (first !== undefined) {
      problems.push({
        path: `datacenters[${i}].name`,
        message:
          `datacenter name ${JSON.stringify(dc.name)} is already used by ` +
          `datacenters[${first}]: each datacenter needs a unique name`,
      });
    } else {
      seen.set(dc.name, i);
    }
    const dcPrimary = dc.primaryDatacenter ?? primary;
    if (dcPrimary !== primary) {
      problems.push({
        path: `datacenters[${i}].primaryDatacenter`,
        message:
          `primary datacenter ${JSON.stringify(dcPrimary)} differs from ${whose} ` +
          `${JSON.stringify(primary)}: every datacenter must name the same primary datacenter`,
      });
    }
  });
  const primarySpec = datacenters.find((dc) => dc.name === primary);
  if (!primarySpec) return problems;
  const reference = securityOf(primarySpec);
  const onOff = (on: boolean) => (on ? "on" : "off");
  datacenters.forEach((dc, i) => {
    const own = securityOf(dc);
    for (const [key, field] of [
      ["tls", "tls.enabled"],
      ["gossipEncryption", "gossipEncryption.enabled"],
      ["acl", "acl.enabled"],
    ] as const)
      if (own[key] !== reference[key])
        problems.push({
          path: `datacenters[${i}].${field}`,
          message:
            `${key} is ${onOff(own[key])} here and ${onOff(reference[key])} in the primary datacenter ` +
            `${JSON.stringify(primary)}: federated servers must agree on it`,
        });
  });
  return problems;
}
