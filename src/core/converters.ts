/**
 * B4: markup converters. A converter turns a path segment into a value, or
 * returns `undefined` (or throws) when the segment does not fit: that is "no
 * match", and the router tries the next candidate (B5), never a 500.
 */

/** Turns one decoded path segment into a value; `undefined` means no match. */
export type Converter = (segment: string) => unknown;

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Built-in converters, in the order they are tried at one position. */
const builtins: Record<string, Converter> = {
  int: (s) => {
    // [+-]?digits, by char codes: the router tries this on every candidate segment
    const start = s.charCodeAt(0) === 43 || s.charCodeAt(0) === 45 ? 1 : 0;
    if (s.length === start) return undefined;
    for (let i = start; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) return undefined;
    }
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : undefined;
  },
  float: (s) => (FLOAT.test(s) ? Number(s) : undefined),
  bool: (s) => (s === "true" || s === "1" ? true : s === "false" || s === "0" ? false : undefined),
  uuid: (s) => (UUID.test(s) ? s.toLowerCase() : undefined),
};

const registry = new Map<string, Converter>(Object.entries(builtins));

/**
 * Registers a converter for `<name:param>` markups, for every app.
 * Give TypeScript its type with `declare module "usrv" { interface ConverterTypes { hex: bigint } }`.
 *
 * @example
 * registerConverter("hex", (s) => (/^[0-9a-f]+$/i.test(s) ? BigInt(`0x${s}`) : undefined));
 * bind("/blocks/<hex:id>", ({ id }) => [200, String(id)]);
 */
export function registerConverter(name: string, convert: Converter): void {
  if (!/^[A-Za-z_]\w*$/.test(name) || name === "str" || name === "path") {
    throw new TypeError(`[usrv] invalid converter name ${JSON.stringify(name)}`);
  }
  if (registry.has(name)) throw new TypeError(`[usrv] converter "${name}" is already registered`);
  registry.set(name, convert);
}

/** The converter for a markup type, `null` for `str` (untyped), or `undefined` if unknown. */
export function converter(name: string): Converter | null | undefined {
  return name === "str" ? null : registry.get(name);
}

/** Rank of a converter at one position: built-ins first, then user ones in registration order. */
export function rank(name: string): number {
  return [...registry.keys()].indexOf(name);
}

/** Names of the known converters, for error messages. */
export function converterNames(): string[] {
  return ["str", "path", ...registry.keys()];
}
