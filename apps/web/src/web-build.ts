import { ensureBuild } from "../scripts/ensure-build.mjs";

/** Builds the admin app and the compiled server through turbo (cached); see scripts/ensure-build.mjs. */
export async function ensureWebBuild(options: { quiet?: boolean } = {}): Promise<void> {
  await ensureBuild(options);
}
