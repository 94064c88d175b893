// The weir dashboard page: no bundler, no framework. It listens to the server's events
// (`graph`: a query's laid-out physical graph; `history`: the last ticks; `tick`: every query's figures
// now), turns counters into rates between ticks, and draws the graph (SVG) and the charts (uPlot).
/* global document, window, EventSource, ResizeObserver, requestAnimationFrame, location, CSS, uPlot */

const MAX_POINTS = 600
const SVG = 'http://www.w3.org/2000/svg'
const PALETTE = [
  '#2563eb',
  '#16a34a',
  '#d97706',
  '#9333ea',
  '#dc2626',
  '#0891b2',
  '#db2777',
  '#65a30d',
  '#475569',
  '#7c3aed',
]

/** runId → laid-out graph. */
const layouts = new Map()
/** runId → { query (last wire), nodes: [{id, ...}], times: [], series: Map<chart, Map<nodeId, number[]>>, prev, rates } */
const runs = new Map()
let selected = null
/** chart id → { plot, key } */
const plots = new Map()

const CHARTS = [
  { id: 'chart-throughput', metric: 'throughput', unit: '/s', nodes: () => true },
  { id: 'chart-busy', metric: 'busy', unit: '%', nodes: () => true },
  { id: 'chart-backpressure', metric: 'backpressure', unit: '%', nodes: (n) => n.kind !== 'transform' },
  { id: 'chart-lag', metric: 'lag', unit: 's', nodes: () => true },
  { id: 'chart-state', metric: 'state', unit: ' rows', nodes: (n) => n.stateful },
]

// ---------------------------------------------------------------------------------------------
// Figures

/** Sums an instance field over a node's instances. */
function sum(instances, field) {
  let total = 0
  for (const i of instances) total += i[field] ?? 0
  return total
}

function byNode(query) {
  const nodes = new Map()
  for (const i of query.instances) {
    const list = nodes.get(i.node) ?? []
    list.push(i)
    nodes.set(i.node, list)
  }
  return nodes
}

/**
 * The lowest watermark over a node's instances that have one, as ms (`Infinity` at the end), or null
 * when none has: an instance with nothing to read (more instances than splits) never gets one, and
 * holds nothing back downstream either.
 */
function nodeWatermark(instances) {
  let low = Infinity
  let any = false
  for (const i of instances) {
    if (i.watermark === null) continue
    any = true
    if (i.watermark !== 'end' && i.watermark < low) low = i.watermark
  }
  return any ? low : null
}

/** Per node: rates between the previous tick and this one, and levels now. */
function figures(query, prev, seconds, takenAt) {
  const now = byNode(query)
  const before = prev ? byNode(prev) : new Map()
  const out = new Map()
  for (const [node, instances] of now) {
    const last = before.get(node)
    const rate = (field) =>
      last && seconds > 0 ? Math.max(0, (sum(instances, field) - sum(last, field)) / seconds) : null
    const kind =
      instances[0].queueFill !== undefined
        ? 'sink'
        : instances[0].backpressuredMs !== undefined
          ? 'source'
          : 'transform'
    const busy = rate('busyMs')
    let backpressure = null
    if (kind === 'sink') backpressure = Math.max(...instances.map((i) => i.queueFill ?? 0)) * 100
    else if (kind === 'source') {
      const held = rate('backpressuredMs')
      backpressure = held === null ? null : held / 10 / instances.length
    }
    const watermark = nodeWatermark(instances)
    out.set(node, {
      in: rate('recordsIn'),
      throughput: rate('recordsOut'),
      busy: busy === null ? null : busy / 10 / instances.length,
      backpressure,
      watermark,
      lag: watermark === null || watermark === Infinity ? null : (takenAt - watermark) / 1000,
      state: instances.some((i) => i.stateRows !== undefined) ? sum(instances, 'stateRows') : null,
      stateBytes: instances.some((i) => i.stateBytes !== undefined) ? sum(instances, 'stateBytes') : null,
      late: sum(instances, 'late'),
      bad: instances.reduce((n, i) => n + Object.values(i.bad).reduce((a, b) => a + b, 0), 0),
      parallelism: instances.length,
    })
  }
  return out
}

