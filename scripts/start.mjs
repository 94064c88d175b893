#!/usr/bin/env node
// `npm start`: installs the dependencies if they are missing, builds, and runs the demo (the Spark
// tutorial on the embedded tweet source: no Kafka needed). Arguments after `npm start --` go to the
// demo, which then takes weir-tweets' options (e.g. `npm start -- --query windowed --duration '1 minute'`).
// Plain Node, no dependencies: it has to run before `npm install` has.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' })
  if (result.error) throw result.error
  return result.status ?? 1
}

if (!existsSync(join(root, 'node_modules', 'typescript'))) {
  console.error('dependencies are missing: running npm install')
  const status = run(npm, ['install', '--no-audit', '--no-fund'])
  if (status !== 0) process.exit(status)
}
const build = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'])
if (build !== 0) {
  console.error(`BUILD FAILED: tsc -b exited with ${build}`)
  process.exit(build)
}

// Ctrl-C reaches the demo too (same process group); it stops its queries cleanly and exits.
process.on('SIGINT', () => {})
process.on('SIGTERM', () => child.kill('SIGTERM'))
const child = spawn(
  process.execPath,
  [join(root, 'packages', 'examples', 'dist', 'src', 'demo.js'), ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
  },
)
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
