import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Whether the module at `url` is the program node was started with (also through an npm bin link). */
export function isMain(url: string): boolean {
  const started = process.argv[1]
  if (!started) return false
  try {
    return realpathSync(started) === realpathSync(fileURLToPath(url))
  } catch {
    return false
  }
}
