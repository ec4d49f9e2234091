/**
 * One HTTP attempt of a webhook, behind the SSRF guard. node:http(s) rather than fetch: its
 * `lookup` hook lets the guard judge every address a host name resolves to on this very attempt
 * and hand the socket exactly the address it judged (no second resolution an attacker's DNS could
 * answer differently). Redirects are never followed (node:http does not), and the whole attempt,
 * body included, has one deadline.
 */
import { lookup as dnsLookup } from "node:dns";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import { WEBHOOK_RESPONSE_SNIPPET_BYTES, type WebhookUrlPolicy, checkWebhookAddress, checkWebhookUrl } from "@approvalmatrix/core";

export interface WebhookSettings extends WebhookUrlPolicy {
  /** Deadline of one attempt (15 s; tests shorten it). */
  timeoutMs: number;
}

export interface AttemptResult {
  /** The receiver's status; null when no response came (refused address, timeout, connection error). */
  status: number | null;
  /** The first KB of the response body. */
  body: string | null;
  headers: Record<string, string | string[] | undefined>;
  error: string | null;
  durationMs: number;
}

/** Resolves a host name to every address it has (dns.lookup; tests inject their own). */
export type HostResolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: HostResolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

/**
 * Connections to receivers are kept alive and reused: a TLS handshake per delivery cost more CPU
 * than everything else a delivery does. A pooled socket was judged by the guard when it was made
 * (it is connected to that address: a later DNS answer cannot move it); idle ones close after 30 s.
 */
const KEEP_ALIVE = { keepAlive: true, maxSockets: 32, maxFreeSockets: 32, timeout: 30_000, scheduling: "lifo" } as const;
const agents = { http: new HttpAgent(KEEP_ALIVE), https: new HttpsAgent(KEEP_ALIVE) };

/** Refused by the guard: never retried sooner than the schedule, and said so in the attempt log. */
class RefusedAddress extends Error {}

function guardedLookup(policy: WebhookUrlPolicy, resolver: HostResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolver(hostname).then(
      (addresses) => {
        // One forbidden answer refuses the host: a name that also resolves inward is not a receiver.
        const refused = addresses.map((a) => checkWebhookAddress(a.address, policy)).find((v) => !v.allowed);
        if (refused?.allowed === false) return callback(new RefusedAddress(`${hostname}: ${refused.reason}`), "", 0);
        const first = addresses[0];
        if (!first) return callback(new Error(`${hostname} has no address`), "", 0);
        // Exactly the judged addresses go to the socket: no second resolution.
        if (options.all) return (callback as unknown as (e: null, a: typeof addresses) => void)(null, addresses);
        callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
}

export async function sendWebhookAttempt(
  url: string,
  headers: Record<string, string>,
  body: string,
  settings: WebhookSettings,
  resolver: HostResolver = systemResolver,
): Promise<AttemptResult> {
  const started = performance.now();
  // Judged on every attempt, pooled connection or not: a name rebound to a forbidden address is
  // refused now, even while a connection made to its earlier (allowed) address is still open.
  const hostname = URL.canParse(url) ? new URL(url).hostname.replace(/^\[|\]$/g, "") : "";
  if (hostname && !isIP(hostname)) {
    const refusal = await new Promise<string | null>((resolve) =>
      guardedLookup(settings, resolver)(hostname, { all: true }, (error) =>
        resolve(error instanceof RefusedAddress ? `refused: ${error.message}` : null),
      ),
    );
    if (refusal) return { status: null, body: null, headers: {}, error: refusal, durationMs: Math.round(performance.now() - started) };
  }
  const first = await sendOnce(url, headers, body, settings, resolver, started);
  // A pooled connection the receiver closed just as it was reused: that is not the receiver's
  // answer. Once more on a new connection, within the same deadline (Node's documented pattern).
  if (first.staleSocket) return (await sendOnce(url, headers, body, settings, resolver, started)).result;
  return first.result;
}

function sendOnce(
  url: string,
  headers: Record<string, string>,
  body: string,
  settings: WebhookSettings,
  resolver: HostResolver,
  started: number,
): Promise<{ result: AttemptResult; staleSocket?: true }> {
  const elapsed = () => Math.round(performance.now() - started);
  const failed = (error: string): AttemptResult => ({ status: null, body: null, headers: {}, error, durationMs: elapsed() });

  const verdict = checkWebhookUrl(url, settings);
  if (!verdict.allowed) return Promise.resolve({ result: failed(`refused: ${verdict.reason}`) });
  const target = new URL(url);
  const literal = target.hostname.replace(/^\[|\]$/g, "");
  const deadline = Math.max(1, settings.timeoutMs - elapsed());

  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: AttemptResult, staleSocket = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(staleSocket ? { result, staleSocket } : { result });
    };
    const secure = target.protocol === "https:";
    const send = secure ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: "POST",
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "user-agent": "ApprovalMatrix-Webhooks/1",
        },
        // IP literals are judged by checkWebhookUrl above (Node skips lookup for them).
        ...(isIP(literal) ? {} : { lookup: guardedLookup(settings, resolver) }),
        agent: secure ? agents.https : agents.http,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on("data", (chunk: Buffer) => {
          if (kept < WEBHOOK_RESPONSE_SNIPPET_BYTES) {
            chunks.push(chunk);
            kept += chunk.length;
          }
        });
        const done = (keepSocket: boolean) => {
          const snippet = Buffer.concat(chunks).subarray(0, WEBHOOK_RESPONSE_SNIPPET_BYTES).toString("utf8");
          finish({ status: res.statusCode ?? null, body: snippet, headers: res.headers, error: null, durationMs: elapsed() });
          // A response read to its end leaves the socket to the pool; any other ending closes it.
          if (!keepSocket) res.destroy();
        };
        res.on("end", () => done(true));
        res.on("error", () => done(false));
        // A receiver streaming an endless body: its status is known; stop reading after the snippet.
        res.on("data", () => {
          if (kept >= WEBHOOK_RESPONSE_SNIPPET_BYTES) done(false);
        });
      },
    );
    const timer = setTimeout(() => {
      finish(failed(`timeout: no answer within ${settings.timeoutMs} ms`));
      req.destroy();
    }, deadline);
    req.on("error", (error: NodeJS.ErrnoException) => {
      const stale = req.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE");
      finish(failed(error instanceof RefusedAddress ? `refused: ${error.message}` : `connection failed: ${error.message}`), stale);
    });
    req.end(body);
  });
}
