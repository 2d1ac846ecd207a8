/**
 * S5: levels 1-100 as in Python logging (10 debug, 20 info, 30 warning,
 * 40 error, 50 critical), names accepted too. Any pino-compatible logger can
 * replace the built-in one: we only call `debug/info/warn/error(obj, msg)`.
 */

/** The subset of pino's interface usrv uses. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** pino has it; when present we skip building access lines nobody reads. */
  isLevelEnabled?(level: string): boolean;
  /** pino has it: a logger whose lines all carry `bindings` (`ctx.log` is one). */
  child?(bindings: Record<string, unknown>): Logger;
}

/**
 * A logger whose every line carries `bindings` (a request's `requestId`):
 * the logger's own `child` when it has one (pino), else a wrapper that adds
 * them to each line's object.
 *
 * @example
 * childLogger(app.logger, { requestId: "4c1e..." }).info({ user }, "signed in");
 */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  if (typeof logger.child === "function") return logger.child(bindings);
  // pino's `info("text")` too: a string is the message, not an object to spread
  const line =
    (level: "debug" | "info" | "warn" | "error") =>
    (obj: object, msg?: string): void =>
      typeof obj === "string"
        ? logger[level]({ ...bindings }, obj)
        : logger[level]({ ...bindings, ...obj }, msg);
  return {
    debug: line("debug"),
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
    isLevelEnabled: logger.isLevelEnabled?.bind(logger),
    child: (more) => childLogger(logger, { ...bindings, ...more }),
  };
}

const NAMES: Record<string, number> = {
  debug: 10,
  info: 20,
  warn: 30,
  warning: 30,
  error: 40,
  critical: 50,
  fatal: 50,
  silent: 101,
};

/**
 * A log level from a number (1-100, 101 = silent) or a name.
 *
 * @example
 * parseLevel("warning"); // 30
 * parseLevel("20");      // 20
 */
export function parseLevel(level: number | string): number {
  const n =
    typeof level === "number" ? level : /^\d+$/.test(level) ? Number(level) : NAMES[level.toLowerCase()];
  if (n === undefined || !Number.isInteger(n) || n < 1 || n > 101) {
    throw new RangeError(
      `[usrv] invalid log level ${JSON.stringify(level)}: use 1-100 or one of ${Object.keys(NAMES).join(", ")}`,
    );
  }
  return n;
}

const LABELS = [
  [50, "CRITICAL"],
  [40, "ERROR"],
  [30, "WARNING"],
  [20, "INFO"],
  [10, "DEBUG"],
] as const;

function label(n: number): string {
  for (const [at, name] of LABELS) if (n >= at) return name;
  return `Level ${n}`;
}

// C0 and C1 controls, DEL, the Unicode line and paragraph separators, and
// the bidirectional overrides (a line that reads other than it is).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching controls is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const CONTROLS = new RegExp(CONTROL.source, "g");

/**
 * One log line's text with every control character escaped (`\n`, `\x1b`,
 * `\u2028`), so that nothing a client or a handler puts in a message (a path,
 * an error text) can start a forged line or move the cursor.
 *
 * @example
 * escapeControls("bad id: 1\nINFO:usrv:GET /admin 200"); // "bad id: 1\\nINFO:usrv:GET /admin 200"
 */
export function escapeControls(text: string): string {
  if (!CONTROL.test(text)) return text;
  return text.replace(CONTROLS, (c) => {
    const n = c.charCodeAt(0);
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
  });
}

/**
 * What was thrown, for the log: an Error's stack (its first line, the
 * message, escaped like any text; each frame on its own line), or a
 * description of a thrown value that is not an Error (`throw "text"`).
 */
