/** Field types shared by the env schema's sections. */
import { z } from "zod";
import { imageProblem, PIN_FIX } from "../lib/image.js";

/**
 * A container image pinned by tag or digest: `registry/repo:tag`, `registry/repo@sha256:<64 hex>` or
 * both. `latest` and untagged images are refused: they make deployments unrepeatable.
 */
export const pinnedImage = z.string().superRefine((value, ctx) => {
  const problem = imageProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: `${problem}. Fix: ${PIN_FIX}` });
});