function record(tick) {
  for (const query of tick.queries) {
    let run = runs.get(query.runId)
    if (!run) {
      run = {
        query,
        times: [],
        series: new Map(CHARTS.map((c) => [c.metric, new Map()])),
        prev: null,
        prevAt: 0,
        now: new Map(),
      }
      runs.set(query.runId, run)
    }
    const seconds = run.prev ? (tick.takenAt - run.prevAt) / 1000 : 0
    const now = figures(query, run.prev, seconds, tick.takenAt)
    run.query = query
    run.now = now
    if (run.prev) {
      run.times.push(tick.takenAt / 1000)
      for (const chart of CHARTS) {
        const lines = run.series.get(chart.metric)
        for (const [node, values] of now) {
          let line = lines.get(node)
          if (!line) lines.set(node, (line = new Array(run.times.length - 1).fill(null)))
          line.push(values[chart.metric])
        }
        for (const [node, line] of lines) if (!now.has(node)) line.push(null)
      }
      if (run.times.length > MAX_POINTS) {
        run.times.shift()
        for (const lines of run.series.values()) for (const line of lines.values()) line.shift()
      }
    }
    run.prev = query
    run.prevAt = tick.takenAt
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting

function compact(n, digits = 1) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–'
  const abs = Math.abs(n)
  if (abs >= 1e9) return (n / 1e9).toFixed(digits) + 'G'
  if (abs >= 1e6) return (n / 1e6).toFixed(digits) + 'M'
  if (abs >= 1e4) return (n / 1e3).toFixed(digits) + 'k'
  if (abs >= 100 || Number.isInteger(n)) return Math.round(n).toLocaleString('en-US')
  return n.toFixed(digits)
}

function bytes(n) {
  if (n === null || n === undefined) return '–'
  if (n >= 1 << 30) return (n / (1 << 30)).toFixed(1) + ' GiB'
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + ' MiB'
  if (n >= 1 << 10) return (n / (1 << 10)).toFixed(1) + ' KiB'
  return n + ' B'
}

function utc(ms) {
  if (ms === null || ms === undefined) return '–'
  if (ms === 'end' || ms === Infinity) return 'end of input (+∞)'
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ')
}

function clock(ms) {
  if (ms === null || ms === 'end') return ms === 'end' ? '+∞' : '–'
  return new Date(ms).toISOString().slice(11, 19)
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–'
  const sign = seconds < 0 ? 'ahead ' : ''
  let s = Math.abs(Math.round(seconds))
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  const text =
    h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m ${String(s).padStart(2, '0')}s` : `${s}s`
  return sign + text
}

/** Axis ticks with as many decimals as the step between them needs. */
function ticks(values, suffix = '') {
  const step = values.length > 1 ? Math.abs(values[1] - values[0]) : 1
  const decimals = step >= 1 || step === 0 ? 0 : Math.min(3, Math.ceil(-Math.log10(step)))
  return values.map((v) => (Math.abs(v) >= 1e4 ? compact(v, 0) : v.toFixed(decimals)) + suffix)
}

/** A short duration for an axis: `-2m30s`, `45s`. */
function shortDuration(seconds) {
  const sign = seconds < 0 ? '-' : ''
  const s = Math.abs(Math.round(seconds))
  if (s >= 3600)
    return `${sign}${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
  if (s >= 60) return `${sign}${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${sign}${s}s`
}

function percent(n) {
  return n === null || n === undefined ? '–' : `${n < 10 ? n.toFixed(1) : Math.round(n)}%`
}

// ---------------------------------------------------------------------------------------------
// Rendering

function el(tag, attributes = {}, text) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v)
  if (text !== undefined) node.textContent = text
  return node
}

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v))
  if (text !== undefined) node.textContent = text
  return node
}

function queryLabel(query) {
  return query.name ?? query.id.slice(0, 8)
}

