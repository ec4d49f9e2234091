import type { ApiContext } from "../context";
import type { RateLimitOutcome } from "./rate-limiter";

/**
 * Records the rate-limit state of a call for the response headers. In a tRPC batch the calls of
 * one HTTP request share the context and finish in any order: the state after the last counted
 * hit (a later window, or fewer remaining in the same one) wins, never an earlier figure.
 */
export function recordRateLimit(ctx: Pick<ApiContext, "response">, outcome: RateLimitOutcome): void {
  const previous = ctx.response.rateLimit;
  const later =
    !previous ||
    outcome.resetAt > previous.resetAt ||
    (outcome.resetAt === previous.resetAt && (outcome.remaining < previous.remaining || !outcome.allowed));
  if (later) ctx.response.rateLimit = outcome;
}
