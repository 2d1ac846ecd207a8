/**
 * S3: what `usrv serve` says when a binding module fails to load, with the
 * place to fix as `file:line:column`. Where Node knows the place, it says so
 * in different ways:
 * - ES module link errors, CommonJS syntax errors and TypeScript errors of
 *   Node's type stripping: a `file:LINE` header in the stack, then the
 *   source line and a caret under the column;
 * - tsx (TypeScript on Node 20): `/path/x.ts:LINE:COL: ERROR: ...` in the
 *   message, column from 0;
 * - an error thrown while the module runs: its first stack frame in the
 *   user's files.
 * A syntax error in an ES module carries no place at all (V8 keeps it
 * private), so the module and the modules it imports are parsed with acorn
 * to find it.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, extname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "acorn";

/** A place in a file: line from 1, column from 1 when known. */
interface Place {
  file: string;
  line: number;
  column?: number | undefined;
}

const TS = new Set([".ts", ".mts", ".cts", ".tsx"]);

function toPath(fileOrUrl: string): string {
  return fileOrUrl.startsWith("file:") ? fileURLToPath(fileOrUrl) : fileOrUrl;
}

/**
 * `file:LINE` atop the stack, then source lines (one or more: Node 24 shows
 * a TypeScript error's whole span) and maybe a line of carets under the
 * column, up to a blank line.
 */
function stackHeader(stack: string): Place | undefined {
  const m = /^((?:file:\/\/|\/)[^\n]*?):(\d+)\n((?:[^\n]*\S[^\n]*\n)*)/.exec(stack);
  if (!m) return undefined;
  const carets = m[3]!.split("\n").find((line) => /^[ \t]*\^+[ \t]*$/.test(line));
  return { file: toPath(m[1]!), line: Number(m[2]), column: carets ? carets.indexOf("^") + 1 : undefined };
}

/**
 * A column for a place Node gave without a caret (Node 24 marks a
 * TypeScript error spanning lines with `>` instead): the end of the file
 * for an error about `<eof>`, else where the code on that line starts.
 */
function guessColumn(place: Place, message: string): Place {
  let lines: string[];
  try {
    lines = readFileSync(place.file, "utf8").split("\n");
  } catch {
    return place;
  }
  if (message.includes("<eof>")) return { ...place, line: lines.length, column: lines.at(-1)!.length + 1 };
  const text = lines[place.line - 1];
  return text === undefined ? place : { ...place, column: text.search(/\S|$/) + 1 };
}

/** esbuild's (tsx's) `/path/x.ts:3:7: ERROR: text`, with its text. */
function esbuildPlace(message: string): (Place & { text: string }) | undefined {
  const m = /^(\/[^\n]*?|[A-Za-z]:\\[^\n]*?):(\d+):(\d+): ERROR: ([^\n]*)/m.exec(message);
  if (!m) return undefined;
  return { file: m[1]!, line: Number(m[2]), column: Number(m[3]) + 1, text: m[4]! };
}

// usrv's own code (dist/ once built, src/ under tsx), whose frames are not the user's
const OWN = [
  fileURLToPath(new URL("../../dist/", import.meta.url)),
  fileURLToPath(new URL("../../src/", import.meta.url)),
];

