import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { chromium, type BrowserContext } from 'playwright-core'
import { startDashboard, type Dashboard } from '../src/dashboard.js'
import { startWatermarkedCounts } from './running-query.js'

// Opens the dashboard of a running query in headless Chromium (Debian's, driven by playwright-core;
// nothing is downloaded), and saves a screenshot under test-artifacts/ at the repo root.

/** The page's document, in the functions that run in the page (this file is compiled without the DOM's types). */
declare const document: {
  getElementById(id: string): { dataset: Record<string, string | undefined> } | null
  querySelector(selector: string): { textContent: string | null } | null
}

const CHROMIUM = '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]
/** This file runs from packages/dashboard/dist/test/. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..')
const artifact = join(repoRoot, 'test-artifacts', 'dashboard.png')

const haveChromium = existsSync(CHROMIUM)
const inCi = process.env.CI === 'true'
if (!haveChromium && !inCi) {
  console.error(
    `\n*** SKIPPING the dashboard browser test: no Chromium at ${CHROMIUM} (apt-get install chromium) ***\n`,
  )
}

let context: BrowserContext | undefined
let profile: string | undefined
let dashboard: Dashboard | undefined
let stopQuery: (() => Promise<void>) | undefined

test.after.always(async () => {
  // Whatever happened: the browser goes first (its page would log the closed stream), then the rest.
  await Promise.race([context?.close(), new Promise((resolve) => setTimeout(resolve, 5000))]).catch(
    () => undefined,
  )
  await dashboard?.close()
  await stopQuery?.()
  if (profile) await rm(profile, { recursive: true, force: true })
})

;(haveChromium || inCi ? test : test.skip)(
  'shows the graph with every operator and live charts, with no console error, and saves a screenshot',
  async (t) => {
    t.timeout(30_000)
    if (!haveChromium)
      return t.fail(`no Chromium at ${CHROMIUM}: CI must install it (apt-get install chromium)`)
    const running = await startWatermarkedCounts()
    stopQuery = () => running.stop()
    dashboard = await startDashboard({ manager: running.manager, port: 0, intervalMs: 250 })

    profile = await mkdtemp(join(tmpdir(), 'weir-chromium-'))
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1400, height: 1000 },
      timeout: 15_000,
    })
    context.setDefaultTimeout(10_000)
    const page = context.pages()[0] ?? (await context.newPage())
    const errors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`)
    })
    page.on('pageerror', (error) => errors.push(`page: ${error.message}`))

    await page.goto(dashboard.url)
    const nodes = running.query.metricsSnapshot().graph.nodes.map((n) => n.id)
    t.deepEqual(nodes, ['source', 'window', 'partial', 'aggregate', 'project', 'sink'])
    for (const id of nodes) await page.locator(`#graph svg g[data-node="${id}"]`).waitFor()
    t.is(await page.locator('#graph svg g[data-node]').count(), nodes.length, 'one box per operator')
    t.is(await page.locator('#graph svg path.edge').count(), 5, 'one arrow per edge')
    t.is(await page.locator('nav button').textContent(), 'watermarked_counts')

    const charts = ['throughput', 'busy', 'backpressure', 'lag', 'state']
    const points = () =>
      Promise.all(
        charts.map(async (c) => Number(await page.locator(`#chart-${c}`).getAttribute('data-points'))),
      )
    for (const c of charts) await page.locator(`#chart-${c} canvas`).waitFor()
    const before = await points()
    await page.waitForFunction(
      ({ charts, before }) =>
        charts.every(
          (c, i) => Number(document.getElementById(`chart-${c}`)!.dataset.points) >= before[i] + 3,
        ),
      { charts, before },
    )
    const after = await points()
    t.true(
      after.every((n, i) => n >= before[i] + 3),
      `charts receive points: ${before.join()} → ${after.join()}`,
    )

    // Live figures: a rate in the source's box, the watermark against wall time, the recent epochs.
    await page.waitForFunction(() =>
      /\/s · busy/.test(
        document.querySelector('#graph g[data-node="source"] [data-line="1"]')?.textContent ?? '',
      ),
    )
    t.regex((await page.locator('#watermark').textContent()) ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    t.regex((await page.locator('#wall').textContent()) ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    t.true((await page.locator('#epochs tbody tr').count()) > 0)
    t.is(await page.locator('#operators tbody tr').count(), nodes.length)

    await mkdir(dirname(artifact), { recursive: true })
    await page.screenshot({ path: artifact, fullPage: true })
    t.true(existsSync(artifact))

    await context.close()
    context = undefined
    t.deepEqual(errors, [], 'the page logged no error')
  },
)
