import type { SignedInUser } from "@approvalmatrix/auth";
import { hasRole } from "@approvalmatrix/core/roles";
import { type AppLoadContext, redirect } from "@remix-run/node";
import type { ApiCaller } from "../load-context";

export type Role = SignedInUser["role"];

/** Where a user who signed in with a one-time password must choose their own first. */
export const CHANGE_PASSWORD_PATH = "/account";

/**
 * The signed-in user and their caller, or a redirect to sign-in (back here afterwards). A user
 * still on a one-time password is sent to choose their own before any other page or action.
 */
export function requireUser(request: Request, context: AppLoadContext, minRole: Role = "approver"): { user: SignedInUser; api: ApiCaller } {
  const session = context.session;
  if (!session || !context.api) {
    const url = new URL(request.url);
    const back = url.pathname + url.search;
    throw redirect(back === "/" ? "/sign-in" : `/sign-in?redirectTo=${encodeURIComponent(back)}`);
  }
  if (session.user.mustChangePassword && new URL(request.url).pathname !== CHANGE_PASSWORD_PATH) {
    throw redirect(CHANGE_PASSWORD_PATH);
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
export function homeFor(user: Pick<SignedInUser, "role" | "mustChangePassword">): string {
  if (user.mustChangePassword) return CHANGE_PASSWORD_PATH;
  return user.role === "approver" ? "/inbox" : "/requests";
}

/**
 * The path to go back to after sign-in, or null: only a path of this origin, as the URL parser
 * (the browser's) reads it. Prefix checks are not enough: browsers drop TAB and newlines, so
 * `/\t/evil.example` is `//evil.example`, another host; a newline would also break the header.
 * The path is parsed against the app's origin, must stay on it, and is re-serialized; the result
 * must read back to itself (`/.//evil.example` serializes to `//evil.example`, which does not).
 */
export function safeRedirect(to: FormDataEntryValue | string | null, origin: string): string | null {
  if (typeof to !== "string" || !to.startsWith("/")) return null;
  const sameOriginPath = (candidate: string): string | null => {
    try {
      const url = new URL(candidate, origin);
      return url.origin === new URL(origin).origin ? url.pathname + url.search + url.hash : null;
    } catch {
      return null;
    }
  };
  const path = sameOriginPath(to);
  return path !== null && path.startsWith("/") && sameOriginPath(path) === path ? path : null;
}
