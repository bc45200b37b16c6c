/**
 * The route diagram as a person sees it: rendered to SVG, laid out by headless Chromium, screenshot
 * to PNG, and no two labels overlapping, for the default stack and a 10-datacenter, 200-service
 * mesh. Needs Debian's `chromium` (`.ci/run` installs it); fails without it, never skips.
 * `CONSUL_MESH_DIAGRAM_PNG_DIR` keeps the screenshots there (default: a temporary directory, removed).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { defaultMesh, planRoutes, routeDiagramDot, type Mesh } from "../../mesh";
import { renderDiagramSvg } from "../../mesh/diagram/diagram-svg";
import { chromiumVersion, measureTextOverlaps, screenshotSvg } from "../support/chromium";
import { largeMesh } from "../support/large-mesh";

const keep = process.env.CONSUL_MESH_DIAGRAM_PNG_DIR;
const dir = keep ? (mkdirSync(keep, { recursive: true }), keep) : mkdtempSync(path.join(os.tmpdir(), "diagram-png-"));
afterAll(() => {
  if (!keep) rmSync(dir, { recursive: true, force: true });
});

/** Width and height from a PNG's IHDR chunk, or undefined when `bytes` is not a PNG. */
function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!bytes.subarray(0, 8).equals(signature) || bytes.toString("latin1", 12, 16) !== "IHDR") return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

const svgOf = (mesh: Mesh) => renderDiagramSvg(routeDiagramDot(mesh, planRoutes(mesh)));

describe("the route diagram in headless Chromium", () => {
  it("needs Chromium", () => {
    expect(chromiumVersion()).toMatch(/^Chromium \d+\./);
  });

  it("finds overlapping labels when there are some", async () => {
    const text = (x: number, y: number, content: string) =>
      `<text x="${x}" y="${y}" font-family="Helvetica">${content}</text>`;
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="200pt" height="100pt" viewBox="0 0 200 100">' +
      `${text(10, 20, "svc-1")}${text(14, 24, "svc-2")}${text(10, 80, "apart")}</svg>`;
    const layout = await measureTextOverlaps(svg);
    expect(layout.texts).toBe(3);
    expect(layout.overlaps.map((o) => o.texts)).toEqual([["svc-1", "svc-2"]]);
  }, 120_000);

  it.each([
    ["default-stack", () => defaultMesh()],
    ["10-datacenters-200-services", () => largeMesh({ datacenters: 10, services: 200, upstreamsPerService: 2 })],
  ])(
    "%s: a PNG of the whole diagram, and no two labels overlap",
    async (name, mesh) => {
      const svg = await svgOf(mesh());
      const png = path.join(dir, `${name}.png`);
      const window = await screenshotSvg(svg, png);
      const bytes = readFileSync(png);
      expect(pngSize(bytes)).toEqual(window);
      // A blank page of that size compresses to a few kilobytes; a drawing does not.
      expect(statSync(png).size).toBeGreaterThan(20_000);

      const layout = await measureTextOverlaps(svg);
      expect(layout.texts).toBe(svg.match(/<text\b/g)?.length);
      expect(layout.empty).toBe(0);
      expect(layout.overlaps).toEqual([]);
    },
    120_000,
  );
});