/** The first stack frame in a file of the user's (not Node's, not usrv's, not a dependency's). */
function userFrame(stack: string): Place | undefined {
  for (const m of stack.matchAll(/^\s+at (?:.*?\()?((?:file:\/\/)?\/[^\n()]*?):(\d+):(\d+)\)?$/gm)) {
    const file = toPath(m[1]!);
    if (file.includes("/node_modules/") || OWN.some((dir) => file.startsWith(dir))) continue;
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

/** Static import and re-export sources of a module's top level. */
function importsOf(ast: ReturnType<typeof parse>): string[] {
  const out: string[] = [];
  for (const node of ast.body) {
    if (
      (node.type === "ImportDeclaration" ||
        node.type === "ExportAllDeclaration" ||
        node.type === "ExportNamedDeclaration") &&
      typeof node.source?.value === "string"
    )
      out.push(node.source.value);
  }
  return out;
}

/** The file a relative specifier names, trying what TypeScript projects write (`./x.js` for x.ts). */
function resolveRelative(spec: string, from: string): string | undefined {
  if (!spec.startsWith(".") && !spec.startsWith("/") && !spec.startsWith("file:")) return undefined;
  const base = resolve(dirname(from), toPath(spec).split(/[?#]/)[0]!);
  const stem = base.replace(/\.[cm]?js$/, "");
  for (const candidate of [base, `${stem}.ts`, `${stem}.mts`, `${base}.ts`, `${base}.js`, `${base}.mjs`]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** A JavaScript syntax error as acorn finds it, or undefined when the file parses. */
function syntaxErrorIn(
  file: string,
  source: string,
): { place: Place; ast?: undefined } | { ast: ReturnType<typeof parse> } {
  const options = { ecmaVersion: "latest", allowHashBang: true } as const;
  const asModule = () => parse(source, { ...options, sourceType: "module" });
  try {
    return {
      ast: extname(file) === ".cjs" ? parse(source, { ...options, sourceType: "script" }) : asModule(),
    };
  } catch (e) {
    const loc = (e as { loc?: { line: number; column: number } }).loc;
    if (!loc) throw e;
    if (extname(file) === ".js") {
      // a CommonJS file may hold what a module may not (with, octal literals)
      try {
        return { ast: parse(source, { ...options, sourceType: "script", allowReturnOutsideFunction: true }) };
      } catch {}
    }
    return { place: { file, line: loc.line, column: loc.column + 1 } };
  }
}

/** Walks the binding module and what it imports (bounded) to the first file that does not parse. */
function findSyntaxError(entry: string): Place | undefined {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0 && seen.size < 500) {
    const file = queue.shift()!;
    if (seen.has(file) || file.includes("/node_modules/")) continue;
    seen.add(file);
    let source: string;
    try {
      source = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    let specs: string[];
    if (TS.has(extname(file))) {
      // TypeScript's own errors come with their place; only its imports are walked
      specs = [...source.matchAll(/^\s*(?:import|export)\b[^'"`;]*?['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
    } else {
      const parsed = syntaxErrorIn(file, source);
      if (!parsed.ast) return parsed.place;
      specs = importsOf(parsed.ast);
    }
    for (const spec of specs) {
      const next = resolveRelative(spec, file);
      if (next) queue.push(next);
    }
  }
  return undefined;
}

/** A place as the user can click it: relative to `cwd` when inside it. */
function show(place: Place, cwd: string): string {
  const rel = relative(cwd, place.file);
  const file = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : place.file;
  return `${file}:${place.line}${place.column === undefined ? "" : `:${place.column}`}`;
}

/**
 * Why a binding module did not load, in one line that ends with where:
 * `SyntaxError: Unexpected end of input at bad.mjs:4:1`,
 * `database is down at bind-throws.mjs:4:7`.
 *
 * @example
 * explainLoadError(err, "/srv/app/bad.mjs"); // "SyntaxError: Unexpected end of input at bad.mjs:4:1"
 */
export function explainLoadError(err: unknown, entry: string, cwd = process.cwd()): string {
  if (!(err instanceof Error)) return String(err).split("\n")[0]!;
  const stack = err.stack ?? "";
  const esbuild = esbuildPlace(err.message);
  if (esbuild) return `SyntaxError: ${esbuild.text} at ${show(esbuild, cwd)}`;
  const first = err.message.split("\n")[0]!;
  if (err instanceof SyntaxError || err.name === "SyntaxError") {
    let place = stackHeader(stack);
    if (place && place.column === undefined) place = guessColumn(place, first);
    place ??= findSyntaxError(entry);
    const hint =
      (err as NodeJS.ErrnoException).code === "ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX"
        ? " (Node's built-in TypeScript only strips types: write it in erasable syntax, or build the module to JavaScript)"
        : "";
    return `SyntaxError: ${first}${place ? ` at ${show(place, cwd)}` : ""}${hint}`;
  }
  const place = stackHeader(stack) ?? userFrame(stack);
  return `${first}${place ? ` at ${show(place, cwd)}` : ""}`;
}
