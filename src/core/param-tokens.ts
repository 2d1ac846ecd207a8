/**
 * The tokens of a function's source, for param-scanner.ts: names, strings
 * (their values), numbers, templates (a piece per `${`), regular
 * expressions, punctuators, each with whether a line break precedes it, and
 * brackets paired. Read on demand, so that a parameter list is read without
 * the body. Where JavaScript's lexical grammar depends on more than the
 * tokens before (`/` after `}`: a division or a regular expression?), it
 * stops with a reason instead of guessing.
 */

// Token kinds. A template with substitutions is several tokens: each piece
// ending in `${` is a TEMPLATE_OPEN, the last piece a TEMPLATE (as is a
// template without substitutions).
export const NAME = 1;
export const PRIVATE = 2;
export const STRING = 3;
export const NUMBER = 4;
export const TEMPLATE = 5;
export const TEMPLATE_OPEN = 6;
export const REGEX = 7;
export const PUNCT = 8;

/** Keywords after which `/` starts a regular expression (after any other name, it divides). */
export const REGEX_AFTER = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "extends",
]);
/** Keywords or names, depending on the function around them (`yield / 2` in a plain function). */
export const AMBIGUOUS = new Set(["yield", "await", "of"]);

/** Every punctuator, longest first when read (`/` and `/=` only where an operand ended). */
const PUNCTUATORS = new Set(
  (
    ">>>= ... === !== **= <<= >>= >>> &&= ||= ??= => == != <= >= && || ?? ?. ++ -- += -= *= /= %= &= |= ^= ** << >> " +
    "{ } ( ) [ ] ; , < > + - * / % & | ^ ! ~ ? : = . @"
  ).split(" "),
);

/** The tokens read so far; `match` pairs brackets, and a template's first and last pieces. */
export interface Lex {
  src: string;
  pos: number;
  kind: number[];
  text: string[];
  start: number[];
  nl: boolean[];
  match: number[];
  open: number[];
  why?: string;
  at: number;
}

/** A lexer over `src`, nothing read yet. */
export function lex(src: string): Lex {
  return { src, pos: 0, kind: [], text: [], start: [], nl: [], match: [], open: [], at: 0 };
}

/** Whether the `(` at `open` is an if/while/for/with's: after its `)`, a statement starts. */
export function control(L: Lex, open: number): boolean {
  const t = L.text[open - 1];
  return (
    L.kind[open - 1] === NAME &&
    (t === "if" || t === "while" || t === "for" || t === "with") &&
    !isProperty(L, open - 1)
  );
}

/** Whether the name at `k` follows `.` or `?.` (a property name, not a variable). */
export function isProperty(L: Lex, k: number): boolean {
  return L.kind[k - 1] === PUNCT && (L.text[k - 1] === "." || L.text[k - 1] === "?.");
}

export function punct(L: Lex, k: number, t: string): boolean {
  return L.kind[k] === PUNCT && L.text[k] === t;
}

/** The token after the bracketed group (or template) opening at `k`, or after `k`, lexing as needed; -1 when it never closes. */
export function after(L: Lex, k: number): number {
  if (L.kind[k] !== TEMPLATE_OPEN && !punct(L, k, "(") && !punct(L, k, "[") && !punct(L, k, "{"))
    return k + 1;
  const e = closing(L, k);
  return e < 0 ? -1 : e + 1;
}

/** The index of the token closing the one at `k`, lexing as needed; -1 when none does. */
export function closing(L: Lex, k: number): number {
  while (L.match[k] === undefined) if (!lexOne(L)) return -1;
  return L.match[k]!;
}

/** Lexes until token `k` exists; false at the end or on a failure. */
export function need(L: Lex, k: number): boolean {
  while (L.kind.length <= k) if (!lexOne(L)) return false;
  return true;
}

function fail(L: Lex, why: string, at: number): false {
  L.why = why;
  L.at = at;
  return false;
}

const isLineBreak = (c: number) => c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
// WhiteSpace: tab, VT, FF, space, NBSP, BOM and Unicode's Zs.
const isSpace = (c: number) =>
  c === 32 ||
  c === 9 ||
  c === 11 ||
  c === 12 ||
  c === 0xa0 ||
  c === 0xfeff ||
  c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) ||
  c === 0x202f ||
  c === 0x205f ||
  c === 0x3000;
