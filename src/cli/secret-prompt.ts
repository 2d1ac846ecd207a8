/**
 * Hidden prompts for the secret and the PIN. On a terminal, stdin goes to raw
 * mode so nothing is echoed; from a pipe (scripts, tests), one line per answer.
 * Prompts go to stderr so stdout carries only results.
 */
import { createInterface } from "node:readline";

/** The user pressed Ctrl-C, or the input ended before an answer. */
export class PromptAborted extends Error {
  constructor(readonly interrupted: boolean) {
    super(interrupted ? "interrupted" : "the input ended before an answer");
    this.name = "PromptAborted";
  }
}

/** Asks questions, one answer each; `close` releases stdin. */
export interface Prompter {
  ask(question: string): Promise<string>;
  close(): void;
}

/**
 * A prompter on `input` (a TTY: no echo; otherwise lines), writing prompts to `output`.
 *
 * @example
 * const prompt = createPrompter();
 * const pin = await prompt.ask("PIN: ");
 * prompt.close();
 */
export function createPrompter(
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Prompter {
  if (input.isTTY) return ttyPrompter(input, output);
  const rl = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
  const lines = rl[Symbol.asyncIterator]();
  return {
    async ask(question) {
      output.write(`${question}\n`);
      const next = await lines.next();
      if (next.done) throw new PromptAborted(false);
      return next.value;
    },
    close: () => rl.close(),
  };
}

function ttyPrompter(input: NodeJS.ReadStream, output: NodeJS.WritableStream): Prompter {
  return {
    ask(question) {
      output.write(question);
      return new Promise((resolve, reject) => {
        let answer = "";
        const finish = (error?: PromptAborted) => {
          input.off("data", onData);
          input.setRawMode(false);
          input.pause();
          output.write("\n");
          if (error) reject(error);
          else resolve(answer);
        };
        const onData = (chunk: Buffer | string) => {
          for (const ch of chunk.toString()) {
            if (ch === "\r" || ch === "\n") return finish();
            if (ch === "\u0003") return finish(new PromptAborted(true)); // Ctrl-C: raw mode sends no SIGINT
            if (ch === "\u0004") {
              if (answer === "") return finish(new PromptAborted(false)); // Ctrl-D on an empty line
            } else if (ch === "\u007f" || ch === "\b") {
              answer = Array.from(answer).slice(0, -1).join("");
            } else if (ch === "\u0015") {
              answer = ""; // Ctrl-U
            } else if (ch >= " ") {
              answer += ch;
            }
          }
        };
        input.setRawMode(true);
        input.on("data", onData);
        input.resume();
      });
    },
    close() {},
  };
}
