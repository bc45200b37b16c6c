/** Types of `js-hcl-parser` (HashiCorp's HCL 1 parser compiled to JavaScript), which ships none. */
declare module "js-hcl-parser" {
  /** The document as a JSON string, or, when it does not parse, an error message (it does not throw). */
  export function parse(hcl: string): string;
}
