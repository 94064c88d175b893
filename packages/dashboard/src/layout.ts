import elkModule from 'elkjs/lib/elk.bundled.js'
import type { ELK, ElkNode } from 'elkjs/lib/elk-api.js'
import type { PhysicalGraphView } from '@weir/core'

/** Where to draw each node and edge of a physical graph, in px: what the page turns into SVG. */
export interface GraphLayout {
  readonly width: number
  readonly height: number
  readonly nodes: readonly LaidOutNode[]
  readonly edges: readonly LaidOutEdge[]
}

export interface LaidOutNode {
  readonly id: string
  readonly operator: string
  readonly kind: 'source' | 'transform' | 'sink'
  readonly parallelism: number
  readonly stateful: boolean
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

export interface LaidOutEdge {
  readonly from: string
  readonly to: string
  /** `forward`, `hash`, … and the side output's name when it is not `main`. */
  readonly label: string
  readonly chained: boolean
  /** The polyline from the source node's border to the target's, bends included. */
  readonly points: readonly { readonly x: number; readonly y: number }[]
  /** Where the label's text is centred: just above the middle of the edge's longest segment. */
  readonly labelAt?: { readonly x: number; readonly y: number }
}

// A CommonJS module whose `module.exports` is the class: that is what the default import is at run time.
const ElkClass = elkModule as unknown as new () => ELK

const NODE_HEIGHT = 88
const CHAR_WIDTH = 7.4

/**
 * Lays a physical graph out left to right with ELK's layered algorithm (Sugiyama: layers, crossing
 * minimisation, orthogonal edges), so that no graph is ever placed by hand.
 *
 * @example
 * ```ts
 * const layout = await layoutGraph(query.metricsSnapshot().graph)
 * layout.nodes.map((n) => [n.id, n.x, n.y])
 * ```
 */
export async function layoutGraph(graph: PhysicalGraphView): Promise<GraphLayout> {
  const elk = new ElkClass()
  const widths = new Map(graph.nodes.map((n) => [n.id, nodeWidth(n)]))
  const labels = graph.edges.map(edgeLabel)
  const result: ElkNode = await elk.layout({
    id: 'graph',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.spacing.nodeNode': '28',
      // Room for an edge's label above its middle (placed here, not by ELK, which would add a layer for it).
      'elk.layered.spacing.nodeNodeBetweenLayers': '64',
      'elk.padding': '[top=12,left=12,bottom=12,right=12]',
    },
    children: graph.nodes.map((n) => ({ id: n.id, width: widths.get(n.id)!, height: NODE_HEIGHT })),
    edges: graph.edges.map((e, i) => ({
      id: `e${i}`,
      sources: [e.from],
      targets: [e.to],
    })),
  })
  const placed = new Map((result.children ?? []).map((c) => [c.id, c]))
  return {
    width: Math.ceil(result.width ?? 0),
    height: Math.ceil(result.height ?? 0),
    nodes: graph.nodes.map((n) => {
      const box = placed.get(n.id)!
      return {
        ...n,
        x: box.x ?? 0,
        y: box.y ?? 0,
        width: box.width ?? widths.get(n.id)!,
        height: box.height ?? NODE_HEIGHT,
      }
    }),
    edges: graph.edges.map((e, i) => {
      const laid = result.edges?.find((x) => x.id === `e${i}`)
      const points = (laid?.sections ?? []).flatMap((s) => [
        s.startPoint,
        ...(s.bendPoints ?? []),
        s.endPoint,
      ])
      const at = labelPoint(points)
      return {
        from: e.from,
        to: e.to,
        label: labels[i],
        chained: e.chained,
        points: points.map(({ x, y }) => ({ x, y })),
        ...(at ? { labelAt: at } : {}),
      }
    }),
  }
}

/** Wide enough for the node's id, its type line and two lines of figures (about 24 characters). */
function nodeWidth(node: PhysicalGraphView['nodes'][number]): number {
  const longest = Math.max(node.id.length, `${node.operator} ×${node.parallelism}`.length, 24)
  return Math.ceil(longest * CHAR_WIDTH + 24)
}

function edgeLabel(edge: PhysicalGraphView['edges'][number]): string {
  const how = edge.chained ? 'chained' : edge.partitioner
  return edge.tag === 'main' ? how : `${edge.tag} · ${how}`
}

function labelPoint(points: readonly { x: number; y: number }[]): { x: number; y: number } | undefined {
  let best: { x: number; y: number } | undefined
  let longest = -1
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]
    const b = points[i]
    const length = Math.hypot(b.x - a.x, b.y - a.y)
    if (length > longest) {
      longest = length
      best = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 5 }
    }
  }
  return best
}
