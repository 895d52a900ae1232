// Progress on stderr for long work (stdout stays clean for --json): on a terminal a bar
// that redraws in place; otherwise (logs, pipes, CI) one line every `intervalMs`
// (default 5 s) with the count, the elapsed time and an estimate of the time left, and a
// last line when the work took long enough to have printed one.

export interface ProgressBar {
  update(done: number, total: number, detail?: string): void;
  end(): void;
}

export interface ProgressOptions {
  /** force the terminal bar (true) or the plain lines (false); default: stderr.isTTY */
  tty?: boolean;
  /** plain lines: at most one every intervalMs (0: at every update); default 5000 */
  intervalMs?: number;
  /** plain lines: always end with a line of the final count (default: only after a line was printed) */
  finalLine?: boolean;
  /** where to write; default process.stderr */
  write?: (s: string) => void;
  /** clock in ms; default performance.now */
  now?: () => number;
}

/** Default interval of the plain progress lines. */
export const PROGRESS_INTERVAL_MS = 5000;

function secs(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** One plain progress line: "label: 4,096 of 10,000 (41%), elapsed 2.0 s, ETA 2.9 s". */
export function progressLine(label: string, done: number, total: number, elapsedMs: number): string {
  const pct = Math.floor((100 * done) / Math.max(total, 1));
  const eta = done > 0 && done < total ? `, ETA ${secs((elapsedMs * (total - done)) / done)}` : "";
  return `${label}: ${done.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} (${pct}%), elapsed ${secs(elapsedMs)}${eta}`;
}

export function progressBar(label: string, o: ProgressOptions = {}): ProgressBar {
  const tty = o.tty ?? process.stderr.isTTY === true;
  const write = o.write ?? ((s: string) => void process.stderr.write(s));
  const now = o.now ?? (() => performance.now());
  const interval = o.intervalMs ?? PROGRESS_INTERVAL_MS;
  const t0 = now();
  let last = -1;
  let lastLine = t0;
  let lines = 0;
  let final: { done: number; total: number } | null = null;
  return {
    update(done, total, detail) {
      final = { done, total };
      if (!tty) {
        const t = now();
        if (interval > 0 && t - lastLine < interval) return;
        lastLine = t;
        lines++;
        write(progressLine(label, done, total, t - t0) + "\n");
        if (done >= total) final = null; // already said
        return;
      }
      const pct = Math.floor((100 * done) / Math.max(total, 1));
      if (pct === last) return;
      last = pct;
      const width = 30;
      const fill = Math.round((width * done) / Math.max(total, 1));
      write(`\r${label} [${"#".repeat(fill)}${"-".repeat(width - fill)}] ${pct}% ${detail ?? `${done}/${total}`}`);
    },
    end() {
      if (tty) {
        if (last >= 0) write("\n");
      } else if ((lines > 0 || o.finalLine) && final) write(progressLine(label, final.done, final.total, now() - t0) + "\n");
    },
  };
}

/**
 * The --progress-interval option (seconds, >= 0) as milliseconds; undefined -> the default.
 * Throws the given error class on a bad value.
 */
export function progressIntervalMs(v: string | undefined, fail: (msg: string) => Error): number {
  if (v === undefined) return PROGRESS_INTERVAL_MS;
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x) || x < 0) throw fail(`--progress-interval must be a number of seconds >= 0, got ${v}`);
  return x * 1000;
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