const isDigit = (c: number) => c >= 48 && c <= 57;
// Outside strings and comments, a non-ASCII character that is not a space is part of a name (the source parsed).
const isNameChar = (c: number) =>
  (c >= 97 && c <= 122) ||
  (c >= 65 && c <= 90) ||
  isDigit(c) ||
  c === 36 ||
  c === 95 ||
  c === 92 ||
  (c > 0x7f && !isSpace(c) && !isLineBreak(c));

/** Reads the next token into `L`; false at the end or on a failure (`L.why`). */
export function lexOne(L: Lex): boolean {
  const src = L.src;
  const len = src.length;
  let i = L.pos;
  let nl = false;
  for (;;) {
    if (i >= len) return false;
    const c = src.charCodeAt(i);
    if (isLineBreak(c)) {
      nl = true;
      i++;
    } else if (isSpace(c)) i++;
    else if (c === 47 && src.charCodeAt(i + 1) === 47) {
      while (i < len && !isLineBreak(src.charCodeAt(i))) i++;
    } else if (c === 47 && src.charCodeAt(i + 1) === 42) {
      const end = src.indexOf("*/", i + 2);
      if (end < 0) return fail(L, "an unclosed comment", i);
      for (; i < end; i++) if (isLineBreak(src.charCodeAt(i))) nl = true;
      i = end + 2;
    } else break;
  }
  const c = src.charCodeAt(i);
  const k = L.kind.length;
  let kind = PUNCT;
  let text = "";
  let end: number;
  if (isNameChar(c) && !isDigit(c)) {
    end = i + 1;
    while (end < len && isNameChar(src.charCodeAt(end))) end++;
    text = src.slice(i, end);
    if (text.includes("\\")) return fail(L, "a name with a Unicode escape", i);
    kind = NAME;
  } else if (c === 35 && isNameChar(src.charCodeAt(i + 1))) {
    end = i + 2;
    while (end < len && isNameChar(src.charCodeAt(end))) end++;
    text = src.slice(i + 1, end);
    if (text.includes("\\")) return fail(L, "a name with a Unicode escape", i);
    kind = PRIVATE;
  } else if (isDigit(c) || (c === 46 && isDigit(src.charCodeAt(i + 1)))) {
    end = number(src, i);
    kind = NUMBER;
  } else if (c === 34 || c === 39) {
    end = i + 1;
    for (;;) {
      const d = src.charCodeAt(end);
      if (end >= len || d === 10 || d === 13) return fail(L, "an unclosed string", i);
      if (d === c) break;
      end += d === 92 ? (src.charCodeAt(end + 1) === 13 && src.charCodeAt(end + 2) === 10 ? 3 : 2) : 1;
    }
    const value = cooked(src.slice(i + 1, end));
    if (value === undefined) return fail(L, "a legacy octal escape", i);
    text = value;
    end++;
    kind = STRING;
  } else if (c === 96 || (c === 125 && L.kind[L.open.at(-1)!] === TEMPLATE_OPEN)) {
    // The stack holds a template's first piece while in any of its `${}`: its last piece pairs with it.
    const head = c === 125 ? L.open.pop()! : k;
    end = i + 1;
    for (;;) {
      const d = src.charCodeAt(end);
      if (end >= len) return fail(L, "an unclosed template", i);
      if (d === 96) {
        kind = TEMPLATE;
        end++;
        if (head !== k) {
          L.match[head] = k;
          L.match[k] = head;
        }
        break;
      }
      if (d === 36 && src.charCodeAt(end + 1) === 123) {
        kind = TEMPLATE_OPEN;
        L.open.push(head);
        end += 2;
        break;
      }
      end += d === 92 ? 2 : 1;
    }
  } else if (c === 47 && regexAllowed(L) !== false) {
    if (regexAllowed(L) === undefined)
      return fail(L, `\`/\` after \`${L.text[k - 1]}\` (a division, or a regular expression)`, i);
    let inClass = false;
    end = i + 1;
    for (;;) {
      const d = src.charCodeAt(end);
      if (end >= len || isLineBreak(d)) return fail(L, "an unclosed regular expression", i);
      if (d === 92) end++;
      else if (d === 91) inClass = true;
      else if (d === 93) inClass = false;
      else if (d === 47 && !inClass) break;
      end++;
    }
    end++;
    while (end < len && isNameChar(src.charCodeAt(end))) end++;
    kind = REGEX;
  } else {
    let n = 4;
    while (n > 0 && !PUNCTUATORS.has(src.slice(i, i + n))) n--;
    if (n === 0) return fail(L, `an unexpected character ${JSON.stringify(src[i])}`, i);
    text = src.slice(i, i + n);
    if (text === "?." && isDigit(src.charCodeAt(i + 2))) text = "?"; // a ? .5 : b
    // HTML-like comments, which acorn honours outside modules
    if (text === "<" && src.startsWith("!--", i + 1)) return fail(L, "`<!--`", i);
    if (text === "--" && src.charCodeAt(i + 2) === 62 && (nl || k === 0))
      return fail(L, "`-->` at the start of a line", i);
    end = i + text.length;
    if (text === "(" || text === "[" || text === "{") L.open.push(k);
    else if (text === ")" || text === "]" || text === "}") {
      const open = L.open.pop();
      if (open === undefined || L.text[open] !== (text === ")" ? "(" : text === "]" ? "[" : "{")) {
        return fail(L, `an unbalanced \`${text}\``, i);
      }
      L.match[open] = k;
      L.match[k] = open;
    }
  }
  L.kind.push(kind);
  L.text.push(text);
  L.start.push(i);
  L.nl.push(nl);
  L.pos = end;
  return true;
}