export function describeThrown(err: unknown): string[] {
  try {
    if (err instanceof Error) {
      const head = `${err.name}: ${err.message}`;
      const stack = typeof err.stack === "string" ? err.stack : head;
      // The stack starts with the header, whose message may hold newlines: take
      // it whole, then one line per frame.
      const frames = stack.startsWith(head) ? stack.slice(head.length) : `\n${stack}`;
      return [head, ...frames.split("\n").filter((l) => l.trim() !== "")].map(escapeControls);
    }
  } catch {
    // a getter that throws, a Symbol as its name, a Proxy (a revoked one throws from
    // instanceof): the line is still written, and the answer still sent
    return ["a thrown value whose name, message or stack cannot be read (a getter or a Proxy that throws)"];
  }
  let shown: string;
  try {
    shown = typeof err === "string" ? JSON.stringify(err) : (JSON.stringify(err) ?? String(err));
  } catch {
    try {
      shown = Object.prototype.toString.call(err);
    } catch {
      shown = "a value that cannot be shown";
    }
  }
  if (shown.length > 1000) shown = `${shown.slice(0, 1000)}... (${shown.length} characters)`;
  return [escapeControls(`thrown value, not an Error (${typeof err}): ${shown}`)];
}

/**
 * `logger.error(fields, msg)` for what was thrown (`fields.err`). A logger
 * that reads the value (pino's serializer, or one's own) throws where it
 * cannot be read (a getter or a Proxy that throws): it then gets the value
 * described as text, and a logger that throws on that too is left, since
 * logging must fail neither the answer nor the process.
 *
 * @example
 * logError(app.logger, { err, requestId }, "GET /x: the body failed");
 */
export function logError(
  logger: Logger,
  fields: { err: unknown } & Record<string, unknown>,
  msg: string,
): void {
  try {
    logger.error(fields, msg);
  } catch {
    try {
      logger.error({ ...fields, err: logNote(describeThrown(fields.err).join("\n")) }, msg);
    } catch {} // nothing is left to tell it with
  }
}

/**
 * A cause to log that is a fact about a request, not a fault in code: an
 * Error without stack frames (they would only show usrv's own timers).
 *
 * @example
 * reply.cause = logNote("handler for GET /x still running after 30000 ms");
 */
export function logNote(message: string): Error {
  const note = new Error(message);
  note.stack = `${note.name}: ${message}`;
  return note;
}

/** A line to stderr: the process's where there is one (Node, Bun, Deno), else the console's (workerd). */
function stderr(line: string): void {
  const out = (globalThis as { process?: { stderr?: { write(s: string): unknown } } }).process?.stderr;
  if (out !== undefined) out.write(line);
  else console.error(line.endsWith("\n") ? line.slice(0, -1) : line);
}

/**
 * Python-logging-like lines: `INFO:usrv:GET /test 200 0.31ms [id]`: the
 * message, the request id, and an `err`'s stack; other fields of the object
 * are left out (pino keeps them). A string alone is the message, as in pino
 * (`info("text")`), and so is an object's `msg` when no message follows.
 */
export class ConsoleLogger implements Logger {
  level: number;
  /** The logger name in each line; `usrv serve` workers use `usrv[PID]`. */
  name = "usrv";
  readonly #write: (line: string) => void;

  constructor(level: number | string = 20, write: (line: string) => void = stderr) {
    this.level = parseLevel(level);
    this.#write = write;
  }

  isLevelEnabled(level: string): boolean {
    return (NAMES[level] ?? 0) >= this.level;
  }

  #log(n: number, obj: object, msg?: string): void {
    if (n < this.level) return;
    if (typeof obj === "string") [obj, msg] = [{}, obj];
    else if (msg === undefined && typeof (obj as { msg?: unknown }).msg === "string")
      msg = (obj as { msg: string }).msg;
    const err = (obj as { err?: unknown }).err;
    let line = `${label(n)}:${this.name}:${escapeControls(msg ?? "")}`;
    const id = (obj as { requestId?: unknown }).requestId;
    if (typeof id === "string") line += ` [${escapeControls(id)}]`;
    if (err !== undefined) line += `\n${describeThrown(err).join("\n")}`;
    this.#write(`${line}\n`);
  }

  debug(obj: object, msg?: string): void {
    this.#log(10, obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.#log(20, obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.#log(30, obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.#log(40, obj, msg);
  }
}
