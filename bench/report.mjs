// Shared by the benchmarks: medians, number formatting, markdown tables, their sections of bench/RESULTS.md.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const fmt = (x, digits = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "-";

/**
 * A markdown table, the first `left` columns left-aligned, the others right-aligned. Padded the way
 * biome formats Markdown, so that `npm run lint` (which checks bench/) accepts the written RESULTS.md.
 */
export function table(head, rows, left = 1) {
  const width = head.map((_, i) => Math.max(3, ...[head, ...rows].map((r) => String(r[i]).length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (i < left ? String(c).padEnd(width[i]) : String(c).padStart(width[i]))).join(" | ")} |`;
  const rule = width.map((w, i) => (i < left ? "-".repeat(w) : `${"-".repeat(w - 1)}:`));
  return [line(head), `| ${rule.join(" | ")} |`, ...rows.map(line)].join("\n");
}

/**
 * Writes `section` into `file` between the lines `begin` and `end` (a bench script's own part of
 * bench/RESULTS.md, which bench/run.mjs carries over), in place of what was there, or at the end;
 * nothing when `file` does not exist.
 */
export function writeSection(file, begin, end, section) {
  if (!existsSync(file)) return;
  const text = readFileSync(file, "utf8");
  const block = `${begin}\n${section.trimEnd()}\n${end}\n`;
  const [b, e] = [text.indexOf(begin), text.indexOf(end)];
  writeFileSync(
    file,
    b !== -1 && e > b
      ? text.slice(0, b) + block + text.slice(e + end.length).replace(/^\n/, "")
      : `${text.trimEnd()}\n\n${block}`,
  );
}
