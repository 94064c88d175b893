import test from 'ava'

import { ConfigError } from '../../src/errors.js'
import { defineOperator } from '../../src/graph/operator.js'
import {
  buildPhysicalPlan,
  describePlan,
  gateChannels,
  type PhysicalPlan,
} from '../../src/graph/physical-plan.js'
import { defineSink, defineSource } from '../../src/graph/specs.js'
import { StreamGraph } from '../../src/graph/stream-graph.js'
import { CollectSink } from '../../src/testing/collect-sink.js'
import { listSource } from '../../src/testing/list-source.js'

const source = (id: string) => defineSource(id, listSource<string>([]))
const sink = (id: string) => defineSink(id, new CollectSink<string>())
const pass = (id: string, sideOutputs: string[] = []) =>
  defineOperator<string, string>({
    id,
    name: 'pass',
    sideOutputs,
    build: () => ({ onData: (records, out) => out.emit(records) }),
  })

const node = (plan: PhysicalPlan, id: string) => plan.nodes.find((n) => n.id === id)!
/** `from:tag#upstreamInstance` for every channel of an instance's gate, in gate order. */
const channels = (plan: PhysicalPlan, id: string, instance: number) =>
  gateChannels(plan, node(plan, id), instance).map(
    (c) => `${c.edge.from}:${c.edge.tag}#${c.upstreamInstance}`,
  )

test('chains a forward edge between equal parallelisms when it is the only input of its target', (t) => {
  const graph = new StreamGraph({ parallelism: 2 })
  graph.from(source('lines')).via(pass('words')).to(sink('out'))
  const plan = buildPhysicalPlan(graph)
  t.is(
    describePlan(plan),
    ['lines (source) [2]', 'words (pass) [2] <-chained- lines', 'out (sink) [2] <-chained- words'].join('\n'),
  )
  t.is(node(plan, 'words').chainedInput, graph.edges[0])
  t.deepEqual(node(plan, 'words').exchangeInputs, [])
  t.deepEqual(node(plan, 'lines').outputs, [graph.edges[0]])
})

test('ends a chain at keyBy, rebalance and broadcast, even between equal parallelisms', (t) => {
  const graph = new StreamGraph({ parallelism: 2 })
  graph
    .from(source('lines'))
    .keyBy((s) => s)
    .via(pass('count'))
    .rebalance()
    .via(pass('format'))
    .broadcast()
    .to(sink('out'))
  const plan = buildPhysicalPlan(graph)
  t.is(
    describePlan(plan),
    [
      'lines (source) [2]',
      'count (pass) [2] <=hash= lines',
      'format (pass) [2] <=rebalance= count',
      'out (sink) [2] <=broadcast= format',
    ].join('\n'),
  )
  for (const id of ['count', 'format', 'out']) t.is(node(plan, id).chainedInput, undefined)
  t.deepEqual(channels(plan, 'count', 1), ['lines:main#0', 'lines:main#1'])
})

test('puts an exchange between different parallelisms', (t) => {
  const graph = new StreamGraph()
  graph
    .from(source('lines'), { parallelism: 4 })
    .rebalance()
    .via(pass('words'), { parallelism: 2 })
    .to(sink('out'), { parallelism: 2 })
  const plan = buildPhysicalPlan(graph)
  t.is(
    describePlan(plan),
    ['lines (source) [4]', 'words (pass) [2] <=rebalance= lines', 'out (sink) [2] <-chained- words'].join(
      '\n',
    ),
  )
  t.deepEqual(channels(plan, 'words', 0), ['lines:main#0', 'lines:main#1', 'lines:main#2', 'lines:main#3'])
})

test('reads a union through an exchange, one channel per input edge for a forward edge', (t) => {
  const graph = new StreamGraph({ parallelism: 2 })
  const a = graph.from(source('a'))
  const b = graph.from(source('b'))
  a.union(b).via(pass('merge')).to(sink('out'))
  const plan = buildPhysicalPlan(graph)
  t.is(
    describePlan(plan),
    [
      'a (source) [2]',
      'b (source) [2]',
      'merge (pass) [2] <=forward= a, <=forward= b',
      'out (sink) [2] <-chained- merge',
    ].join('\n'),
  )
  t.is(node(plan, 'merge').chainedInput, undefined)
  t.deepEqual(channels(plan, 'merge', 0), ['a:main#0', 'b:main#0'])
  t.deepEqual(channels(plan, 'merge', 1), ['a:main#1', 'b:main#1'])
})

