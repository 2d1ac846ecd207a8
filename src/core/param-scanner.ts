/**
 * V5/V6: a function's parameter list, and what its body reads from those
 * parameters, from its source text (`fn.toString()`) with a small tokenizer
 * (param-tokens.ts) instead of a JavaScript parser, so that `import "usrv"`
 * loads no acorn.
 *
 * It reads every form a function's source takes (function, async, generator,
 * arrow with or without parentheses, method shorthand, getter, class method,
 * computed name) and skips what can hide a comma or a bracket: strings,
 * templates with `${}` nested, regular expressions, comments. What it cannot
 * read with certainty (`/` after `}`: a division or a regular expression?), it
 * does not guess: it answers `{ unknown }` and params.ts decides. The answers
 * it gives are what params.ts reads from acorn's tree (a differential test
 * holds them equal, test/param-scanner.test.ts).
 */

import {
  AMBIGUOUS,
  after,
  closing,
  control,
  isProperty,
  type Lex,
  lex,
  lexOne,
  NAME,
  NUMBER,
  need,
  PRIVATE,
  PUNCT,
  punct,
  REGEX_AFTER,
  STRING,
  TEMPLATE,
  TEMPLATE_OPEN,
} from "./param-tokens.js";

/** One parameter: its name, or what stands in its place. */
export type Param = { name: string } | { pattern: "object" | "array" } | { rest: true };

/**
 * A read of a parameter in the body, in the order acorn's walk meets it (a
 * node before its children): `p.key`, `p?.key` or `p["key"]` (`member`; key
 * `""` when computed from anything but a string), `const { key } = p`
 * (`destructure`, one per property named by an identifier or a string),
 * `p.data.x` (`file`, key `"data"`: p's data has members of its own).
 */
export interface Read {
  via: "member" | "destructure" | "file";
  param: string;
  key: string;
}

/** What params.ts needs from a function: its parameters and, when asked, the reads of the named ones. */
export interface ParamList {
  params: Param[];
  reads: Read[];
  /** An arrow function: its `this` is its own, so a context passed as `this` never reaches it. */
  arrow: boolean;
}

/** The scanner's "cannot tell": why, where (offset in the source), and whether in the body. */
export interface Unknown {
  unknown: string;
  at: number;
  inBody: boolean;
}

/** Names that, before `[key]() {` in an object or a class, make a getter, a setter or an async method. */
const MODIFIERS = new Set(["get", "set", "async"]);
/** Names that, before `[`, may be keywords (`for (x of [a])`, `let [a] = b`, `static [k] = 1`). */
const KEYWORDS = new Set(["of", "let", "yield", "await", "static"]);
/** Keywords whose `(...)` is a statement's, not an expression: `if (p) [1].map(...)` reads nothing of p. */
const CONTROL = new Set(["if", "while", "for", "with", "switch", "catch", "function"]);

/**
 * Reads a function's parameters from its source, and with `readBody` the
 * reads of the named ones in its body (none when the first parameter is an
 * object pattern or no parameter is named).
 *
 * @example
 * scanParams("(a, b = f(1, 2), ...args) => a.method", true);
 * // { params: [{ name: "a" }, { name: "b" }, { rest: true }], reads: [{ via: "member", param: "a", key: "method" }] }
 */
