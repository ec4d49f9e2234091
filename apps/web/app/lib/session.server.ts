import type { SignedInUser } from "@approvalmatrix/auth";
import { hasRole } from "@approvalmatrix/core/roles";
import { type AppLoadContext, redirect } from "@remix-run/node";
import type { ApiCaller } from "../load-context";

export type Role = SignedInUser["role"];

/** The signed-in user and their caller, or a redirect to sign-in (back here afterwards). */
export function requireUser(request: Request, context: AppLoadContext, minRole: Role = "approver"): { user: SignedInUser; api: ApiCaller } {
  const session = context.session;
  if (!session || !context.api) {
    const url = new URL(request.url);
    const back = url.pathname + url.search;
    throw redirect(back === "/" ? "/sign-in" : `/sign-in?redirectTo=${encodeURIComponent(back)}`);
  }
  if (!hasRole(session.user.role, minRole)) {
    // A Response, not data(): resource routes (CSV export, import stream, preview) answer it as it
    // is, and pages show its text in the error boundary.
    throw new Response("This page is for tenant admins. Your role is approver: your inbox has what waits on you.", {
      status: 403,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  }
  return { user: session.user, api: context.api };
}

export function isAdmin(user: SignedInUser): boolean {
  return hasRole(user.role, "admin");
}

/** Where a signed-in user lands. */
export function homeFor(user: SignedInUser): string {
  return user.role === "approver" ? "/inbox" : "/requests";
}

/** Only same-site paths: never redirect to another host after sign-in. */
export function safeRedirect(to: FormDataEntryValue | string | null, fallback: string): string {
  if (typeof to !== "string" || !to.startsWith("/") || to.startsWith("//") || to.startsWith("/\\")) return fallback;
  return to;
}
