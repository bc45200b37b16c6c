import { MeshValidationError } from "../../mesh";

/** Runs `fn`, expects it to throw a {@link MeshValidationError}, and returns the field paths it names. */
export function problemPaths(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MeshValidationError);
    return (e as MeshValidationError).problems.map((p) => p.path);
  }
  throw new Error("expected a MeshValidationError");
}
