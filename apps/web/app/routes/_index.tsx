import { type LoaderFunctionArgs, redirect } from "@remix-run/node";
import { homeFor } from "../lib/session.server";

export function loader({ context }: LoaderFunctionArgs) {
  const user = context.session?.user;
  throw redirect(user ? homeFor(user) : "/sign-in");
}
