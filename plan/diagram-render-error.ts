/** The error thrown when Graphviz cannot render a diagram. */

/** Thrown by `renderDiagramSvg` when Graphviz rejects its input; `messages` are Graphviz's own. */
export class DiagramRenderError extends Error {
  /** Stable error code. */
  readonly code = "E_DIAGRAM_RENDER";
  /** What Graphviz reported, in its order. */
  readonly messages: string[];

  /**
   * @param messages - Graphviz's error and warning messages.
   */
  constructor(messages: string[]) {
    super(`Graphviz could not render the diagram: ${messages.join("; ") || "no message"}`);
    this.name = "DiagramRenderError";
    this.messages = messages;
  }
}