export function scanParams(src: string, readBody: boolean): ParamList | Unknown {
  const L = lex(src);
  const params: Param[] = [];
  let bodyAt: number;
  let arrow = true;
  if (need(L, 1) && L.kind[0] === NAME && punct(L, 1, "=>")) {
    params.push({ name: L.text[0]! }); // a => ...
    bodyAt = 2;
  } else if (
    need(L, 2) &&
    L.kind[0] === NAME &&
    L.text[0] === "async" &&
    L.kind[1] === NAME &&
    punct(L, 2, "=>")
  ) {
    params.push({ name: L.text[1]! }); // async a => ...
    bodyAt = 3;
  } else {
    if (L.why !== undefined) return unknown(L, false);
    if (L.kind[0] === NAME && L.text[0] === "class" && !punct(L, 1, "(")) {
      return { unknown: "a class, not a function", at: 0, inBody: false };
    }
    // Whatever comes before the list: async, function, *, get, set, a name, a string, a number, #name, [key].
    let i = 0;
    while (!punct(L, i, "(")) {
      const k = L.kind[i];
      if (punct(L, i, "[")) i = after(L, i);
      else if (k === NAME || k === STRING || k === NUMBER || k === PRIVATE || punct(L, i, "*")) i++;
      else
        return L.why !== undefined
          ? unknown(L, false)
          : { unknown: "no parameter list", at: 0, inBody: false };
      if (i < 0 || !need(L, i)) return unknown(L, false, "no parameter list");
    }
    const close = closing(L, i);
    if (close < 0) return unknown(L, false, "an unclosed parameter list");
    for (let s = i + 1; s < close; ) {
      let e = s;
      while (e < close && !punct(L, e, ",")) e = after(L, e);
      let next: number;
      if (punct(L, s, "...")) {
        params.push({ rest: true }); // the last one
        break;
      } else if (punct(L, s, "{") || punct(L, s, "[")) {
        params.push({ pattern: L.text[s] === "{" ? "object" : "array" });
        next = after(L, s);
      } else if (L.kind[s] === NAME) {
        params.push({ name: L.text[s]! });
        next = s + 1;
      } else {
        return { unknown: "a parameter that is not a name or a pattern", at: L.start[s] ?? 0, inBody: false };
      }
      if (next !== e && !punct(L, next, "=")) {
        return {
          unknown: "a parameter followed by neither `,` nor `=`",
          at: L.start[next] ?? 0,
          inBody: false,
        };
      }
      s = e + 1;
    }
    bodyAt = close + 1;
    arrow = need(L, bodyAt) && punct(L, bodyAt, "=>");
  }
  const first = params[0];
  const names = new Set<string>();
  if (readBody && !(first && "pattern" in first && first.pattern === "object")) {
    for (const p of params) {
      if ("rest" in p) break;
      if ("name" in p) names.add(p.name);
    }
  }
  if (names.size === 0) return { params, reads: [], arrow };
  while (lexOne(L));
  if (L.why !== undefined) return unknown(L, true);
  if (L.open.length > 0) return { unknown: "an unclosed bracket", at: src.length, inBody: true };
  const reads = bodyReads(L, bodyAt, names);
  return "unknown" in reads ? reads : { params, reads, arrow };
}

/** The reads of `names` in the tokens from `from` on (see Read). */
function bodyReads(L: Lex, from: number, names: Set<string>): Read[] | Unknown {
  const reads: Read[] = [];
  const n = L.kind.length;
  const readsAt = new Int32Array(n); // at each `{`, how many reads came before: a declarator's go there
  const fail = (why: string, k: number): Unknown => ({ unknown: why, at: L.start[k] ?? 0, inBody: true });
  for (let k = from; k < n; k++) {
    if (L.kind[k] === PUNCT) {
      if (L.text[k] === "{") readsAt[k] = reads.length;
      else if (L.text[k] === "}") {
        const props = destructured(L, k, names);
        if (props === undefined) continue;
        if (typeof props === "string") return fail(props, k);
        // acorn visits the VariableDeclarator before the defaults inside its pattern
        reads.splice(readsAt[L.match[k]!]!, 0, ...props);
      }
      continue;
    }
    if (L.kind[k] !== NAME || !names.has(L.text[k]!) || isProperty(L, k)) continue;
    const param = L.text[k]!;
    // Parentheses around the name: acorn drops them, `(p).method` reads p.method; `f(p).method` does not.
    let p = 0;
    while (punct(L, k - 1 - p, "(")) p++;
    let ambiguous = false;
    if (p > 0) {
      const c = callish(L, k - 1 - p);
      if (c === true) p--;
      else if (c === undefined) ambiguous = true;
    }
    let j = k + 1;
    let m = 0;
    while (m < p && punct(L, j, ")")) {
      m++;
      j++;
    }
    const member = memberAt(L, j);
    if (member === undefined) continue;
    if (m === 0 && punct(L, j, "[") && (MODIFIERS.has(param) || KEYWORDS.has(param))) {
      // `{ get [k]() {} }` names a getter; `get[k]()` followed by `{` is no expression
      const call = L.match[j]! + 1;
      const brace = punct(L, call, "(") ? L.match[call]! + 1 : -1;
      if (KEYWORDS.has(param) || (punct(L, brace, "{") && L.nl[brace])) {
        return fail(`\`${param} [\` (a member, or a keyword)`, k);
      }
      if (punct(L, brace, "{")) continue;
    }
    if (ambiguous && m === p)
      return fail("a parenthesized parameter after `}`, `++` or a contextual keyword", k);
    if (m === 0 && punct(L, j, "[") && L.nl[j] && mayEndStatement(L, k - 1)) {
      return fail("a parameter and `[` on the next line", j); // `let p\n[a] = b`, a class field: ASI
    }
    if (member.key === "data") {
      // p.data.x: acorn's walk meets the outer member first; (p?.data).x is a ChainExpression's member
      let q = member.end + 1;
      let m2 = 0;
      while (m2 < p - m && punct(L, q, ")")) {
        m2++;
        q++;
      }
      if (memberAt(L, q) !== undefined) {
        if (ambiguous && m + m2 === p)
          return fail("a parenthesized parameter after `}`, `++` or a contextual keyword", k);
        if (m2 === 0 || !member.optional) reads.push({ via: "file", param, key: "data" });
      }
    }
    reads.push({ via: "member", param, key: member.key });
  }
  return reads;
}