function renderTabs() {
  const nav = document.getElementById('queries')
  const list = [...runs.values()].map((r) => r.query)
  if (selected === null || !runs.has(selected)) {
    const wanted = decodeURIComponent(location.hash.slice(1))
    const pick = list.find((q) => queryLabel(q) === wanted) ?? list.find((q) => q.active) ?? list[0]
    selected = pick ? pick.runId : null
  }
  const key = list.map((q) => `${q.runId}:${q.active}:${q.failure ?? ''}`).join('|') + `@${selected}`
  if (nav.dataset.key === key) return
  nav.dataset.key = key
  nav.replaceChildren(
    ...list.map((q) => {
      const button = el('button', {
        type: 'button',
        'aria-pressed': String(q.runId === selected),
        'data-run': q.runId,
      })
      if (!q.active) button.classList.add(q.failure ? 'failed' : 'ended')
      button.append(el('span', { class: 'dot' }), document.createTextNode(queryLabel(q)))
      button.addEventListener('click', () => {
        selected = q.runId
        location.hash = encodeURIComponent(queryLabel(q))
        render()
      })
      return button
    }),
  )
}

function renderSummary(run) {
  const q = run.query
  const set = (id, text) => {
    const node = document.getElementById(id)
    node.textContent = text
    node.title = text
  }
  const status = q.active ? q.status : q.failure ? `failed (${q.failure})` : 'stopped'
  set('status', status)
  set('epoch', `${q.epoch} · ${q.epochsCompleted} done`)
  let input = 0
  let late = 0
  let bad = 0
  let stateRows = null
  let stateBytes = null
  for (const [node, f] of run.now) {
    const n = nodeInfo(run, node)
    if (n.kind === 'source' && f.in !== null) input += f.in
    late += f.late
    bad += f.bad
    if (f.state !== null) stateRows = (stateRows ?? 0) + f.state
    if (f.stateBytes !== null) stateBytes = (stateBytes ?? 0) + f.stateBytes
  }
  set('rate', `${compact(input)} rows/s`)
  set('watermark', utc(q.watermark))
  const wall = run.prevAt
  set('wall', utc(wall))
  set('lag', q.watermark === null || q.watermark === 'end' ? '–' : duration((wall - q.watermark) / 1000))
  set('state', stateRows === null ? '–' : `${compact(stateRows)} rows · ${bytes(stateBytes)}`)
  set('late', compact(late))
  set('bad', compact(bad))
}

/** The node of the laid-out graph, or what the figures say of it before the layout came. */
function nodeInfo(run, id) {
  const layout = layouts.get(run.query.runId)
  const node = layout?.nodes.find((n) => n.id === id)
  if (node) return node
  const instances = run.query.instances.filter((i) => i.node === id)
  const kind =
    instances[0]?.queueFill !== undefined
      ? 'sink'
      : instances[0]?.backpressuredMs !== undefined
        ? 'source'
        : 'transform'
  return {
    id,
    operator: '',
    kind,
    parallelism: instances.length,
    stateful: instances.some((i) => i.stateRows !== undefined),
  }
}

