/** Docker image references, as Docker reads them, and the platform images are built for. */

/**
 * `[host[:port]/]repository[:tag]`: a first component is a registry host when it has a dot or
 * a port or is `localhost` (as Docker reads it); path components are lower case.
 */
const IMAGE_REFERENCE =
  /^(?:(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+)(?::[0-9]+)?\/|[a-zA-Z0-9-]+:[0-9]+\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/;

/** Whether `value` is an image reference: `[host[:port]/]repository[:tag]`, or any of those `@sha256:<digest>`. */
export function isImageReference(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const digest = /@sha256:[0-9a-f]{64}$/.exec(value);
  return IMAGE_REFERENCE.test(digest ? value.slice(0, digest.index) : value);
}

/** Whether `value` is an image name to build under: `[host[:port]/]repository[:tag]`, no digest. */
export function isImageName(value: unknown): boolean {
  return typeof value === "string" && IMAGE_REFERENCE.test(value);
}

/**
 * The platform images are built for unless told otherwise: this machine's (`linux/amd64`,
 * `linux/arm64`), said explicitly so that the Docker provider does not warn on every preview.
 */
export function hostPlatform(): string {
  return `linux/${process.arch === "x64" ? "amd64" : process.arch}`;
}
