import { Counter, Gauge, Registry } from 'prom-client'
import { METRIC_DEFINITIONS, type MetricFamily, type StreamingQueryManager } from '@weir/core'

/**
 * Registers the metrics of every active query of `manager` on a prom-client registry (a new one by
 * default), so that `registry.metrics()` is the text a `/metrics` endpoint serves: the same families
 * as `query.metrics()`, for all queries at once, beside whatever else the app registers there
 * (`collectDefaultMetrics({ register: registry })` adds the process' own). Nothing is kept between
 * scrapes: each scrape takes one snapshot of each query, so a query that stopped leaves no stale series.
 *
 * @example
 * ```ts
 * const registry = registerWeirMetrics({ manager: streams })
 * http.createServer(async (req, res) => {
 *   res.setHeader('Content-Type', registry.contentType)
 *   res.end(await registry.metrics())
 * }).listen(9464, '127.0.0.1')
 * ```
 */
export function registerWeirMetrics(options: {
  manager: StreamingQueryManager
  registry?: Registry
}): Registry {
  const registry = options.registry ?? new Registry()
  // One scrape collects every metric in one synchronous pass: snapshot the queries once for all of them.
  let families: Map<string, MetricFamily[]> | undefined
  const current = (): Map<string, MetricFamily[]> => {
    if (families) return families
    const byName = new Map<string, MetricFamily[]>()
    for (const query of options.manager.active) {
      let list: MetricFamily[]
      try {
        list = query.metricFamilies()
      } catch {
        continue // A query that is going away has nothing to say; the scrape goes on.
      }
      for (const family of list) byName.set(family.name, [...(byName.get(family.name) ?? []), family])
    }
    families = byName
    setImmediate(() => (families = undefined))
    return byName
  }

  for (const definition of Object.values(METRIC_DEFINITIONS)) {
    const common = {
      name: definition.name,
      help: definition.help,
      labelNames: [...definition.labelNames],
      registers: [registry],
    }
    if (definition.type === 'counter') {
      new Counter({
        ...common,
        collect() {
          this.reset()
          for (const family of current().get(definition.name) ?? []) {
            for (const sample of family.samples) this.inc(sample.labels, Math.max(0, sample.value))
          }
        },
      })
    } else {
      new Gauge({
        ...common,
        collect() {
          this.reset()
          for (const family of current().get(definition.name) ?? []) {
            for (const sample of family.samples) this.set(sample.labels, sample.value)
          }
        },
      })
    }
  }
  return registry
}
