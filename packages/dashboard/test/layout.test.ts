import test from 'ava'
import type { PhysicalGraphView } from '@weir/core'
import { layoutGraph } from '../src/layout.js'

const graph: PhysicalGraphView = {
  nodes: [
    { id: 'source', operator: 'kafka', kind: 'source', parallelism: 2, stateful: false },
    { id: 'window', operator: 'window-assign', kind: 'transform', parallelism: 2, stateful: false },
    { id: 'aggregate', operator: 'keyed-aggregate', kind: 'transform', parallelism: 3, stateful: true },
    { id: 'late', operator: 'file', kind: 'sink', parallelism: 3, stateful: false },
    { id: 'sink', operator: 'console', kind: 'sink', parallelism: 3, stateful: false },
  ],
  edges: [
    { from: 'source', to: 'window', tag: 'main', partitioner: 'forward', chained: true },
    { from: 'window', to: 'aggregate', tag: 'main', partitioner: 'hash', chained: false },
    { from: 'aggregate', to: 'sink', tag: 'main', partitioner: 'forward', chained: true },
    { from: 'aggregate', to: 'late', tag: 'late', partitioner: 'forward', chained: false },
  ],
}

test('lays every node out left to right, without overlaps, and routes every edge between its nodes', async (t) => {
  const layout = await layoutGraph(graph)
  t.deepEqual(
    layout.nodes.map((n) => n.id),
    graph.nodes.map((n) => n.id),
  )
  const at = new Map(layout.nodes.map((n) => [n.id, n]))
  t.true(at.get('source')!.x < at.get('window')!.x && at.get('window')!.x < at.get('aggregate')!.x)
  t.true(at.get('aggregate')!.x < at.get('sink')!.x && at.get('aggregate')!.x < at.get('late')!.x)
  for (const a of layout.nodes) {
    t.true(
      a.x >= 0 && a.y >= 0 && a.x + a.width <= layout.width && a.y + a.height <= layout.height,
      `${a.id} inside`,
    )
    for (const b of layout.nodes) {
      if (a === b) continue
      const apart =
        a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y
      t.true(apart, `${a.id} and ${b.id} do not overlap`)
    }
  }
  t.deepEqual(
    layout.edges.map((e) => [e.from, e.to, e.label, e.chained]),
    [
      ['source', 'window', 'chained', true],
      ['window', 'aggregate', 'hash', false],
      ['aggregate', 'sink', 'chained', true],
      ['aggregate', 'late', 'late · forward', false],
    ],
  )
  for (const edge of layout.edges) {
    t.true(edge.points.length >= 2, `${edge.from}->${edge.to} has a route`)
    const from = at.get(edge.from)!
    const to = at.get(edge.to)!
    t.is(edge.points[0].x, from.x + from.width, 'leaves from the right side of its source')
    t.is(edge.points.at(-1)!.x, to.x, 'arrives at the left side of its target')
    t.truthy(edge.labelAt)
  }
})
