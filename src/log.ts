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

/** Python-logging-like lines: `INFO:usrv:GET /test 200 0.31ms`. */
export class ConsoleLogger implements Logger {
  level: number;
  /** The logger name in each line; `usrv serve` workers use `usrv[PID]`. */
  name = "usrv";
  readonly #write: (line: string) => void;

  constructor(level: number | string = 20, write: (line: string) => void = (l) => process.stderr.write(l)) {
    this.level = parseLevel(level);
    this.#write = write;
  }

  isLevelEnabled(level: string): boolean {
    return (NAMES[level] ?? 0) >= this.level;
  }

  #log(n: number, obj: object, msg?: string): void {
    if (n < this.level) return;
    const err = (obj as { err?: unknown }).err;
    let line = `${label(n)}:${this.name}:${msg ?? ""}`;
    if (err instanceof Error) line += `\n${err.stack ?? err.message}`;
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
