import type { LoaderFunctionArgs } from "@remix-run/node";
import { requireUser } from "../lib/session.server";

/** The manager picker's suggestions: active members whose name or externalRef starts with ?q. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const { api } = requireUser(request, context, "admin");
  const q = new URL(request.url).searchParams.get("q")?.trim().slice(0, 200) ?? "";
  const members = q ? await api.admin.members.lookup({ q }) : [];
  return Response.json(members, { headers: { "Cache-Control": "no-store" } });
}
