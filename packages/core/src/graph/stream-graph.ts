import { ConfigError } from '../errors.js'
import { DEFAULT_MAX_PARALLELISM, validateParallelism, type Key } from '../keys/key-groups.js'
import type { TransformSpec } from './operator.js'
import type { NodeSpec, SinkSpec, SourceSpec } from './specs.js'

/** How records move along an edge between the instances of two nodes. */
export type Partitioner =
  | { readonly kind: 'forward' }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an edge erases its record type; DataStream<T>.keyBy checked the key function
  | { readonly kind: 'hash'; readonly key: (value: any) => Key }
  | { readonly kind: 'rebalance' }
  | { readonly kind: 'broadcast' }

export const MAIN_OUTPUT = 'main'

export interface GraphNode {
  readonly id: string
  readonly spec: NodeSpec
  readonly parallelism: number
}

export interface GraphEdge {
  readonly from: string
  /** `main`, or the name of a side output of `from`. */
  readonly tag: string
  readonly to: string
  readonly partitioner: Partitioner
}

interface Port {
  readonly from: string
  readonly tag: string
  readonly partitioner: Partitioner
}

const FORWARD: Partitioner = { kind: 'forward' }

/**
 * The logical graph: nodes (operators) and edges, built fluently.
 *
 * @example
 * ```ts
 * const graph = new StreamGraph({ parallelism: 2 })
 * graph.from(defineSource('lines', listSource(lines)))
 *   .via(explode('words', (line: string) => line.split(' ')))
 *   .keyBy((word) => word)
 *   .via(keyedAggregate('counts', { aggregator: count(), outputMode: 'update' }))
 *   .to(defineSink('out', collect))
 * ```
 */
export class StreamGraph {
  readonly maxParallelism: number
  readonly defaultParallelism: number
  private readonly nodeList: GraphNode[] = []
  private readonly edgeList: GraphEdge[] = []

  constructor(options: { parallelism?: number; maxParallelism?: number } = {}) {
    this.maxParallelism = options.maxParallelism ?? DEFAULT_MAX_PARALLELISM
    validateParallelism(1, this.maxParallelism, 'maxParallelism')
    this.defaultParallelism = options.parallelism ?? 1
    validateParallelism(this.defaultParallelism, this.maxParallelism, 'default parallelism')
  }

  get nodes(): readonly GraphNode[] {
    return this.nodeList
  }

  get edges(): readonly GraphEdge[] {
    return this.edgeList
  }

  node(id: string): GraphNode {
    const found = this.nodeList.find((n) => n.id === id)
    if (!found) throw new ConfigError(`no node '${id}' in the graph`)
    return found
  }

  /** Starts a stream at a source node. */
  from<T>(spec: SourceSpec<T>, options: { parallelism?: number } = {}): DataStream<T> {
    this.addNode(spec, options.parallelism)
    return new DataStream<T>(this, [{ from: spec.id, tag: MAIN_OUTPUT, partitioner: FORWARD }])
  }

  /** @internal */
  addNode(spec: NodeSpec, parallelism: number | undefined, inputs: readonly Port[] = []): void {
    if (this.nodeList.some((n) => n.id === spec.id)) {
      throw new ConfigError(`two nodes have the id '${spec.id}': give each operator its own id`)
    }
    const p = parallelism ?? this.defaultParallelism
    validateParallelism(p, this.maxParallelism, `parallelism of '${spec.id}'`)
    for (const input of inputs) {
      const from = this.node(input.from)
      if (from.spec.kind === 'sink')
        throw new ConfigError(`sink '${from.id}' has no output to connect to '${spec.id}'`)
      if (input.tag !== MAIN_OUTPUT) {
        const tags = from.spec.sideOutputs
        if (!tags.includes(input.tag)) {
          throw new ConfigError(
            `'${from.id}' has no side output '${input.tag}'` +
              (tags.length ? `: it has ${tags.map((t) => `'${t}'`).join(', ')}` : ''),
          )
        }
      }
    }
    this.nodeList.push({ id: spec.id, spec, parallelism: p })
    for (const input of inputs) {
      this.edgeList.push({ from: input.from, tag: input.tag, to: spec.id, partitioner: input.partitioner })
    }
  }
}

/** A stream of `T` flowing out of one or more nodes, waiting to be connected to the next one. */
export class DataStream<T> {
  constructor(
    readonly graph: StreamGraph,
    private readonly ports: readonly Port[],
  ) {}

  /** Adds an operator that reads this stream. */
  via<O>(spec: TransformSpec<T, O>, options: { parallelism?: number } = {}): DataStream<O> {
    this.graph.addNode(spec, options.parallelism, this.ports)
    return new DataStream<O>(this.graph, [{ from: spec.id, tag: MAIN_OUTPUT, partitioner: FORWARD }])
  }

  /** Ends this branch at a sink. */
  to(spec: SinkSpec<T>, options: { parallelism?: number } = {}): void {
    this.graph.addNode(spec, options.parallelism, this.ports)
  }

  /**
   * Routes each record by key: every record of a key reaches the same instance of the next operator,
   * through key groups (`hash(key) mod maxParallelism`). The next operator sees `record.key`.
   */
  keyBy(key: (value: T) => Key): DataStream<T> {
    return this.withPartitioner({ kind: 'hash', key })
  }

  /** Spreads records round-robin over the next operator's instances. */
  rebalance(): DataStream<T> {
    return this.withPartitioner({ kind: 'rebalance' })
  }

  /** Sends every record to every instance of the next operator. */
  broadcast(): DataStream<T> {
    return this.withPartitioner({ kind: 'broadcast' })
  }

  /** The records an operator routed to one of its side outputs (late rows, dead letters). */
  sideOutput<U>(tag: string): DataStream<U> {
    if (this.ports.length !== 1)
      throw new ConfigError(`sideOutput('${tag}') needs a stream of a single operator`)
    return new DataStream<U>(this.graph, [{ from: this.ports[0].from, tag, partitioner: FORWARD }])
  }

  /** Merges streams of the same type: the next operator reads all of them, watermark = their minimum. */
  union(...others: DataStream<T>[]): DataStream<T> {
    for (const other of others) {
      if (other.graph !== this.graph) throw new ConfigError('union() takes streams of the same graph')
    }
    return new DataStream<T>(this.graph, [...this.ports, ...others.flatMap((o) => o.ports)])
  }

  private withPartitioner(partitioner: Partitioner): DataStream<T> {
    return new DataStream<T>(
      this.graph,
      this.ports.map((p) => ({ ...p, partitioner })),
    )
  }
}