function renderGraph(run) {
  const container = document.getElementById('graph')
  const layout = layouts.get(run.query.runId)
  if (!layout) {
    if (container.dataset.run !== 'none') {
      container.dataset.run = 'none'
      container.replaceChildren(el('p', { class: 'empty' }, 'laying out the graph…'))
    }
    return
  }
  if (container.dataset.run !== run.query.runId) {
    container.dataset.run = run.query.runId
    // As wide as the layout, shrunk to fit a narrower page.
    const root = svg('svg', {
      width: layout.width,
      height: layout.height,
      viewBox: `0 0 ${layout.width} ${layout.height}`,
      role: 'img',
    })
    root.classList.add('fit')
    root.append(svg('title', {}, `physical graph of ${queryLabel(run.query)}`))
    const defs = svg('defs')
    const marker = svg('marker', {
      id: 'arrow',
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    })
    marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#7d8797' }))
    defs.append(marker)
    root.append(defs)
    for (const edge of layout.edges) {
      if (edge.points.length < 2) continue
      const d = edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x} ${p.y}`).join(' ')
      root.append(
        svg('path', {
          d,
          class: `edge${edge.chained ? ' chained' : ''}`,
          'marker-end': 'url(#arrow)',
          'data-edge': `${edge.from}->${edge.to}`,
        }),
      )
      if (edge.labelAt)
        root.append(
          svg(
            'text',
            { x: edge.labelAt.x, y: edge.labelAt.y, 'text-anchor': 'middle', class: 'edge-label' },
            edge.label,
          ),
        )
    }
    for (const node of layout.nodes) {
      const g = svg('g', {
        class: `node ${node.kind}`,
        transform: `translate(${node.x},${node.y})`,
        'data-node': node.id,
      })
      g.append(svg('rect', { width: node.width, height: node.height, rx: 8, ry: 8 }))
      g.append(svg('text', { x: 12, y: 20, class: 'id' }, node.id))
      g.append(svg('text', { x: 12, y: 37, class: 'type' }, `${node.operator} ×${node.parallelism}`))
      g.append(svg('text', { x: 12, y: 57, class: 'figures', 'data-line': 1 }, ''))
      g.append(svg('text', { x: 12, y: 74, class: 'figures', 'data-line': 2 }, ''))
      root.append(g)
    }
    container.replaceChildren(root)
  }
  for (const node of layout.nodes) {
    const g = container.querySelector(`g[data-node="${CSS.escape(node.id)}"]`)
    const f = run.now.get(node.id)
    if (!g || !f) continue
    const first = `${compact(f.throughput)}/s · busy ${percent(f.busy)}`
    let second = ''
    if (node.stateful) second = `state ${compact(f.state)} rows · ${bytes(f.stateBytes)}`
    else if (node.kind === 'sink') second = `queue ${percent(f.backpressure)} · lag ${duration(f.lag)}`
    else if (node.kind === 'source') second = `held ${percent(f.backpressure)} · lag ${duration(f.lag)}`
    else second = `watermark ${clock(f.watermark === Infinity ? 'end' : f.watermark)}`
    g.querySelector('[data-line="1"]').textContent = first
    g.querySelector('[data-line="2"]').textContent = second
    const pressure = Math.max(f.busy ?? 0, f.backpressure ?? 0)
    g.classList.toggle('hot', pressure >= 80)
    g.classList.toggle('warm', pressure >= 40 && pressure < 80)
  }
}

function renderCharts(run) {
  const nodes = layouts.get(run.query.runId)?.nodes ?? [...run.now.keys()].map((id) => nodeInfo(run, id))
  for (const chart of CHARTS) {
    const figure = document.getElementById(chart.id)
    const shown = nodes.filter(chart.nodes).map((n) => n.id)
    const lines = run.series.get(chart.metric)
    const data = [
      run.times.slice(),
      ...shown.map((id) => (lines.get(id) ?? new Array(run.times.length).fill(null)).slice()),
    ]
    const key = `${run.query.runId}|${shown.join(',')}`
    let entry = plots.get(chart.id)
    if (!entry || entry.key !== key) {
      entry?.plot.destroy()
      figure.querySelector('.plot')?.remove()
      const holder = el('div', { class: 'plot' })
      figure.append(holder)
      const plot = new uPlot(
        {
          width: Math.max(300, figure.clientWidth - 28),
          height: 190,
          legend: { live: false },
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: true } },
          axes: [
            { stroke: '#6b7585', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#dde1e7' } },
            {
              stroke: '#6b7585',
              // As wide as the longest tick label.
              size: (_u, values) =>
                values ? Math.max(40, Math.max(...values.map((v) => v.length)) * 7 + 18) : 50,
              grid: { stroke: '#eef0f3' },
              ticks: { stroke: '#dde1e7' },
              values: (_u, values) =>
                chart.metric !== 'lag'
                  ? ticks(values)
                  : Math.max(...values.map(Math.abs)) < 600
                    ? ticks(values, 's')
                    : values.map(shortDuration),
            },
          ],
          series: [
            {},
            ...shown.map((id, i) => ({
              label: id,
              stroke: PALETTE[i % PALETTE.length],
              width: 1.6,
              spanGaps: false,
              value: (_u, v) =>
                v === null ? '–' : chart.metric === 'lag' ? duration(v) : `${compact(v)}${chart.unit}`,
            })),
          ],
        },
        data,
        holder,
      )
      entry = { plot, key }
      plots.set(chart.id, entry)
    } else {
      entry.plot.setData(data)
    }
    figure.dataset.points = String(run.times.length)
  }
}

function renderTables(run) {
  const q = run.query
  const operators = document.querySelector('#operators tbody')
  operators.replaceChildren(
    ...[...run.now].map(([id, f]) => {
      const n = nodeInfo(run, id)
      const held = n.kind === 'transform' ? '–' : percent(f.backpressure)
      const row = el('tr', { 'data-node': id })
      const cells = [
        [id],
        [n.operator || n.kind],
        [String(f.parallelism), 'n'],
        [compact(f.in), 'n'],
        [compact(f.throughput), 'n'],
        [percent(f.busy), 'n'],
        [utc(f.watermark === Infinity ? 'end' : f.watermark)],
        [f.state === null ? '–' : compact(f.state), 'n'],
        [f.stateBytes === null ? '–' : bytes(f.stateBytes), 'n'],
        [compact(f.late), f.late > 0 ? 'n warn' : 'n'],
        [compact(f.bad), f.bad > 0 ? 'n bad' : 'n'],
        [held, 'n'],
      ]
      for (const [text, cls] of cells) row.append(el('td', cls ? { class: cls } : {}, text))
      return row
    }),
  )
  const epochs = document.querySelector('#epochs tbody')
  epochs.replaceChildren(
    ...q.recentEpochs
      .slice()
      .reverse()
      .map((e) => {
        const row = el('tr')
        const cells = [
          [String(e.epoch), 'n'],
          [clock(e.triggeredAt)],
          [`${e.durationMs} ms`, 'n'],
          [e.checkpointed ? `${e.snapshotMs} ms` : '–', 'n'],
          [compact(e.numInputRows), 'n'],
          [compact(e.numOutputRows), 'n'],
          [utc(e.watermark)],
        ]
        for (const [text, cls] of cells) row.append(el('td', cls ? { class: cls } : {}, text))
        return row
      }),
  )
  const splits = document.querySelector('#splits tbody')
  splits.replaceChildren(
    ...q.splits.map((s) => {
      const row = el('tr')
      for (const [text, cls] of [
        [`${s.node} #${s.instance}`],
        [s.split],
        [s.position],
        [s.lag === undefined ? '–' : compact(s.lag), 'n'],
      ]) {
        row.append(el('td', cls ? { class: cls } : {}, text))
      }
      return row
    }),
  )
}

