/**
 * The router an API key can call, as the client sees it: the server's `requests.*` procedures
 * (their inputs, outputs and error shape) without the server's context, meta or the admin app's
 * procedures. In the workspace this is computed from `@approvalmatrix/api` directly; the package's
 * build (scripts/build.ts) prints the same type out as plain literals, so the published
 * declarations carry no import of the server, zod or the database.
 */
import type { AppRouter as ServerRouter } from "@approvalmatrix/api";
import type { TRPCBuiltRouter } from "@trpc/server";

type ServerTypes = ServerRouter["_def"]["_config"]["$types"];

export type AppRouter = TRPCBuiltRouter<
  { ctx: object; meta: object; errorShape: ServerTypes["errorShape"]; transformer: ServerTypes["transformer"] },
  Omit<ServerRouter["_def"]["record"], "admin">
>;