test('numbers gate channels by input edge, then by upstream instance', (t) => {
  const graph = new StreamGraph()
  const a = graph.from(source('a'), { parallelism: 2 }).keyBy((s) => s)
  const b = graph.from(source('b'), { parallelism: 3 }).rebalance()
  a.union(b).via(pass('merge'), { parallelism: 2 }).to(sink('out'), { parallelism: 2 })
  const plan = buildPhysicalPlan(graph)
  t.is(describePlan(plan).split('\n')[2], 'merge (pass) [2] <=hash= a, <=rebalance= b')
  const expected = ['a:main#0', 'a:main#1', 'b:main#0', 'b:main#1', 'b:main#2']
  t.deepEqual(channels(plan, 'merge', 0), expected)
  t.deepEqual(channels(plan, 'merge', 1), expected)
})

test('chains a forward side output and names an exchanged one by its tag', (t) => {
  const graph = new StreamGraph({ parallelism: 2 })
  const counted = graph.from(source('lines')).via(pass('count', ['late', 'dead-letter']))
  counted.to(sink('out'))
  counted.sideOutput('late').rebalance().to(sink('late-rows'), { parallelism: 1 })
  counted.sideOutput('dead-letter').to(sink('dead-letters'))
  const plan = buildPhysicalPlan(graph)
  t.is(
    describePlan(plan),
    [
      'lines (source) [2]',
      'count (pass) [2] <-chained- lines',
      'out (sink) [2] <-chained- count',
      'late-rows (sink) [1] <=rebalance(late)= count',
      'dead-letters (sink) [2] <-chained- count',
    ].join('\n'),
  )
  t.deepEqual(channels(plan, 'late-rows', 0), ['count:late#0', 'count:late#1'])
  t.deepEqual(
    node(plan, 'count').outputs.map((e) => `${e.tag}->${e.to}`),
    ['main->out', 'late->late-rows', 'dead-letter->dead-letters'],
  )
})

test('refuses a forward edge between different parallelisms, saying how to fix it', (t) => {
  const graph = new StreamGraph()
  graph
    .from(source('lines'), { parallelism: 2 })
    .via(pass('words'), { parallelism: 3 })
    .to(sink('out'), { parallelism: 3 })
  const error = t.throws(() => buildPhysicalPlan(graph), { instanceOf: ConfigError })
  t.is(
    error.message,
    "'lines' (parallelism 2) feeds 'words' (parallelism 3) one to one: " +
      'call rebalance() or keyBy() between them, or give them the same parallelism',
  )
})

test('refuses a node whose main output goes nowhere', (t) => {
  const graph = new StreamGraph()
  graph.from(source('lines')).via(pass('words'))
  const error = t.throws(() => buildPhysicalPlan(graph), { instanceOf: ConfigError })
  t.is(error.message, "'words' has no downstream: end the stream with a sink, e.g. .to(defineSink(...))")
})

test('refuses a node of which only a side output is read', (t) => {
  const graph = new StreamGraph()
  graph
    .from(source('lines'))
    .via(pass('count', ['late']))
    .sideOutput('late')
    .to(sink('late-rows'))
  const error = t.throws(() => buildPhysicalPlan(graph), { instanceOf: ConfigError })
  t.is(error.message, "'count' has no downstream: end the stream with a sink, e.g. .to(defineSink(...))")
})

test('refuses a graph without a source', (t) => {
  const error = t.throws(() => buildPhysicalPlan(new StreamGraph()), { instanceOf: ConfigError })
  t.is(error.message, 'the graph has no source: start it with graph.from(source)')
})

test('refuses two nodes with one id', (t) => {
  const graph = new StreamGraph()
  const lines = graph.from(source('lines'))
  const error = t.throws(() => lines.via(pass('lines')), { instanceOf: ConfigError })
  t.is(error.message, "two nodes have the id 'lines': give each operator its own id")
})

test('refuses a side output the operator does not declare, naming those it has', (t) => {
  const graph = new StreamGraph()
  const lines = graph.from(source('lines'))
  const counted = lines.via(pass('count', ['late', 'dead-letter']))
  const typo = t.throws(() => counted.sideOutput('lates').to(sink('a')), { instanceOf: ConfigError })
  t.is(typo.message, "'count' has no side output 'lates': it has 'late', 'dead-letter'")
  const none = t.throws(() => lines.sideOutput('late').to(sink('b')), { instanceOf: ConfigError })
  t.is(none.message, "'lines' has no side output 'late'")
})

test('refuses a side output of a union', (t) => {
  const graph = new StreamGraph()
  const a = graph.from(source('a'))
  const b = graph.from(source('b'))
  const error = t.throws(() => a.union(b).sideOutput('late'), { instanceOf: ConfigError })
  t.is(error.message, "sideOutput('late') needs a stream of a single operator")
})
