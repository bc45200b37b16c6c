/**
 * The main job (`npm start`): validates the default two-datacenter mesh, prints the route
 * plan of every upstream, then runs the mesh live on loopback (a real gateway per
 * datacenter, demo TLS services) and proves each upstream's path with a TLS connection whose
 * certificate is verified end to end through the gateways.
 */
import { assertValidMesh, defaultMesh, formatRoutePlan, planRoutes } from "./mesh";
import { runLiveMesh } from "./demo/live-mesh";

async function main(): Promise<number> {
  const mesh = defaultMesh();
  assertValidMesh(mesh);
  console.log(`Default mesh: ${mesh.datacenters.map((dc) => dc.name).join(", ")} — valid.\n`);
  console.log("Route plan (what Consul never shows you):");
  console.log(formatRoutePlan(planRoutes(mesh)));

  console.log("\nLive on loopback: one gateway per datacenter, a TLS service behind every sidecar.");
  const report = await runLiveMesh(mesh);
  for (const path of report.paths) {
    const { route } = path;
    const verdict = path.ok ? "OK  " : "FAIL";
    const detail = path.ok ? `answered "${path.answer}", certificate verified for ${route.sni}` : path.error;
    console.log(`${verdict} ${route.mode.padEnd(6)} ${route.text}\n       dialled ${path.dialled}: ${detail}`);
  }
  const refusal = report.unknownName.refused ? "OK   refused" : "FAIL forwarded";
  console.log(`${refusal} unknown name ${report.unknownName.sni} (no open relay)`);
  const checks = [...report.paths.map((p) => p.ok), report.unknownName.refused];
  const proven = checks.filter(Boolean).length;
  console.log(`\n${proven} of ${checks.length} paths behave as planned.`);
  return proven === checks.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
