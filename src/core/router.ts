/**
 * B3, B5, B6: a segment tree. Lookup walks one node per path segment, trying
 * the static child first, then typed markups (a converter that refuses the
 * segment is no match, so the walk backtracks), then the untyped markup. Its
 * cost depends on the path's depth and on the markups that share a position,
 * never on the number of routes. Fully static paths are also kept in one Map
 * so that `/hello` costs a single lookup.
 */

import { EndpointAlreadyDefined } from "../common/errors.js";
import { type Converter, converter, rank } from "./converters.js";
import { normalisePath, normaliseRequestPath, parsePattern, type Segment } from "./path.js";
import { decodeSegment } from "./query.js";

interface Typed<T> {
  type: string;
  convert: Converter;
  node: TreeNode<T>;
}

interface Entry<T> {
  value: T;
  pattern: string;
  names: string[];
}

class TreeNode<T> {
  statics: Map<string, TreeNode<T>> | null = null;
  typed: Typed<T>[] | null = null;
  param: TreeNode<T> | null = null;
  /** `<path:name>`: the rest of the path, tried last. */
  rest: TreeNode<T> | null = null;
  /** method -> entry; the pattern text is kept for B3's message. */
  entries: Map<string, Entry<T>> | null = null;
}

/** A successful lookup: the bound value and the path values by markup name, in path order. */
export interface Match<T> {
  value: T;
  /** Markup names, in path order. */
  names: readonly string[];
  /** Converted path values, aligned with `names`. */
  values: unknown[];
}

/** A failed lookup: 404, or 405 with the methods the path does have. */
export interface Miss {
  status: 404 | 405;
  allow: string[];
}

/**
 * The usrv router, independent of HTTP: `add` compiles, `find` only walks.
 *
 * @example
 * const r = new Router<string>();
 * r.add("GET", "/user/<int:id>", "user");
 * r.find("GET", "/user/42"); // { value: "user", names: ["id"], values: [42] }
 */
export class Router<T> {
  readonly #root = new TreeNode<T>();
  readonly #statics = new Map<string, TreeNode<T>>();

  /** Binds `value` to `method` + `pattern`; throws `EndpointAlreadyDefined` on a duplicate (B3). */
  add(method: string, pattern: string, value: T): { pattern: string; segments: Segment[] } {
    const path = normalisePath(pattern);
    const segments = parsePattern(path);
    let node = this.#root;
    const names: string[] = [];
    for (const seg of segments) {
      if (seg.kind === "static") {
        node.statics ??= new Map();
        let next = node.statics.get(seg.text);
        if (!next) node.statics.set(seg.text, (next = new TreeNode()));
        node = next;
        continue;
      }
      names.push(seg.name);
      if (seg.kind === "rest") {
        node = node.rest ??= new TreeNode();
        continue;
      }
      const convert = converter(seg.type);
      if (convert === null) {
        node = node.param ??= new TreeNode();
        continue;
      }
      node.typed ??= [];
      let typed = node.typed.find((t) => t.type === seg.type);
      if (!typed) {
        typed = { type: seg.type, convert: convert!, node: new TreeNode() };
        node.typed.push(typed);
        node.typed.sort((a, b) => rank(a.type) - rank(b.type));
      }
      node = typed.node;
    }
    node.entries ??= new Map();
    const previous = node.entries.get(method);
    if (previous) throw new EndpointAlreadyDefined(method, path, previous.pattern);
    node.entries.set(method, { value, pattern: path, names });
    if (names.length === 0) this.#statics.set(path, node);
    return { pattern: path, segments };
  }

  /** Every bound route as [method, pattern], in binding order per node. */
  routes(): [string, string][] {
    return this.#all().map(([m, e]) => [m, e.pattern]);
  }

  /** Every bound value with its method, in the order of `routes()`. */
  entries(): [string, T][] {
    return this.#all().map(([m, e]) => [m, e.value]);
  }

  #all(): [string, Entry<T>][] {
    const out: [string, Entry<T>][] = [];
    const visit = (node: TreeNode<T>) => {
      for (const [m, e] of node.entries ?? []) out.push([m, e]);
      for (const child of node.statics?.values() ?? []) visit(child);
      for (const t of node.typed ?? []) visit(t.node);
      if (node.param) visit(node.param);
      if (node.rest) visit(node.rest);
    };
    visit(this.#root);
    return out;
  }

