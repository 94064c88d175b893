import test from 'ava'

/** The terminal's erase-to-end-of-line, which ends every redrawn line. */
const ERASE = '\x1b[K'
import { formatProgress, progressReporter } from '../../src/cli/progress-reporter.js'

test('formats a bar sized to the terminal, with the percentage, the counts, the rate and the ETA', (t) => {
  const line = formatProgress({
    label: 'reading',
    unit: 'rows',
    done: 500,
    total: 2000,
    rate: 250,
    elapsedMs: 2000,
    columns: 80,
  })
  t.is(line, `reading [${'█'.repeat(7)}${'░'.repeat(21)}]  25%  500/2,000 rows  250 rows/s  ETA 6s`)
  t.is(line.length, 79, 'one column short of the width: a terminal never wraps it')
})

test('formats a plain line without a terminal, and leaves out what it cannot know', (t) => {
  t.is(
    formatProgress({ label: 'reading', unit: 'rows', done: 1500, total: 2000, rate: 100, elapsedMs: 15_000 }),
    'reading: 1,500/2,000 rows (75%), 100 rows/s, ETA 5s',
  )
  t.is(
    formatProgress({ label: 'reading', unit: 'rows', done: 1500, rate: undefined, elapsedMs: 125_000 }),
    'reading: 1,500 rows, 2m05s elapsed',
  )
  t.is(
    formatProgress({ label: 'reading', unit: 'rows', done: 2000, total: 2000, rate: 80, elapsedMs: 25_000 }),
    'reading: 2,000/2,000 rows (100%), 80 rows/s',
  )
})

test('on a terminal, redraws one line in place at most every redrawMs, and ends it with a summary', (t) => {
  let now = 0
  let written = ''
  const progress = progressReporter({
    label: 'reading',
    unit: 'rows',
    total: 100,
    write: (s) => (written += s),
    isTTY: true,
    columns: 60,
    now: () => now,
  })
  now = 1000
  progress.update(10)
  now = 1050
  progress.update(20) // too soon: not drawn
  now = 2000
  progress.update(40)
  now = 4000
  progress.update(100)
  progress.finish()
  const frames = written.split('\r').filter((f) => f !== '')
  t.is(frames.length, 4)
  t.true(frames[0].endsWith(ERASE) && frames[1].endsWith(ERASE))
  t.regex(
    frames[0].slice(0, -ERASE.length),
    /^reading \[█*░*\] {2}10% {2}10\/100 rows {2}10 rows\/s {2}ETA 9s$/,
  )
  t.regex(
    frames[1].slice(0, -ERASE.length),
    /^reading \[█*░*\] {2}40% {2}40\/100 rows {2}20 rows\/s {2}ETA 3s$/,
  )
  t.is(frames[3], `reading: 100 rows in 4.0 s (25 rows/s)${ERASE}\n`)
})

test('in a log, writes a plain line every intervalMs, and a last one only when it wrote any', (t) => {
  let now = 0
  let written = ''
  const progress = progressReporter({
    label: 'reading',
    unit: 'rows',
    total: 100,
    write: (s) => (written += s),
    isTTY: false,
    intervalMs: 5000,
    now: () => now,
  })
  now = 1000
  progress.update(10)
  t.is(written, '', 'nothing before the first interval')
  now = 5000
  progress.update(50)
  now = 7000
  progress.update(70)
  now = 10_000
  progress.update(100)
  progress.finish()
  t.is(
    written,
    'reading: 50/100 rows (50%), 10 rows/s, ETA 5s\nreading: 100/100 rows (100%), 10 rows/s\nreading: 100 rows in 10.0 s (10 rows/s)\n',
  )

  let quiet = ''
  const short = progressReporter({
    label: 'reading',
    total: 10,
    write: (s) => (quiet += s),
    isTTY: false,
    now: () => 0,
  })
  short.update(10)
  short.finish()
  t.is(quiet, '', 'a short run in a log stays quiet')

  let summary = ''
  const producer = progressReporter({
    label: "tweets to 't'",
    unit: 'tweets',
    write: (s) => (summary += s),
    isTTY: false,
    alwaysSummarize: true,
    now: () => 2000,
  })
  producer.update(6)
  producer.finish()
  t.is(summary, "tweets to 't': 6 tweets in 0.0 s (0 tweets/s)\n", 'unless it must always say how it ended')
})
