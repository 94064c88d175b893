import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Registry } from 'prom-client'
import { ConfigError, streams, WeirError, type StreamingQuery, type StreamingQueryManager } from '@weir/core'
import { EventStream } from './event-stream.js'
import { layoutGraph, type GraphLayout } from './layout.js'
import { registerWeirMetrics } from './prometheus.js'
import { toWire, type Tick, type WireQuery } from './wire.js'

export interface DashboardOptions {
  /** Whose queries to show. Default: `streams`, the default engine's. */
  readonly manager?: StreamingQueryManager
  /** Default 4040 (Spark's UI port); 0 picks a free one (see `Dashboard.port`). */
  readonly port?: number
  /**
   * Default `127.0.0.1`: only this machine can open the page. Any other address is opt-in and warned
   * about: the page has no login.
   */
  readonly host?: string
  /** How often the page is pushed new figures. Default 1000 ms. */
  readonly intervalMs?: number
  /** The prom-client registry `/metrics` serves; the queries' metrics are added to it. Default: a new one. */
  readonly registry?: Registry
  /** Where the warning about a non-loopback bind goes. Default: `process.emitWarning`. */
  readonly warn?: (message: string) => void
}

export interface Dashboard {
  /** The page's address, e.g. `http://127.0.0.1:4040/`. */
  readonly url: string
  readonly host: string
  readonly port: number
  /** The registry `/metrics` serves: register the app's own metrics here to serve them alongside. */
  readonly registry: Registry
  /** Stops serving: closes every page's event stream and the server. */
  close(): Promise<void>
}

/** Ticks kept for a page that opens late, so its charts start with the last two minutes at a 1 s interval. */
const HISTORY = 120
/** Queries that ended stay on the page (their last figures) until this many more have ended. */
const KEEP_ENDED = 10
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/**
 * Serves a live page of the queries of a `StreamingQueryManager`: the physical graph of each query
 * (laid out by ELK), per-operator throughput, busy time, backpressure and watermark lag as charts
 * (uPlot), the watermark against wall time, state size, late and bad rows, and the recent epochs,
 * pushed every second over Server-Sent Events. Also serves the queries' metrics on `/metrics` in
 * Prometheus' text format. Figures only: no record, no source description and no error text reaches
 * the page. Library files come from `node_modules`; nothing is bundled and nothing loads from a CDN.
 *
 * @example
 * ```ts
 * import { streams } from '@weir/core'
 * import { startDashboard } from '@weir/dashboard'
 * const dashboard = await startDashboard({ manager: streams, port: 4040 })
 * console.log(`open ${dashboard.url}`)
 * // … on shutdown:
 * await dashboard.close()
 * ```
 */
