import { randomUUID } from 'node:crypto'
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError } from '../errors.js'

/**
 * The query's id: kept in `<checkpointLocation>/metadata` (as Spark keeps it), so a restart from the
 * same location is the same query with a new run id. Without a location every start is a new query.
 */
export async function resolveQueryId(checkpointLocation: string | undefined): Promise<string> {
  if (checkpointLocation === undefined) return randomUUID()
  const file = join(checkpointLocation, 'metadata')
  let text: string | undefined
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw checkpointError(checkpointLocation, error)
  }
  if (text !== undefined) {
    try {
      const { id } = JSON.parse(text) as { id?: unknown }
      if (typeof id === 'string' && id.length > 0) return id
    } catch {
      // fall through to the error below
    }
    throw new ConfigError(
      `${file} is not a weir query's metadata: point checkpointLocation at a fresh directory or at one a query wrote`,
    )
  }
  const id = randomUUID()
  // Several processes of one scaled-out query may start on one shared directory at once: the first
  // to link its file wins, and the others read its id (a rename would let the last one win instead).
  const tmp = `${file}.${id}.tmp`
  try {
    await mkdir(checkpointLocation, { recursive: true })
    await writeFile(tmp, JSON.stringify({ id }) + '\n')
    await link(tmp, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return resolveQueryId(checkpointLocation)
    throw checkpointError(checkpointLocation, error)
  } finally {
    await unlink(tmp).catch(() => undefined)
  }
  return id
}

function checkpointError(location: string, cause: unknown): ConfigError {
  return new ConfigError(
    `checkpoint location ${location} cannot be used (${String((cause as Error).message ?? cause)}): give a writable directory`,
    {
      cause,
    },
  )
}