/**
 * A member access starting at token `j` (`.key`, `?.key`, `[...]`, `?.[...]`):
 * its key (`""` when computed from anything but a string), its last token and
 * whether it is optional.
 */
function memberAt(L: Lex, j: number): { key: string; end: number; optional: boolean } | undefined {
  const optional = punct(L, j, "?.");
  if (punct(L, j, ".") || optional) {
    const k = L.kind[j + 1];
    if (k === NAME || k === PRIVATE) return { key: L.text[j + 1]!, end: j + 1, optional };
    if (!optional || !punct(L, j + 1, "[")) return undefined; // p?.(...) calls
    j++;
  } else if (!punct(L, j, "[")) return undefined;
  let s = j + 1;
  let e = L.match[j]! - 1;
  while (punct(L, s, "(") && L.match[s] === e) {
    s++;
    e--;
  }
  if (s !== e || L.kind[s] !== STRING) return { key: "", end: L.match[j]!, optional };
  return { key: L.text[s]!, end: L.match[j]!, optional };
}

/**
 * At a `}`: when it closes `const|let|var { ... } = p` (p perhaps in
 * parentheses), the reads of its properties; a string when it cannot tell
 * (`, { ... } = p` may or may not be a declarator); else undefined.
 */
function destructured(L: Lex, close: number, names: Set<string>): Read[] | string | undefined {
  if (!punct(L, close + 1, "=")) return undefined;
  let q = close + 2;
  let p = 0;
  while (punct(L, q, "(")) {
    p++;
    q++;
  }
  if (L.kind[q] !== NAME || !names.has(L.text[q]!)) return undefined;
  let r = q + 1;
  for (let m = 0; m < p; m++, r++) if (!punct(L, r, ")")) return undefined;
  if (!ends(L, r)) return undefined;
  const open = L.match[close]!;
  const declarator = punct(L, open - 1, ",") ? declarationBefore(L, open - 1) : declares(L, open - 1);
  if (declarator !== true)
    return declarator === false ? undefined : "a destructuring after `,` and a new line";
  const reads: Read[] = [];
  for (let s = open + 1; s < close; ) {
    const k = L.kind[s];
    if (k === NAME || k === STRING) {
      reads.push({ via: "destructure", param: L.text[q]!, key: L.text[s]! });
    }
    while (s < close && !punct(L, s, ",")) s = after(L, s);
    s++;
  }
  return reads;
}

/** Whether token `k` starts a declaration: `const`, `var`, or `let` before a binding. */
function declares(L: Lex, k: number): boolean {
  const t = L.text[k];
  if (L.kind[k] !== NAME || isProperty(L, k)) return false;
  return (
    t === "const" ||
    t === "var" ||
    (t === "let" && (L.kind[k + 1] === NAME || punct(L, k + 1, "{") || punct(L, k + 1, "[")))
  );
}

/**
 * Whether the `,` at `comma` separates declarators (`const a = 1, { b } = p`):
 * back over the list at its depth to `const|let|var` (true), or to the start
 * of the statement or a bracket (false); undefined when a new line there
 * may have ended a statement (ASI) and the walk cannot tell.
 */
