// `pnpm start` runs this first: the admin app is built when its sources changed, not on every start.
import { ensureWebBuild } from "./web-build";

console.log("Checking the admin app build…");
console.log(ensureWebBuild({ stdio: "inherit" }) ? "Admin app built." : "Admin app build is up to date.");
