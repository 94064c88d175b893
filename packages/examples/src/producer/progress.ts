import type { ProduceProgress } from './produce-tweets.js'

/** `1,200 / 5,000 tweets to 'tweets' (400/s, 3.0 s)`. */
export function progressText(progress: ProduceProgress, topic: string): string {
  const count = (n: number) => n.toLocaleString('en-US')
  const total = progress.total === Infinity ? '' : ` / ${count(progress.total)}`
  const seconds = progress.elapsedMs / 1000
  const rate = seconds > 0 ? Math.round(progress.sent / seconds) : 0
  return `${count(progress.sent)}${total} tweets to '${topic}' (${count(rate)}/s, ${seconds.toFixed(1)} s)`
}

/**
 * Shows progress on one line rewritten in place on a terminal; elsewhere (a log, a pipe) as a line
 * every `intervalMs`, and a last one at the end.
 */
export function progressReporter(options: {
  readonly write: (text: string) => void
  readonly isTTY: boolean
  readonly topic: string
  readonly intervalMs?: number
  readonly now?: () => number
}): { update(progress: ProduceProgress): void; done(progress: ProduceProgress): void } {
  const now = options.now ?? Date.now
  const interval = options.intervalMs ?? 5000
  let last = now()
  return {
    update(progress) {
      if (options.isTTY) {
        options.write(`\r${progressText(progress, options.topic)}\x1b[K`)
      } else if (now() - last >= interval) {
        last = now()
        options.write(`${progressText(progress, options.topic)}\n`)
      }
    },
    done(progress) {
      options.write(
        options.isTTY
          ? `\r${progressText(progress, options.topic)}\x1b[K\n`
          : `${progressText(progress, options.topic)}\n`,
      )
    },
  }
}
