import { type LoaderFunctionArgs, type MetaFunction, data } from "@remix-run/node";
import { PageError } from "../components/route-error";

export const meta: MetaFunction = () => [{ title: "Page not found · ApprovalMatrix" }];

/** Any unknown address of a signed-in user: a 404 page inside the layout, with the navigation. */
export function loader(_: LoaderFunctionArgs) {
  throw data("There is nothing at this address. It may have been moved or deleted.", { status: 404 });
}

export default function NotFound() {
  return null;
}

export { PageError as ErrorBoundary };
