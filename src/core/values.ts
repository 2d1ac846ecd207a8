/**
 * V1-V9: the values a handler receives. Precedence for a name: query, then
 * body field, then path value (V3: the query overrides the path, as the seed
 * README says), unless a schema typed the path values (V11): then they come
 * first. Every container is prototype-less (V9).
 */
import type { Shape } from "./params.js";
import { type Dict, dict } from "./query.js";

/** The named values of one request, before they are shaped for a handler. */
export interface Sources {
  pathNames: readonly string[];
  pathValues: readonly unknown[];
  query: Dict;
  body: Dict | null;
  method: string;
  headers: unknown;
  data: string | null;
  /** The body as parsed (a JSON value, a form's fields), what a body schema checks (V10). */
  parsed?: unknown;
  /** V11: path values a schema typed: not overridden by query or body values of their names. */
  pathFirst?: boolean;
}

/**
 * Object style (V6): one object with every named value, in the seed's
 * `**kwargs` order (query, body, path), then `method`, `headers`, `data`.
 * The request's own values win over same-named query keys.
 */
export function objectValues(s: Sources): Dict {
  const out = dict();
  if (s.pathFirst) {
    for (let i = 0; i < s.pathNames.length; i++) out[s.pathNames[i]!] = s.pathValues[i];
    for (const k in s.query) if (!(k in out)) out[k] = s.query[k];
  } else for (const k in s.query) out[k] = s.query[k];
  if (s.body) for (const k in s.body) if (!(k in out)) out[k] = s.body[k];
  for (let i = 0; i < s.pathNames.length; i++) {
    const k = s.pathNames[i]!;
    if (!(k in out)) out[k] = s.pathValues[i];
  }
  out.method = s.method;
  out.headers = s.headers;
  out.data = s.data;
  return out;
}

/**
 * Positional style (V1, V5): named parameters filled by name (`undefined`
 * when missing, so the function's defaults apply); a rest parameter receives
 * the unexpected query values, then body values, then path values, then
 * `method`, `headers`, `data` (those not already named).
 */
export function positionalArgs(shape: Extract<Shape, { style: "positional" }>, s: Sources): unknown[] {
  const all = objectValues(s);
  const args: unknown[] = shape.names.map((n) => (n === null ? undefined : all[n]));
  if (shape.rest) {
    const named = new Set(shape.names);
    for (const k in all) if (!named.has(k)) args.push(all[k]);
  }
  return args;
}
