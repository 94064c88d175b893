import { request } from 'node:http'
import test from 'ava'
import { startDashboard } from '../src/dashboard.js'
import { startWatermarkedCounts } from './running-query.js'

/** `name{labels}` → value, from Prometheus' text format. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    const value = line.slice(at + 1)
    samples.set(line.slice(0, at), value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : Number(value))
  }
  return samples
}

function total(samples: Map<string, number>, prefix: string): number {
  let sum = 0
  for (const [key, value] of samples) if (key.startsWith(prefix)) sum += value
  return sum
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A GET with a Host header of our choosing (fetch will not set one). */
function get(
  url: string,
  options: { host?: string; method?: string } = {},
): Promise<{ status: number; type: string; body: string; csp?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.host ? { host: options.host } : {} },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type']),
            body,
            ...(res.headers['content-security-policy']
              ? { csp: String(res.headers['content-security-policy']) }
              : {}),
          }),
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

test('serves /metrics while a query runs: its counters rise and its watermark moves', async (t) => {
  const running = await startWatermarkedCounts()
  const dashboard = await startDashboard({ manager: running.manager, port: 0 })
  t.teardown(async () => {
    await dashboard.close()
    await running.stop()
  })
  t.regex(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  const scrape = async () => {
    const response = await fetch(`${dashboard.url}metrics`)
    t.is(response.status, 200)
    t.is(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    return parse(await response.text())
  }
  const watermark = 'weir_query_watermark_seconds{query="watermarked_counts"}'
  let first = await scrape()
  for (let i = 0; i < 50 && !Number.isFinite(first.get(watermark)); i++) {
    await delay(100)
    first = await scrape()
  }
  t.true(Number.isFinite(first.get(watermark)), 'the watermark is set within 5 s')
  await delay(1200)
  const second = await scrape()

  const read = 'weir_records_in_total{query="watermarked_counts",operator="source"'
  t.true(
    total(second, read) > total(first, read),
    `records read rise: ${total(first, read)} → ${total(second, read)}`,
  )
  const batches = 'weir_batches_total{query="watermarked_counts",operator="aggregate"'
  t.true(total(second, batches) > total(first, batches))
  const epochs = 'weir_epochs_completed_total{query="watermarked_counts"}'
  t.true(second.get(epochs)! > first.get(epochs)!, 'epochs complete')
  t.true(
    second.get(watermark)! > first.get(watermark)!,
    `the watermark moves: ${first.get(watermark)} → ${second.get(watermark)}`,
  )
  t.true(
    second.has('weir_watermark_lag_seconds{query="watermarked_counts",operator="aggregate",instance="0"}'),
  )
  t.true(second.has('weir_state_rows{query="watermarked_counts",operator="aggregate",instance="1"}'))
  t.true(second.has('weir_queue_fill_ratio{query="watermarked_counts",operator="sink",instance="0"}'))

  // The endpoint serves the same families as the query's own text.
  const own = [...running.query.metrics().matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`)
  const served = [
    ...(await (await fetch(`${dashboard.url}metrics`)).text()).matchAll(/^# TYPE (\S+) (\S+)$/gm),
  ].map((m) => `${m[1]} ${m[2]}`)
  t.deepEqual(served.filter((line) => own.includes(line)).sort(), own.sort())
})

test('serves its page and vendor files, and nothing else; refuses other hosts and methods', async (t) => {
  const running = await startWatermarkedCounts({ name: 'http_checks' })
  const dashboard = await startDashboard({ manager: running.manager, port: 0 })
  t.teardown(async () => {
    await dashboard.close()
    await running.stop()
  })
  const page = await get(dashboard.url)
  t.is(page.status, 200)
  t.is(page.type, 'text/html; charset=utf-8')
  t.true(page.body.includes('<script src="/vendor/uPlot.iife.min.js" defer></script>'))
  t.regex(page.csp ?? '', /default-src 'none'; script-src 'self'/)
  const vendor = await get(`${dashboard.url}vendor/uPlot.iife.min.js`)
  t.is(vendor.status, 200)
  t.is(vendor.type, 'text/javascript; charset=utf-8')
  t.is((await get(`${dashboard.url}app.js`)).status, 200)
  t.is((await get(`${dashboard.url}../package.json`)).status, 404)
  t.is((await get(`${dashboard.url}vendor/../../package.json`)).status, 404)
  t.is((await get(dashboard.url, { method: 'POST' })).status, 405)
  t.is((await get(`${dashboard.url}metrics`, { host: 'attacker.example:80' })).status, 403, 'DNS rebinding')
  t.is((await get(`${dashboard.url}metrics`, { host: `localhost:${dashboard.port}` })).status, 200)
  const state = JSON.parse((await get(`${dashboard.url}api/state`)).body) as {
    tick: { queries: { name: string }[] }
  }
  t.deepEqual(
    state.tick.queries.map((q) => q.name),
    ['http_checks'],
  )
})

test('warns when it listens beyond this machine, and says why', async (t) => {
  const warnings: string[] = []
  const dashboard = await startDashboard({ host: '0.0.0.0', port: 0, warn: (m) => warnings.push(m) })
  t.teardown(() => dashboard.close())
  t.is(warnings.length, 1)
  t.regex(warnings[0], /listens on 0\.0\.0\.0:\d+, beyond this machine: .* no login\. Bind 127\.0\.0\.1/)
})

test('refuses a port that is in use, saying what to do', async (t) => {
  const first = await startDashboard({ port: 0 })
  t.teardown(() => first.close())
  await t.throwsAsync(startDashboard({ port: first.port }), {
    message: /port \d+ on 127\.0\.0\.1 is in use: pick another port/,
  })
})