  /**
   * Looks a raw (percent-encoded) path up. Each segment is decoded after the
   * split, so `%2F` stays inside its segment; invalid encoding throws a 400
   * `HttpError`. HEAD falls back to GET (B6). Leading slashes count as one
   * and trailing ones are ignored (B2).
   */
  find(method: string, path: string): Match<T> | Miss {
    if (path.length > 1 && (path.charCodeAt(path.length - 1) === 47 || path.charCodeAt(1) === 47)) {
      path = normaliseRequestPath(path);
    }
    const encoded = path.includes("%");
    if (!encoded) {
      const hit = this.#statics.get(path);
      const e = hit && entry(hit, method);
      if (e) return { value: e.value, names: e.names, values: [] };
    }
    // With escapes, every segment is decoded up front (a bad one anywhere is a
    // 400, whatever the routes); without, the walk reads the path in place.
    let segs: string[] | null = null;
    if (encoded) {
      segs = segments(path);
      for (let i = 0; i < segs.length; i++) segs[i] = decodeSegment(segs[i]!);
    }
    const values: unknown[] = [];
    const found = walk(this.#root, { path, decoded: segs, method, values }, path === "/" ? DONE : 1, 0);
    if (found) return { value: found.value, names: found.names, values };
    segs ??= segments(path);
    const allow = new Set<string>();
    collectAllow(this.#root, segs, 0, allow);
    if (allow.size === 0) return { status: 404, allow: [] };
    if (allow.has("GET")) allow.add("HEAD");
    return { status: 405, allow: [...allow].sort() };
  }
}

/** The raw segments of a path: none for "/", else what follows each "/" (possibly empty). */
function segments(path: string): string[] {
  return path === "/" ? [] : path.slice(1).split("/");
}

function entry<T>(node: TreeNode<T>, method: string): Entry<T> | undefined {
  const e = node.entries;
  if (!e) return undefined;
  return e.get(method) ?? (method === "HEAD" ? e.get("GET") : undefined);
}

/** What a lookup walks: the raw path, its decoded segments when it has escapes. */
interface Walk {
  readonly path: string;
  readonly decoded: string[] | null;
  readonly method: string;
  readonly values: unknown[];
}

/** The position after the last segment. */
const DONE = -1;

/**
 * Depth first: static child, typed markups in rank order, untyped markup;
 * backtracks when a branch ends without an entry. Segment `k` starts at `pos`
 * in the raw path, read in place (no split: the lookup runs 2x faster) unless
 * the path had escapes.
 */
function walk<T>(node: TreeNode<T>, w: Walk, pos: number, k: number): Entry<T> | undefined {
  if (pos === DONE) return entry(node, w.method);
  const path = w.path;
  let end = path.indexOf("/", pos);
  if (end < 0) end = path.length;
  const seg = w.decoded === null ? path.slice(pos, end) : w.decoded[k]!;
  const next = end === path.length ? DONE : end + 1;
  const stat = node.statics?.get(seg);
  if (stat) {
    const found = walk(stat, w, next, k + 1);
    if (found) return found;
  }
  if (node.typed) {
    for (const t of node.typed) {
      let v: unknown;
      try {
        v = t.convert(seg);
      } catch {
        // a throwing converter is a refusal, not a 500 (B5): v stays undefined
      }
      if (v === undefined) continue;
      w.values.push(v);
      const found = walk(t.node, w, next, k + 1);
      if (found) return found;
      w.values.pop();
    }
  }
  if (node.param && seg !== "") {
    w.values.push(seg);
    const found = walk(node.param, w, next, k + 1);
    if (found) return found;
    w.values.pop();
  }
  if (node.rest) {
    // <path:name>: this segment and all after it, decoded one by one, slashes kept
    // (never empty: trailing slashes are gone, so at least this segment has a character or a slash follows)
    const found = entry(node.rest, w.method);
    if (found) {
      w.values.push(w.decoded === null ? path.slice(pos) : w.decoded.slice(k).join("/"));
      return found;
    }
  }
  return undefined;
}

/** B6: every method bound at any node the path reaches, for the 405's Allow header. */
function collectAllow<T>(node: TreeNode<T>, segs: string[], i: number, allow: Set<string>): void {
  if (i === segs.length) {
    if (node.entries) for (const m of node.entries.keys()) allow.add(m);
    return;
  }
  const seg = segs[i]!;
  const stat = node.statics?.get(seg);
  if (stat) collectAllow(stat, segs, i + 1, allow);
  for (const t of node.typed ?? []) {
    let ok = false;
    try {
      ok = t.convert(seg) !== undefined;
    } catch {
      // a throwing converter is a refusal here too (B5): ok stays false
    }
    if (ok) collectAllow(t.node, segs, i + 1, allow);
  }
  if (node.param && seg !== "") collectAllow(node.param, segs, i + 1, allow);
  if (node.rest?.entries) for (const m of node.rest.entries.keys()) allow.add(m);
}
