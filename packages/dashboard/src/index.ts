// The weir dashboard: a live page of running queries, and their metrics for Prometheus.
export { startDashboard, type Dashboard, type DashboardOptions } from './dashboard.js'
export { registerWeirMetrics } from './prometheus.js'
export { layoutGraph, type GraphLayout, type LaidOutNode, type LaidOutEdge } from './layout.js'
export type { Tick, WireQuery, WireInstance, WireTime } from './wire.js'
