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

/**
 * The interleaved protocol: each round measures every framework once, in an order that alternates
 * round by round, so that a drift of the machine falls on all of them alike. Logs a line per cell
 * (`line(framework, result)`); resolves to each framework's results, in round order.
 */
export async function interleave(frameworks, rounds, measure, line) {
  const results = Object.fromEntries(frameworks.map((f) => [f, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const f of round % 2 ? frameworks : [...frameworks].reverse()) {
      const r = await measure(f);
      results[f].push(r);
      console.error(`round ${round}/${rounds} ${line(f, r)}`);
    }
  }
  return results;
}

/** The runs whose server stayed busy at least `disturbed` (%), or all of them when none did. */
export function usedRuns(runs, disturbed) {
  const good = runs.filter((r) => r.busy >= disturbed);
  return good.length ? good : runs;
}

/** The median of per-round ratios of `key` (runs over the anchor's), over the rounds where both stayed busy at least `disturbed`. */
export function roundRatio(runs, anchorRuns, key, disturbed) {
  const rs = [];
  for (let i = 0; i < runs.length; i++) {
    const [a, b] = [runs[i], anchorRuns?.[i]];
    if (a && b && a.busy >= disturbed && b.busy >= disturbed) rs.push(a[key] / b[key]);
  }
  return rs.length ? median(rs) : Number.NaN;
}
