/**
 * What the benchmark reads from /proc: the processes' CPU time and their
 * memory, sampled while a scenario runs.
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/**
 * CPU seconds from `/proc/<pid>/stat`: the process's own (user + system),
 * or, with `children`, that of its children that have exited and been
 * waited for. 0 for a process that is gone.
 */
export function cpuSeconds(pid: number | "self", children = false): number {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
  // Fields after the command name, which is in parentheses: state is 3.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const at = children ? 13 : 11;
  return (Number(fields[at]) + Number(fields[at + 1])) / USER_HZ;
}

/**
 * Memory, sampled every 50 ms: the peak of the central's processes' summed
 * PSS (proportional set size: pages shared between them, like the Deno
 * binary's, counted once, as a container's memory would count them), and
 * the peak resident set (VmHWM, kB) of every pid seen.
 *
 * PSS is costly to read (the kernel walks every mapping: a few ms per
 * sample at 100 agencies, which the run being measured paid for). It is
 * the processes' private (anonymous) pages plus their share of file pages,
 * and only the private part moves fast. So each sample reads the cheap
 * `RssAnon` and estimates PSS as that plus the file share of the last real
 * reading; PSS is read again when the estimate passes the peak so far by
 * 1 MB (a peak made of private pages is caught within 50 ms and 1 MB), or
 * every second (the file share drifts slowly, as agencies that share the
 * binary come and go). Agencies' high-water marks are read 20 per sample
 * at most, in turn: with 100 agencies each is read every 250 ms (every
 * read costs the machine about 70 µs at that load).
 */
export class MemorySampler {
  /** The peak resident set (kB) of every pid seen. */
  readonly peaks: Map<number, number> = new Map();
  /** The peak of the central's processes' summed PSS, kB. */
  centralPssPeakKb = 0;
  #timer: ReturnType<typeof setInterval>;
  /** PSS minus private pages at the last reading. */
  #fileShareKb = 0;
  #pssAt = -Infinity;
  #tick = 0;
  /** Starts sampling the `central` pids and the `agencies` pids. */
  constructor(central: readonly number[], agencies: readonly number[]) {
    const read = (path: string): string | null => {
      try {
        return Deno.readTextFileSync(path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return null;
        throw error;
      }
    };
    const field = (text: string, pattern: RegExp) =>
      Number(pattern.exec(text)?.[1] ?? 0);
    const status = (pid: number): string | null => {
      const text = read(`/proc/${pid}/status`);
      if (text !== null) {
        const kb = field(text, /VmHWM:\s+(\d+)/);
        this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, kb));
      }
      return text;
    };
    this.#timer = setInterval(() => {
      let anon = 0;
      for (const pid of central) {
        const text = status(pid);
        if (text !== null) anon += field(text, /RssAnon:\s+(\d+)/);
      }
      const now = performance.now();
      if (
        anon + this.#fileShareKb > this.centralPssPeakKb + 1024 ||
        now - this.#pssAt >= 1000
      ) {
        let pss = 0;
        for (const pid of central) {
          const text = read(`/proc/${pid}/smaps_rollup`);
          if (text !== null) pss += field(text, /^Pss:\s+(\d+)/m);
        }
        this.centralPssPeakKb = Math.max(this.centralPssPeakKb, pss);
        this.#fileShareKb = pss - anon;
        this.#pssAt = now;
      }
      const turns = Math.max(1, Math.ceil(agencies.length / 20));
      const turn = this.#tick++ % turns;
      for (let i = turn; i < agencies.length; i += turns) status(agencies[i]!);
    }, 50);
  }
  /** Stops sampling. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