const ESCAPES: Record<string, string | undefined> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v" };

/** A string literal's value from the text between its quotes; undefined for a legacy octal escape (`"\\1"`). */
function cooked(raw: string): string | undefined {
  if (!raw.includes("\\")) return raw;
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const d = raw[++i]!;
    const simple = ESCAPES[d];
    if (simple !== undefined) out += simple;
    else if (d === "x") {
      out += String.fromCharCode(Number.parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (d === "u" && raw[i + 1] === "{") {
      const end = raw.indexOf("}", i);
      out += String.fromCodePoint(Number.parseInt(raw.slice(i + 2, end), 16));
      i = end;
    } else if (d === "u") {
      out += String.fromCharCode(Number.parseInt(raw.slice(i + 1, i + 5), 16));
      i += 4;
    } else if (d === "0" && !isDigit(raw.charCodeAt(i + 1))) out += String.fromCharCode(0);
    else if (isDigit(d.charCodeAt(0))) return undefined;
    else if (d === "\r" && raw[i + 1] === "\n")
      i++; // a line continuation: nothing
    else if (!isLineBreak(d.charCodeAt(0))) out += d;
  }
  return out;
}

/** The end of the number starting at `i` (`0x1f`, `1_000`, `1.5e-3`, `.5`, `10n`, `1.` of `1..toString()`). */
function number(src: string, i: number): number {
  let e = i;
  const x = src.charCodeAt(i + 1) | 32;
  if (src.charCodeAt(i) === 48 && (x === 120 || x === 111 || x === 98)) {
    e += 2;
    while (isNameChar(src.charCodeAt(e))) e++;
    return e;
  }
  while (isDigit(src.charCodeAt(e)) || src.charCodeAt(e) === 95) e++;
  if (src.charCodeAt(e) === 46) {
    e++;
    while (isDigit(src.charCodeAt(e)) || src.charCodeAt(e) === 95) e++;
  }
  if ((src.charCodeAt(e) | 32) === 101) {
    e++;
    if (src.charCodeAt(e) === 43 || src.charCodeAt(e) === 45) e++;
    while (isDigit(src.charCodeAt(e))) e++;
  }
  if (src.charCodeAt(e) === 110) e++;
  return e;
}

/**
 * Whether a `/` here starts a regular expression: after an operand it
 * divides, elsewhere it starts one; undefined when the source alone cannot
 * tell (after `}`, which ends a block or an object; after yield, await, of).
 */
function regexAllowed(L: Lex): boolean | undefined {
  const k = L.kind.length - 1;
  const kind = L.kind[k];
  if (kind === undefined || kind === TEMPLATE_OPEN) return true;
  const t = L.text[k]!;
  if (kind === NAME) {
    if (isProperty(L, k)) return false;
    if (AMBIGUOUS.has(t)) return undefined;
    return REGEX_AFTER.has(t);
  }
  if (kind !== PUNCT) return false;
  if (t === ")") return control(L, L.match[k]!);
  if (t === "}") return undefined;
  return t !== "]" && t !== "++" && t !== "--";
}
