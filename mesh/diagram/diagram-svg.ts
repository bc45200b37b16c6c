/**
 * Rendering of DOT to SVG with Graphviz compiled to WebAssembly (`@viz-js/viz`): offline, no
 * Graphviz install, no browser. Here rather than in `mesh/`, which imports nothing but itself.
 */
import { instance, type Viz } from "@viz-js/viz";
import { DiagramRenderError } from "../errors";

let viz: Promise<Viz> | undefined;

/**
 * The SVG of the graph `dot` (e.g. from `routeDiagramDot`), laid out by Graphviz's `dot` engine.
 * The same input gives the same bytes. The WebAssembly module is loaded on the first call and kept.
 * Rejects with a {@link DiagramRenderError} (code `E_DIAGRAM_RENDER`) when `dot` is not valid DOT.
 * @param dot - A graph in DOT.
 */
export async function renderDiagramSvg(dot: string): Promise<string> {
  viz ??= instance();
  const result = (await viz).render(dot, { format: "svg", engine: "dot" });
  if (result.status === "failure") throw new DiagramRenderError(result.errors.map((e) => e.message));
  return result.output;
}
