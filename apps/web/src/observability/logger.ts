import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };

export interface LoggerSettings {
  NODE_ENV: "development" | "test" | "production";
  LOG_LEVEL: string;
  LOG_FORMAT?: "json" | "pretty";
}

/**
 * Paths pino censors if a caller ever passes them: belt and braces, since nothing here logs
 * headers or bodies (request lines are built field by field in http-observer.ts).
 */
const REDACT = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "headers.cookie",
  "*.headers.authorization",
  "*.headers.cookie",
  "password",
  "*.password",
  "apiKey",
  "*.apiKey",
  "secret",
  "*.secret",
  "token",
  "*.token",
];

const LOG_BUFFER_BYTES = 4096;
const LOG_FLUSH_MS = 1000;

/**
 * The logger of per-request lines: the same output without redaction, which costs more than
 * the rest of the line (about 5 µs of 9 per line measured) and has nothing to do there: request
 * lines are built field by field from ids (http-observer.ts), never from headers or bodies.
 */
export function requestLineLogger(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}

/** json in production, pretty elsewhere, unless LOG_FORMAT says. */
export function logFormat(settings: LoggerSettings): "json" | "pretty" {
  return settings.LOG_FORMAT ?? (settings.NODE_ENV === "production" ? "json" : "pretty");
}

/**
 * The process's logger: JSON lines (one object per line, pino's format) in production or with
 * LOG_FORMAT=json; readable one-line-per-event output in development. `destination` is for tests.
 */
export function createLogger(settings: LoggerSettings, destination?: DestinationStream, extra: { mixin?: () => object } = {}): Logger {
  const format = logFormat(settings);
  const options: pino.LoggerOptions = {
    level: settings.LOG_LEVEL,
    base: { pid: process.pid },
    redact: { paths: REDACT, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // With tracing on: the active span's trace_id and span_id on each line (tracing.ts); absent otherwise.
    ...(extra.mixin ? { mixin: extra.mixin } : {}),
  };
  if (destination) return pino(options, destination);
  if (format === "pretty") {
    // In-process (no worker thread): the bundle needs nothing resolved at run time.
    return pino(options, pretty({ colorize: process.stdout.isTTY, sync: true, ignore: "pid,hostname", translateTime: "HH:MM:ss.l" }));
  }
  // Asynchronous, buffered writes (sonic-boom): the request path never waits on stdout, and lines
  // go out 4 KB at a time instead of one write per line; at most a second late, and flushed at
  // shutdown and at exit (pino registers that).
  const stdout = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES });
  // Not after the stream was closed (a shutdown, a test's logger): flush() would throw.
  setInterval(() => {
    if (!(stdout as { destroyed?: boolean }).destroyed) stdout.flush();
  }, LOG_FLUSH_MS).unref();
  return pino(options, stdout);
}
