/**
 * The images a stack runs, from its configuration (`readStackConfig`): the gateway image (built
 * from this package, or published), the sidecar image (built on `consulImage` and `envoyImage`,
 * or published) and the demo services' image (the gateway image unless `appImage` is set). One
 * recipe for the default stack and every example.
 */
import * as pulumi from "@pulumi/pulumi";
import { GatewayImage } from "../images/gateway-image";
import { SidecarImage } from "../images/sidecar-image";
import type { StackConfig } from "./stack-config";

/** The images of a stack, as references its containers follow. */
export interface StackImages {
  /** The gateway image. */
  gateway: pulumi.Output<string>;
  /** The sidecar image, when asked for. */
  sidecar?: pulumi.Output<string>;
  /** The demo services' image. */
  app: pulumi.Output<string>;
}

/**
 * Declares the images of a stack: `gateway-image` and, with `sidecar`, `sidecar-image`.
 * @param config - The stack configuration.
 * @param options - `sidecar`: also the sidecar image (stacks that run workloads). Default: `{ sidecar: false }`.
 */
export function stackImages(config: StackConfig, options: { sidecar?: boolean } = {}): StackImages {
  const gateway = new GatewayImage(
    "gateway-image",
    // A published image by its ID (pulled, or found locally), so that containers are not replaced on every `pulumi up`.
    config.gatewayImage !== undefined
      ? { image: config.gatewayImage, pull: true }
      : { context: config.gatewayImageContext, baseImage: config.gatewayBaseImage },
  ).imageRef;
  const sidecar = options.sidecar
    ? new SidecarImage(
        "sidecar-image",
        config.sidecarImage !== undefined
          ? { image: config.sidecarImage }
          : { consulImage: config.consulImage, envoyImage: config.envoyImage },
      ).imageRef
    : undefined;
  const app = config.appImage !== undefined ? pulumi.output(config.appImage) : gateway;
  return { gateway, sidecar, app };
}
