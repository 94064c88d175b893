import { ConfigError } from '../errors.js'
import type { StreamGraph } from '../graph/stream-graph.js'
import { Job, type JobOptions } from '../runtime/job.js'
import { isWeirWorker } from '../runtime/worker-threads.js'
import type { StateBackend } from '../state/checkpoint.js'
import { join } from 'node:path'
import { LevelStateBackend } from '../state/level-state-backend.js'
import { resolveQueryId } from './checkpoint-location.js'
import type { QueryExecution } from './execution.js'
import type { StreamingQueryProgress } from './progress.js'
import { StreamingQuery, type StreamingQueryException } from './streaming-query.js'

/** Spark's StreamingQueryListener: every method is optional. */
export interface StreamingQueryListener {
  onQueryStarted?(event: {
    readonly id: string
    readonly runId: string
    readonly name: string | null
    readonly timestamp: string
  }): void
  onQueryProgress?(event: { readonly progress: StreamingQueryProgress }): void
  onQueryIdle?(event: { readonly id: string; readonly runId: string; readonly timestamp: string }): void
  onQueryTerminated?(event: {
    readonly id: string
    readonly runId: string
    readonly exception: StreamingQueryException | null
  }): void
}

export interface StartQueryOptions extends JobOptions {
  /** Shown in progress and the console; two active queries cannot share one. */
  readonly queryName?: string
  /** A directory: the query's id is kept there (and its state, with a persistent state backend). */
  readonly checkpointLocation?: string
  /**
   * Where epochs are committed. With a `checkpointLocation` and no backend given, LevelDB under
   * `<checkpointLocation>/state`; without either, nothing is kept and nothing restored.
   */
  readonly stateBackend?: StateBackend
  readonly sourceDescriptions?: Readonly<Record<string, string>>
  readonly sinkDescription?: string
}

/**
 * The active queries of one engine (Spark's `spark.streams`): start, list, find, listen. An embedding
 * app can make its own; `streams` is the default one.
 *
 * @example
 * ```ts
 * streams.addListener({ onQueryProgress: ({ progress }) => console.log(progress.batchId, progress.numInputRows) })
 * for (const q of streams.active) console.log(q.name, q.status.message)
 * ```
 */
export class StreamingQueryManager {
  private readonly queries = new Map<string, StreamingQuery>()
  private readonly starting = new Set<string>()
  private readonly listeners: StreamingQueryListener[] = []

  get active(): StreamingQuery[] {
    return [...this.queries.values()]
  }

  get(id: string): StreamingQuery | undefined {
    return this.queries.get(id)
  }

  addListener(listener: StreamingQueryListener): () => void {
    this.listeners.push(listener)
    return () => this.removeListener(listener)
  }

  removeListener(listener: StreamingQueryListener): void {
    const i = this.listeners.indexOf(listener)
    if (i >= 0) this.listeners.splice(i, 1)
  }

  /** Starts a graph as a query. Fails (before anything runs) on a name or checkpoint already in use. */
  async start(graph: StreamGraph, options: StartQueryOptions = {}): Promise<StreamingQuery> {
    return this.startExecution(
      async (id) => {
        let ownBackend: LevelStateBackend | undefined
        // A worker thread restores what the main thread sends it: it must not open (and lock) the store itself.
        if (
          options.stateBackend === undefined &&
          options.checkpointLocation !== undefined &&
          !isWeirWorker()
        ) {
          ownBackend = await LevelStateBackend.open(join(options.checkpointLocation, 'state'), {
            queryId: id,
          })
        }
        try {
          const job = await Job.start(graph, {
            ...options,
            stateBackend: options.stateBackend ?? ownBackend,
            queryId: id,
          })
          if (ownBackend) {
            const backend = ownBackend
            void job.done.catch(() => undefined).finally(() => backend.close().catch(() => undefined))
          }
          return job
        } catch (error) {
          await ownBackend?.close().catch(() => undefined)
          throw error
        }
      },
      {
        ...options,
        sinkDescription:
          options.sinkDescription ??
          graph.nodes
            .filter((n) => n.spec.kind === 'sink')
            .map((n) => n.spec.name)
            .join(', '),
      },
    )
  }

  /**
   * Starts a query whose execution is not a single job (a query scaled out over processes: see
   * `QueryExecution`): `run` gets the query's id (kept in the checkpoint location) and starts it. Names,
   * ids, listeners and the registry work as for `start`.
   */
  async startExecution(
    run: (queryId: string) => Promise<QueryExecution>,
    options: Pick<
      StartQueryOptions,
      'queryName' | 'checkpointLocation' | 'sourceDescriptions' | 'sinkDescription'
    > = {},
  ): Promise<StreamingQuery> {
    const name = options.queryName ?? null
    if (name !== null) {
      if (name.trim() === '')
        throw new ConfigError(
          `queryName must not be empty: give it a name like 'word_counts', or leave it out`,
        )
      if (this.active.some((q) => q.name === name) || this.starting.has(`name:${name}`)) {
        throw new ConfigError(
          `a query named '${name}' is already active: stop it first, or give this one another queryName`,
        )
      }
    }
    const id = await resolveQueryId(options.checkpointLocation)
    if (this.queries.has(id) || this.starting.has(`id:${id}`)) {
      throw new ConfigError(
        `a query with id ${id} (checkpoint location ${options.checkpointLocation}) is already active: ` +
          `two runs cannot share a checkpoint location; stop it first or use another location`,
      )
    }
    const claims = [`id:${id}`, ...(name === null ? [] : [`name:${name}`])]
    for (const c of claims) this.starting.add(c)
    try {
      const execution = await run(id)
      const query = new StreamingQuery(
        execution,
        {
          id,
          name,
          sourceDescriptions: options.sourceDescriptions ?? {},
          sinkDescription: options.sinkDescription ?? '',
        },
        {
          progress: (_q, progress) => this.emit((l) => l.onQueryProgress?.({ progress })),
          idle: (q) =>
            this.emit((l) =>
              l.onQueryIdle?.({ id: q.id, runId: q.runId, timestamp: new Date().toISOString() }),
            ),
          terminated: (q) => {
            this.queries.delete(q.id)
            this.emit((l) => l.onQueryTerminated?.({ id: q.id, runId: q.runId, exception: q.exception }))
          },
        },
      )
      this.queries.set(id, query)
      this.emit((l) =>
        l.onQueryStarted?.({ id, runId: query.runId, name, timestamp: new Date().toISOString() }),
      )
      return query
    } finally {
      for (const c of claims) this.starting.delete(c)
    }
  }

  /** Resolves when any active query ends (rejects with its exception if it failed). */
  async awaitAnyTermination(): Promise<void> {
    const queries = this.active
    if (queries.length === 0) return
    await Promise.race(queries.map((q) => q.awaitTermination()))
  }

  private emit(call: (listener: StreamingQueryListener) => void): void {
    for (const listener of [...this.listeners]) {
      try {
        call(listener)
      } catch (error) {
        // A listener's bug must not stop the query (Spark logs and goes on).
        process.emitWarning(`a StreamingQueryListener threw: ${String(error)}`)
      }
    }
  }
}

/** The default engine's queries. */
export const streams = new StreamingQueryManager()
