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

/** json in production, pretty elsewhere, unless LOG_FORMAT says. */
export function logFormat(settings: LoggerSettings): "json" | "pretty" {
  return settings.LOG_FORMAT ?? (settings.NODE_ENV === "production" ? "json" : "pretty");
}

/**
 * The process's logger: JSON lines (one object per line, pino's format) in production or with
 * LOG_FORMAT=json; readable one-line-per-event output in development. `destination` is for tests.
 */
export function createLogger(settings: LoggerSettings, destination?: DestinationStream): Logger {
  const format = logFormat(settings);
  const options: pino.LoggerOptions = {
    level: settings.LOG_LEVEL,
    base: { pid: process.pid },
    redact: { paths: REDACT, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (destination) return pino(options, destination);
  if (format === "pretty") {
    // In-process (no worker thread): the bundle needs nothing resolved at run time.
    return pino(options, pretty({ colorize: process.stdout.isTTY, sync: true, ignore: "pid,hostname", translateTime: "HH:MM:ss.l" }));
  }
  // Asynchronous writes (sonic-boom): the request path never waits on stdout; a shutdown flushes.
  return pino(options, pino.destination({ dest: 1, sync: false }));
}
