import { defaultMesh, planRoutes, routeDiagramDot } from "../../mesh";
import { DiagramRenderError } from "../../mesh/errors";
import { renderDiagramSvg } from "../../mesh/diagram/diagram-svg";

describe("renderDiagramSvg", () => {
  const dot = routeDiagramDot(defaultMesh(), planRoutes(defaultMesh()));

  it("renders the route diagram to an SVG document with its labels, offline", async () => {
    const svg = await renderDiagramSvg(dot);
    expect(svg).toMatch(/^<\?xml [^>]*\?>\n<!DOCTYPE svg [^>]*>\n/);
    expect(svg).toMatch(/<svg width="\d+pt" height="\d+pt"/);
    expect(svg).toContain(">web</text>");
    expect(svg).toContain("> mesh&#45;gateway&#45;dc2:8443</text>");
    expect(svg.trimEnd()).toMatch(/<\/svg>$/);
  });

  it("gives the same bytes for the same graph", async () => {
    expect(await renderDiagramSvg(dot)).toBe(await renderDiagramSvg(dot));
  });

  it("rejects a graph Graphviz cannot read with DiagramRenderError, its messages and code", async () => {
    const rendering = renderDiagramSvg("digraph { a -> }");
    await expect(rendering).rejects.toBeInstanceOf(DiagramRenderError);
    const messages = [expect.stringContaining("syntax error")];
    await expect(rendering).rejects.toMatchObject({ code: "E_DIAGRAM_RENDER", messages });
    // The instance stays usable.
    expect(await renderDiagramSvg(dot)).toContain(">web</text>");
  });
});
