import { type ActionFunctionArgs, redirect } from "@remix-run/node";

export function loader() {
  throw redirect("/");
}

export async function action({ context }: ActionFunctionArgs) {
  if (!context.session) throw redirect("/sign-in");
  const blank = await context.auth.signOut(context.session.sessionId);
  throw redirect("/sign-in", { headers: { "Set-Cookie": blank } });
}
