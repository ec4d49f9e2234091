// Builds the admin app once, before any test file starts a server from build/: a build during the
// run (a cache miss) would empty build/ under those servers.
import { ensureWebBuild } from "../src/web-build";

export default async function setup(): Promise<void> {
  await ensureWebBuild({ quiet: true });
}
