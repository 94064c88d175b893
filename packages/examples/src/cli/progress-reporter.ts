export interface ProgressReporterOptions {
  /** What is going on, e.g. `reading 4 files`. */
  readonly label: string
  /** What is counted, e.g. `rows`. Default `items`. */
  readonly unit?: string
  /** How many there are in all; without it there is no bar, no percentage and no ETA. */
  readonly total?: number
  readonly write: (text: string) => void
  /** A terminal: one line redrawn in place, with a bar. Otherwise plain lines every `intervalMs`. */
  readonly isTTY: boolean
  /** The terminal's width. Default 80. */
  readonly columns?: number
  /** Not a terminal: a line this often. Default 5000 ms. */
  readonly intervalMs?: number
  /** A terminal: redraw at most this often. Default 100 ms. */
  readonly redrawMs?: number
  /** Default `Date.now`. */
  readonly now?: () => number
  /** Not a terminal: end with the summary line even when the work was too short for any other. */
  readonly alwaysSummarize?: boolean
}

export interface ProgressReporter {
  /** How many are done so far (a total, not an increment). */
  update(done: number): void
  /** The work ended: a terminal gets its line finished; a log a last line, when it got any before. */
  finish(): void
}

/** The rate is measured over this much recent time, so that it follows changes of pace. */
const RATE_WINDOW_MS = 5000

/**
 * Progress of bounded work (an `availableNow` run, a file read to its end, a producer's replay): on a
 * terminal a bar with the rate and the ETA, redrawn in place; in a log or a pipe a plain line every
 * few seconds, so that a log is never flooded nor silent.
 *
 * @example
 * ```ts
 * const progress = progressReporter({ label: 'reading tweets', unit: 'rows', total: 21_722,
 *   write: (t) => process.stderr.write(t), isTTY: process.stderr.isTTY, columns: process.stderr.columns })
 * progress.update(1200) // reading tweets [██░░░░░░░░░░░░░░░░░░]   6%  1,200/21,722 rows  2,400 rows/s  ETA 9s
 * progress.finish()
 * ```
 */
export function progressReporter(options: ProgressReporterOptions): ProgressReporter {
  const now = options.now ?? Date.now
  const started = now()
  const intervalMs = options.intervalMs ?? 5000
  const redrawMs = options.redrawMs ?? 100
  const samples: { at: number; done: number }[] = [{ at: started, done: 0 }]
  let done = 0
  let lastWrite = started
  let wrote = false
  let finished = false

  const rate = (at: number): number | undefined => {
    const first = samples[0]
    const seconds = (at - first.at) / 1000
    return seconds > 0 ? (done - first.done) / seconds : undefined
  }
  const line = (at: number, bar: boolean) =>
    formatProgress({
      label: options.label,
      unit: options.unit ?? 'items',
      done,
      ...(options.total === undefined ? {} : { total: options.total }),
      rate: rate(at),
      elapsedMs: at - started,
      ...(bar ? { columns: options.columns ?? 80 } : {}),
    })

  return {
    update(value) {
      if (finished) return
      const at = now()
      done = value
      samples.push({ at, done })
      while (samples.length > 2 && at - samples[1].at >= RATE_WINDOW_MS) samples.shift()
      if (options.isTTY) {
        if (at - lastWrite < redrawMs && wrote) return
        options.write(`\r${line(at, true)}\x1b[K`)
      } else {
        if (at - lastWrite < intervalMs) return
        options.write(`${line(at, false)}\n`)
      }
      lastWrite = at
      wrote = true
    },
    finish() {
      if (finished) return
      finished = true
      const at = now()
      const seconds = (at - started) / 1000
      const unit = options.unit ?? 'items'
      const summary = `${options.label}: ${count(done)} ${unit} in ${seconds.toFixed(1)} s (${count(seconds > 0 ? done / seconds : 0)} ${unit}/s)`
      if (options.isTTY) options.write(`\r${summary}\x1b[K\n`)
      else if (wrote || options.alwaysSummarize) options.write(`${summary}\n`)
    },
  }
}

/**
 * One line of progress. With `columns` (a terminal) it has a bar sized to fit:
 * `reading [████░░░░]  52%  11,300/21,722 rows  4,210 rows/s  ETA 3s`; without, plain words:
 * `reading: 11,300/21,722 rows (52%), 4,210 rows/s, ETA 3s`.
 */
export function formatProgress(p: {
  readonly label: string
  readonly unit: string
  readonly done: number
  readonly total?: number
  /** Per second; undefined while unknown. */
  readonly rate: number | undefined
  readonly elapsedMs: number
  readonly columns?: number
}): string {
  const known = p.total !== undefined && p.total > 0
  const fraction = known ? Math.min(1, p.done / p.total) : undefined
  const amount = known ? `${count(p.done)}/${count(p.total)} ${p.unit}` : `${count(p.done)} ${p.unit}`
  const speed = p.rate === undefined ? undefined : `${count(p.rate)} ${p.unit}/s`
  const remaining =
    known && p.rate !== undefined && p.rate > 0 ? Math.max(0, p.total - p.done) / p.rate : undefined
  const eta = fraction === 1 ? undefined : remaining === undefined ? undefined : `ETA ${clock(remaining)}`
  const percent = fraction === undefined ? undefined : `${Math.floor(fraction * 100)}%`
  if (p.columns === undefined) {
    const parts = [
      percent === undefined ? amount : `${amount} (${percent})`,
      speed ?? `${clock(p.elapsedMs / 1000)} elapsed`,
      eta,
    ]
    return `${p.label}: ${parts.filter((x) => x !== undefined).join(', ')}`
  }
  const tail = [percent?.padStart(4), amount, speed, eta].filter((x) => x !== undefined).join('  ')
  if (fraction === undefined) return `${p.label}  ${tail}`
  // One column short of the width, so that a terminal never wraps the line.
  const width = Math.max(10, Math.min(40, p.columns - p.label.length - tail.length - 5))
  const filled = Math.round(fraction * width)
  return `${p.label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${tail}`
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

/** `7s`, `2m05s`, `1h02m`. */
function clock(seconds: number): string {
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}