export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const manager = options.manager ?? streams
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 4040
  const intervalMs = options.intervalMs ?? 1000
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(
      `dashboard port ${port} is not a port: use a whole number from 1 to 65535 (or 0 for any free one), e.g. 4040`,
    )
  }
  if (!(intervalMs >= 100))
    throw new ConfigError(`dashboard intervalMs ${intervalMs} must be >= 100 ms, e.g. 1000`)
  const loopback = LOOPBACK.has(host)
  const registry = registerWeirMetrics({
    manager,
    ...(options.registry ? { registry: options.registry } : {}),
  })
  const events = new EventStream()
  const tracked = new Map<string, { readonly query: StreamingQuery; endedAt?: number }>()
  const layouts = new Map<string, GraphLayout>()
  const history: Tick[] = []

  const track = (query: StreamingQuery) => {
    if (tracked.has(query.runId)) return
    tracked.set(query.runId, { query })
    layoutGraph(query.metricsSnapshot().graph).then(
      (layout) => {
        if (!tracked.has(query.runId)) return
        layouts.set(query.runId, layout)
        events.broadcast('graph', { runId: query.runId, layout })
      },
      () => undefined, // No drawing for this query; its figures still show.
    )
  }
  const stopListening = manager.addListener({
    onQueryStarted: ({ id }) => {
      const query = manager.get(id)
      if (query) track(query)
    },
  })

  const tick = (): Tick => {
    for (const query of manager.active) track(query)
    const queries: WireQuery[] = []
    for (const [runId, entry] of tracked) {
      const active = entry.query.isActive
      if (!active) entry.endedAt ??= Date.now()
      try {
        const failure = entry.query.exception ? failureCode(entry.query.exception) : undefined
        queries.push(toWire(entry.query.metricsSnapshot(), { active, ...(failure ? { failure } : {}) }))
      } catch {
        tracked.delete(runId)
        layouts.delete(runId)
      }
    }
    const ended = [...tracked]
      .filter(([, e]) => e.endedAt !== undefined)
      .sort(([, a], [, b]) => a.endedAt! - b.endedAt!)
    for (const [runId] of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) {
      tracked.delete(runId)
      layouts.delete(runId)
    }
    const next: Tick = { takenAt: Date.now(), queries }
    history.push(next)
    if (history.length > HISTORY) history.shift()
    return next
  }
  tick()
  const timer = setInterval(() => events.broadcast('tick', tick()), intervalMs)
  timer.unref()

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' })
      res.end('internal error\n')
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Referrer-Policy', 'no-referrer')
    if (loopback && !isLoopbackHost(req.headers.host)) {
      // A page elsewhere that points a name of its own at 127.0.0.1 (DNS rebinding) must not read this one.
      return plain(res, 403, 'this dashboard answers only to localhost / 127.0.0.1\n')
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      return plain(res, 405, 'method not allowed\n')
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/events') {
      return events.open(res, (send) => {
        for (const [runId, layout] of layouts) send('graph', { runId, layout })
        send('history', history)
      })
    }
    if (path === '/metrics') {
      const text = await registry.metrics()
      res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' })
      return void res.end(req.method === 'HEAD' ? undefined : text)
    }
    if (path === '/api/state') {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' })
      return void res.end(JSON.stringify({ tick: history.at(-1), layouts: Object.fromEntries(layouts) }))
    }
    const file = FILES[path]
    if (!file) return plain(res, 404, 'not found\n')
    const body = await readFile(file.path())
    res.writeHead(200, {
      'Content-Type': file.type,
      'Cache-Control': 'no-cache',
      ...(file.type.startsWith('text/html') ? { 'Content-Security-Policy': CSP } : {}),
    })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError(
              `dashboard: port ${port} on ${host} is in use: pick another port (e.g. ${port + 1}), or 0 for any free one`,
              { cause: error },
            )
          : error,
      ),
    )
    server.listen(port, host, () => resolve())
  })
  const bound = (server.address() as AddressInfo).port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`
  if (!loopback) {
    ;(options.warn ?? ((m: string) => process.emitWarning(m, 'WeirDashboardWarning')))(
      `the weir dashboard listens on ${host}:${bound}, beyond this machine: anyone who can reach it sees your queries' metrics ` +
        `(no records, no credentials), and it has no login. Bind 127.0.0.1 and reach it through an SSH tunnel instead.`,
    )
  }

  return {
    url,
    host,
    port: bound,
    registry,
    async close() {
      clearInterval(timer)
      stopListening()
      events.closeAll()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // uPlot sizes and positions its own elements with inline styles.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
/** `public/` beside `src/` when run from source, beside `dist/` when compiled. */
const publicDir = () => join(here, here.endsWith(join('dist', 'src')) ? '../..' : '..', 'public')

/** Every file the page may load, by path: nothing else on disk is reachable. */
const FILES: Record<string, { readonly type: string; path(): string }> = {
  '/': { type: 'text/html; charset=utf-8', path: () => join(publicDir(), 'index.html') },
  '/app.js': { type: 'text/javascript; charset=utf-8', path: () => join(publicDir(), 'app.js') },
  '/app.css': { type: 'text/css; charset=utf-8', path: () => join(publicDir(), 'app.css') },
  '/vendor/uPlot.iife.min.js': {
    type: 'text/javascript; charset=utf-8',
    path: () => require.resolve('uplot/dist/uPlot.iife.min.js'),
  },
  '/vendor/uPlot.min.css': {
    type: 'text/css; charset=utf-8',
    path: () => require.resolve('uplot/dist/uPlot.min.css'),
  },
}

function isLoopbackHost(header: string | undefined): boolean {
  if (!header) return false
  const name = header.startsWith('[') ? header.slice(1, header.indexOf(']')) : header.replace(/:\d+$/, '')
  return LOOPBACK.has(name.toLowerCase())
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' })
  res.end(text)
}

/** The code of what failed a query (its message may quote a record, so only the code is shown). */
function failureCode(exception: WeirError): string {
  const cause = exception.cause
  return cause instanceof WeirError ? cause.code : exception.code
}
