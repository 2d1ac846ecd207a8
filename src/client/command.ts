/**
 * C7: one line of the interactive console (`usrv client PEER`) read as
 * data. Words are split at blanks outside quotes and brackets; `name=value`
 * values are JSON when they parse, else strings (single quotes: text as is). Nothing typed
 * is ever evaluated as code (the reference's console called Python's eval).
 */
import { ClientError } from "./errors.js";

/** The HTTP methods the console sends. */
export const CONSOLE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

/** A parsed console line. */
export type Command =
  | { kind: "call"; method: string; segments: string[]; values: Record<string, unknown> | undefined }
  | { kind: "puk"; on: boolean }
  | { kind: "encoder"; name: "json" | "form" | "multipart" }
  | { kind: "keys" }
  | { kind: "help" }
  | { kind: "exit" }
  | { kind: "empty" };

function bad(message: string): never {
  throw new ClientError("USRV_ERR_CLIENT_BAD_ARGUMENT", message);
}

/**
 * Splits a line into words at blanks, except inside quotes (`"..."`,
 * `'...'`) and brackets (`{...}`, `[...]`), so that JSON values with spaces
 * stay one word. Quotes are kept: {@link typedValue} reads them.
 *
 * @example
 * words(`POST api note="hello world" o={"k": [1, 2]}`); // ["POST", "api", 'note="hello world"', 'o={"k": [1, 2]}']
 */
export function words(line: string): string[] {
  const out: string[] = [];
  let word = "";
  let quote: string | null = null;
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      word += c;
      if (c === "\\" && quote === '"' && i + 1 < line.length) word += line[++i]!;
      else if (c === quote) quote = null;
      continue;
    }
    if ((c === " " || c === "\t") && depth === 0) {
      if (word !== "") out.push(word);
      word = "";
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === "{" || c === "[") depth++;
    else if ((c === "}" || c === "]") && depth > 0) depth--;
    word += c;
  }
  if (quote) bad(`unclosed ${quote} quote`);
  if (word !== "") out.push(word);
  return out;
}

/**
 * A typed value: in single quotes, the text inside as it is; else JSON when
 * it parses (`1`, `true`, `null`, `[1,2]`, `{"a":1}`, `"text"`), else the
 * text itself.
 *
 * @example
 * typedValue("12");      // 12
 * typedValue('"12"');    // "12"
 * typedValue("'a b'");   // "a b"
 * typedValue("test");    // "test"
 */
export function typedValue(text: string): unknown {
  if (text.length >= 2 && text.startsWith("'") && text.endsWith("'")) return text.slice(1, -1);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Reads one console line.
 *
 * @example
 * parseCommand("GET api/endpoint a=1 b=test"); // { kind: "call", method: "GET", segments: ["api", "endpoint"], values: { a: 1, b: "test" } }
 */
export function parseCommand(line: string): Command {
  const [head, ...rest] = words(line.trim());
  if (head === undefined) return { kind: "empty" };
  const name = head.toLowerCase();
  if (name === "exit" || name === "quit") return { kind: "exit" };
  if (name === "help" || name === "?") return { kind: "help" };
  if (name === "keys") return { kind: "keys" };
  if (name === "puk") {
    if (rest[0] !== "on" && rest[0] !== "off") bad("usage: puk on|off");
    return { kind: "puk", on: rest[0] === "on" };
  }
  if (name === "encoder") {
    const e = rest[0];
    if (e !== "json" && e !== "form" && e !== "multipart") bad("usage: encoder json|form|multipart");
    return { kind: "encoder", name: e };
  }
  const method = head.toUpperCase();
  if (!(CONSOLE_METHODS as readonly string[]).includes(method))
    bad(`unknown command ${JSON.stringify(head)}: type help`);
  const [path = "", ...args] = rest;
  const segments = path.split("/").filter((s) => s !== "");
  let values: Record<string, unknown> | undefined;
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) {
      const value = typedValue(arg);
      segments.push(typeof value === "string" ? value : arg);
      continue;
    }
    values ??= Object.create(null) as Record<string, unknown>;
    values[arg.slice(0, eq)] = typedValue(arg.slice(eq + 1));
  }
  return { kind: "call", method, segments, values };
}
