/**
 * Options objects checked where they are given (`bind`, `createApp`,
 * `run`): an unknown key or a value of the wrong type is an error that
 * names the fix, never a silent default or a TypeError from deep inside.
 */

/** Checks one value: `undefined` when it is fine, else what it must be. */
export type Check = (value: unknown) => string | undefined;

/** The checks of an options object, by key. */
export type Spec = Readonly<Record<string, Check>>;

/**
 * Throws `fail(message)` for the first unknown key or wrong value of
 * `options`; `where` names the call in the message. `undefined` values are
 * taken as absent.
 *
 * @example
 * checkOptions("createApp", { bodyLimt: 10 }, { bodyLimit: byteCount }, (m) => new TypeError(m));
 * // TypeError: [usrv] createApp: unknown option "bodyLimt" (did you mean "bodyLimit"?); known: bodyLimit
 */
export function checkOptions(where: string, options: unknown, spec: Spec, fail: (m: string) => Error): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw fail(
      `${where}: the options must be an object such as { ${Object.keys(spec)[0]}: ... }, not ${kind(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    const check = Object.hasOwn(spec, key) ? spec[key] : undefined;
    if (check === undefined) {
      const near = closest(key, Object.keys(spec));
      throw fail(
        `${where}: unknown option ${JSON.stringify(key)}${near ? ` (did you mean "${near}"?)` : ""}; known: ${Object.keys(spec).join(", ")}`,
      );
    }
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const want = check(value);
    if (want !== undefined) {
      const was = SECRETS.has(check) ? kind(value, false) : kind(value);
      throw fail(`${where}: option "${key}" must be ${want}, not ${was}`);
    }
  }
}

const SECRETS = new WeakSet<Check>();

/**
 * `check`, for an option that holds a secret (keys, a store's URL with its
 * password, TLS keys): a wrong value is described by its kind alone, so that
 * no part of it reaches an error message or a log.
 *
 * @example
 * const SPEC = { cookieKeys: secret(keyList) };
 */
export function secret(check: Check): Check {
  const marked: Check = (value) => check(value);
  SECRETS.add(marked);
  return marked;
}

/**
 * A short description of a value's kind for messages: never its content
 * beyond a short scalar, and none at all when `shown` is false.
 */
export function kind(v: unknown, shown = true): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return shown && v.length <= 40 ? JSON.stringify(v) : "a string";
  if (shown && (typeof v === "number" || typeof v === "boolean")) return String(v);
  return /^[aeiou]/.test(typeof v) ? `an ${typeof v}` : `a ${typeof v}`;
}

/**
 * The known key nearest to `key`, case ignored: within an edit distance of
 * 2, else the one sharing the longest start of at least 4 characters
 * (`encoding` for `encoder`).
 */
function closest(key: string, known: string[]): string | undefined {
  const k0 = key.toLowerCase();
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = distance(k0, k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  if (best !== undefined) return best;
  let longest = 3;
  for (const k of known) {
    const k1 = k.toLowerCase();
    let n = 0;
    while (n < k0.length && n < k1.length && k0[n] === k1[n]) n++;
    if (n > longest) [best, longest] = [k, n];
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** A whole number of bytes or milliseconds, at least `min` (`Infinity` too when `unbounded`). */
export const count =
  (unit: string, min = 0, unbounded = false): Check =>
  (v) =>
    (Number.isSafeInteger(v) && (v as number) >= min) || (unbounded && v === Number.POSITIVE_INFINITY)
      ? undefined
      : `a whole number of ${unit} >= ${min}${unbounded ? " (or Infinity)" : ""}`;

/** The longest delay a timer takes (2^31 - 1 ms): Node and browsers fire a longer one at once. */
export const MAX_DELAY = 2_147_483_647;

/** A timer's delay: whole milliseconds from `min` to {@link MAX_DELAY}. */
export const delay =
  (min = 0): Check =>
  (v) =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= MAX_DELAY
      ? undefined
      : `a whole number of milliseconds from ${min} to ${MAX_DELAY} (about 24.8 days: a timer set longer fires at once)`;

/** One of `type`'s values. */
export const typeOf =
  (type: "boolean" | "string" | "function" | "object"): Check =>
  (v) =>
    typeof v === type && v !== null ? undefined : `${type === "object" ? "an" : "a"} ${type}`;

/** A list of strings (at least `min`); `example` shows the right form. */
export const strings =
  (example: string, min = 0): Check =>
  (v) =>
    Array.isArray(v) && v.length >= min && v.every((s) => typeof s === "string")
      ? undefined
      : `a ${min > 0 ? "non-empty " : ""}list of strings, e.g. ${example}`;

/** One of the given strings. */
export const oneOf =
  (...values: string[]): Check =>
  (v) =>
    values.includes(v as string) ? undefined : values.map((x) => JSON.stringify(x)).join(" or ");

/** An object whose listed members are functions (a logger, a store). */
export const withMethods =
  (what: string, ...methods: string[]): Check =>
  (v) =>
    v !== null && typeof v === "object" && methods.every((m) => typeof (v as any)[m] === "function")
      ? undefined
      : `${what} with ${methods.map((m) => `${m}()`).join(", ")}`;

/** Any of several checks. */
export const either =
  (...checks: Check[]): Check =>
  (v) => {
    const wants: string[] = [];
    for (const c of checks) {
      const w = c(v);
      if (w === undefined) return undefined;
      wants.push(w);
    }
    return wants.join(", or ");
  };
