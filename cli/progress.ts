// Progress on stderr for long work: a bar that redraws in place, only when stderr is a terminal
// (logs and pipes stay clean).

export interface ProgressBar {
  update(done: number, total: number, detail?: string): void;
  end(): void;
}

export function progressBar(label: string): ProgressBar {
  const tty = process.stderr.isTTY === true;
  let last = -1;
  return {
    update(done, total, detail) {
      if (!tty) return;
      const pct = Math.floor((100 * done) / Math.max(total, 1));
      if (pct === last) return;
      last = pct;
      const width = 30;
      const fill = Math.round((width * done) / Math.max(total, 1));
      process.stderr.write(`\r${label} [${"#".repeat(fill)}${"-".repeat(width - fill)}] ${pct}% ${detail ?? `${done}/${total}`}`);
    },
    end() {
      if (tty && last >= 0) process.stderr.write("\n");
    },
  };
}

/** A one-line status for a step without a measurable fraction (cleared by the first done()). */
export function statusLine(text: string): { done(): void } {
  let shown = process.stderr.isTTY === true;
  if (shown) process.stderr.write(text);
  return {
    done() {
      if (shown) process.stderr.write(`\r${" ".repeat(text.length)}\r`);
      shown = false;
    },
  };
}
