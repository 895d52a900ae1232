// Atomic output: everything is written under a temporary directory next to the target
// and renamed into place when complete, so an interrupted run never leaves a report that
// looks finished.
import { mkdirSync, writeFileSync, renameSync, rmSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export class AtomicDir {
  readonly target: string;
  readonly tmp: string;
  constructor(target: string) {
    this.target = resolve(target);
    this.tmp = `${this.target}.partial-${process.pid}`;
    rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp, { recursive: true });
  }
  write(rel: string, content: string | Uint8Array): void {
    const p = join(this.tmp, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  /** Replace the target directory with the completed one. */
  commit(): void {
    const old = `${this.target}.old-${process.pid}`;
    if (existsSync(this.target)) renameSync(this.target, old);
    renameSync(this.tmp, this.target);
    rmSync(old, { recursive: true, force: true });
  }
  abort(): void {
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Write one file atomically (temporary name, then rename). */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.partial-${process.pid}`;
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}