function render() {
  renderTabs()
  const run = selected === null ? undefined : runs.get(selected)
  document.getElementById('empty').hidden = run !== undefined
  if (!run) return
  renderSummary(run)
  renderGraph(run)
  renderCharts(run)
  renderTables(run)
}

// ---------------------------------------------------------------------------------------------
// Wiring

const connection = document.getElementById('connection')
const events = new EventSource('/events')
events.addEventListener('open', () => {
  connection.textContent = 'live'
  connection.classList.add('live')
})
events.addEventListener('error', () => {
  connection.textContent = 'reconnecting…'
  connection.classList.remove('live')
})
events.addEventListener('graph', (event) => {
  const { runId, layout } = JSON.parse(event.data)
  layouts.set(runId, layout)
  if (runs.has(runId)) render()
})
events.addEventListener('history', (event) => {
  // A reconnect replays the history: start the series again from it.
  runs.clear()
  for (const tick of JSON.parse(event.data)) record(tick)
  render()
})
events.addEventListener('tick', (event) => {
  record(JSON.parse(event.data))
  render()
})

let resizing = false
new ResizeObserver(() => {
  // Resize on the next frame, not inside the observer's callback: no resize loop.
  if (resizing) return
  resizing = true
  requestAnimationFrame(() => {
    resizing = false
    for (const [id, { plot }] of plots) {
      const figure = document.getElementById(id)
      plot.setSize({ width: Math.max(300, figure.clientWidth - 28), height: 190 })
    }
  })
}).observe(document.querySelector('.charts'))

window.weirDashboard = { runs, layouts }
