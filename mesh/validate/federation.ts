/** What WAN federation asks of a set of datacenters, checked by `validateMesh` and by `WanFederation`. */
import type { MeshProblem } from "../errors";
import type { DatacenterSpec } from "../model/types";

/**
 * The problems of federating `datacenters`: each name used once, and every datacenter naming the
 * same primary datacenter (the authority for Connect certificates), each at `datacenters[i]…`.
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
  return problems;
}