function declarationBefore(L: Lex, comma: number): boolean | undefined {
  for (let j = comma - 1; j >= 0; j--) {
    if (L.nl[j + 1] && endsOperand(L, j) && startsStatement(L, j + 1)) return undefined;
    const kind = L.kind[j];
    const t = L.text[j];
    if (kind === TEMPLATE_OPEN || (kind === PUNCT && (t === ";" || t === "(" || t === "[" || t === "{")))
      return false; // a bracket, a `${`, or the statement's start
    if (kind === TEMPLATE || (kind === PUNCT && (t === ")" || t === "]" || t === "}"))) j = L.match[j] ?? j;
    else if (declares(L, j)) return true;
  }
  return false;
}

function endsOperand(L: Lex, k: number): boolean {
  const kind = L.kind[k];
  const t = L.text[k];
  if (kind === PUNCT) return t === ")" || t === "]" || t === "}" || t === "++" || t === "--";
  return kind !== TEMPLATE_OPEN;
}

function startsStatement(L: Lex, k: number): boolean {
  const kind = L.kind[k];
  const t = L.text[k];
  if (kind === NAME) return t !== "in" && t !== "instanceof";
  if (kind === PUNCT) return t === "{" || t === "++" || t === "--" || t === "!" || t === "~";
  return kind !== TEMPLATE && kind !== TEMPLATE_OPEN;
}

/**
 * Whether a name after token `k` may be a declaration's or a class field's,
 * which a new line ends (ASI); after an operator, it is an operand, and so
 * after a comma inside `(...)` or `[...]` (no declaration there).
 */
function mayEndStatement(L: Lex, k: number): boolean {
  const t = L.text[k]!;
  if (L.kind[k] === NAME) return !isProperty(L, k) && !REGEX_AFTER.has(t) && !AMBIGUOUS.has(t);
  if (L.kind[k] !== PUNCT) return false;
  if (t === ",") {
    for (let j = k - 1; j >= 0; j--) {
      const u = L.text[j];
      if (L.kind[j] === TEMPLATE_OPEN) return false; // in `${...}`
      if (L.kind[j] === TEMPLATE) j = L.match[j] ?? j;
      if (L.kind[j] !== PUNCT) continue;
      if (u === ")" || u === "]" || u === "}") j = L.match[j]!;
      else if (u === "(" || u === "[") return false;
      else if (u === "{") return true;
    }
    return true;
  }
  return t === "{" || t === ";" || t === "}";
}

/** Whether the expression before token `r` ends there (`;`, `,`, a closing bracket, the end, or a new line that ASI ends). */
function ends(L: Lex, r: number): boolean {
  const k = L.kind[r];
  if (k === undefined) return true;
  const t = L.text[r];
  if (k === PUNCT && (t === ";" || t === "," || t === "}" || t === ")" || t === "]")) return true;
  if (!L.nl[r]) return false;
  if (k === NAME) return t !== "in" && t !== "instanceof";
  if (k === STRING || k === NUMBER || k === PRIVATE) return true;
  return k === PUNCT && (t === "{" || t === "!" || t === "~" || t === "++" || t === "--");
}

/**
 * Whether a `(` after token `k` calls (or belongs to a statement) rather than
 * groups: true, false, or undefined when the same text can be both.
 */
function callish(L: Lex, k: number): boolean | undefined {
  const kind = L.kind[k];
  if (kind === undefined) return false;
  const t = L.text[k]!;
  switch (kind) {
    case NAME:
      if (isProperty(L, k)) return true;
      if (AMBIGUOUS.has(t)) return undefined;
      if (CONTROL.has(t)) return true;
      return !REGEX_AFTER.has(t);
    case TEMPLATE_OPEN:
      return false;
    case PUNCT:
      if (t === ")") return !control(L, L.match[k]!);
      if (t === "]" || t === "?.") return true;
      if (t === "}" || t === "++" || t === "--") return undefined;
      return false;
    default:
      return true; // a literal, a template, #name
  }
}

function unknown(L: Lex, inBody: boolean, otherwise = "an unreadable source"): Unknown {
  return { unknown: L.why ?? otherwise, at: L.why !== undefined ? L.at : L.src.length, inBody };
}
