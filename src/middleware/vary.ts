/** Header lists shared by the middleware (`Vary` above all). */

/**
 * `value` added once to a comma-separated header (case ignored), e.g. a name to `Vary`.
 *
 * @example
 * addToken("Origin", "Accept-Encoding"); // "Origin, Accept-Encoding"
 */
export function addToken(current: string | undefined, value: string): string {
  if (current === undefined || current.trim() === "") return value;
  const lower = value.toLowerCase();
  return current.split(",").some((t) => t.trim().toLowerCase() === lower) ? current : `${current}, ${value}`;
}
