// `pnpm start` runs this first: turbo builds the admin app when its inputs changed, not on every start.
import { ensureWebBuild } from "./web-build";

await ensureWebBuild();
