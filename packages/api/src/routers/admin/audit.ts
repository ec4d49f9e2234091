import { tenantProcedure } from "../../procedures";
import { listAuditLog } from "../../services/audit-log/list-audit-log";
import { router } from "../../trpc";
import { auditListInput, auditPage } from "./audit.schemas";

export const auditRouter = router({
  /** Newest first; `before` is the previous page's nextCursor. */
  list: tenantProcedure("admin")
    .input(auditListInput)
    .output(auditPage)
    .query(({ ctx, input }) => listAuditLog(ctx.deps.db, ctx.tenantId, input)),
});
