#!/usr/bin/env node
// Builds the monorepo and runs its ava tests, then prints one closing line: `N passed, N failed[, N skipped]`.
//
//   npm test                                   every test under packages/*/dist/test
//   npm test -- packages/core/test/foo.test.ts one file (a .ts test path is mapped to its compiled .js)
//   npm test -- --match='*watermark*'          any other argument goes to ava as it is
//
// Exits non-zero when the build fails, when any test fails, when ava exits non-zero, or when no test ran.
// Plain Node, no dependencies: it has to run before `npm install` has.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' })
  if (result.error) throw result.error
  return result.status ?? 1
}

function die(message, code = 1) {
  console.error(`\n${message}`)
  process.exit(code)
}

// 1. Dependencies, only when they are missing entirely.
if (!existsSync(join(root, 'node_modules'))) {
  console.error('node_modules is missing: running npm install')
  const status = run(npm, ['install', '--no-audit', '--no-fund'])
  if (status !== 0) die(`npm install failed (exit ${status})`, status)
}

// 2. Compiled files whose source was deleted or renamed would otherwise stay in dist/ and keep running as
//    tests: tsc -b never removes outputs. Drop them before building.
pruneOrphanedOutputs()

// 3. Type-check and compile every package (project references, incremental).
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const buildStatus = run(process.execPath, [tsc, '-b'])
if (buildStatus !== 0)
  die(`BUILD FAILED: tsc -b exited with ${buildStatus}; fix the type errors above`, buildStatus)

// 4. ava with the TAP reporter, streamed through and counted.
const avaArgs = process.argv.slice(2).map(toCompiledTestPath)
const code = await runAva(avaArgs)
process.exit(code)

function runAva(args) {
  const avaPackage = JSON.parse(readFileSync(join(root, 'node_modules', 'ava', 'package.json'), 'utf8'))
  const avaBin = join(
    root,
    'node_modules',
    'ava',
    typeof avaPackage.bin === 'string' ? avaPackage.bin : avaPackage.bin.ava,
  )
  const child = spawn(process.execPath, [avaBin, '--tap', ...args], {
    cwd: root,
    stdio: ['inherit', 'pipe', 'inherit'],
  })
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))

  const counts = { passed: 0, failed: 0, skipped: 0 }
  let pending = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk)
    pending += chunk
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) countTapLine(line, counts)
  })

  return new Promise((resolvePromise) => {
    child.on('error', (error) => {
      console.error(`could not start ava: ${error.message}`)
      resolvePromise(1)
    })
    child.on('close', (exitCode, signal) => {
      if (pending) countTapLine(pending, counts)
      const total = counts.passed + counts.failed + counts.skipped
      const avaFailed = exitCode !== 0
      if (signal) console.error(`\nava was stopped by ${signal}`)
      else if (avaFailed && counts.failed === 0) console.error(`\nava exited with code ${exitCode}`)
      if (total === 0) console.error('\nno test ran')
      const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : ''
      // The closing line, alone on its line: CI reads it.
      process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed${skipped}\n`)
      const failed = counts.failed > 0 || avaFailed || counts.passed === 0
      resolvePromise(failed ? exitCode || 1 : 0)
    })
  })
}

// ava 7's TAP (one line per test, at column 0, never indented):
//   ok 3 - file › title                 passed (a `test.failing` that failed as expected is `ok` too)
//   not ok 4 - file › title             failed; a YAML block indented by two spaces follows
//   ok 1 - file › title # SKIP          test.skip
//   not ok 2 - file › title # TODO      test.todo
//   not ok 7 - file › before hook       a failed hook; its file's remaining tests are not reported
//   not ok 8 - Error: message           an uncaught exception or unhandled rejection
//   not ok 9 - x.test.js exited with a non-zero exit code: 1
// then `1..N` and `# tests/# pass/# skip/# fail` comments, whose numbers do not match the lines above
// (todo and crashes count as failures there), so the lines are what is counted. Test output written with
// console.log goes to stderr, so it cannot be mistaken for a result.
function countTapLine(line, counts) {
  const match = /^(not )?ok \d+\b(.*)$/.exec(line.replace(/\r$/, ''))
  if (!match) return
  if (/#\s*(SKIP|TODO)\b/i.test(match[2])) counts.skipped += 1
  else if (match[1]) counts.failed += 1
  else counts.passed += 1
}

// `packages/core/test/a.test.ts` → `packages/core/dist/test/a.test.js`, so a subset can be named by source.
function toCompiledTestPath(arg) {
  const match = /^(.*?packages\/[^/]+\/)(test\/.*)\.ts$/.exec(arg.replaceAll('\\', '/'))
  return match ? `${match[1]}dist/${match[2]}.js` : arg
}

function pruneOrphanedOutputs() {
  const packagesDir = join(root, 'packages')
  if (!existsSync(packagesDir)) return
  for (const entry of readdirSync(packagesDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const packageDir = join(packagesDir, entry.name)
    for (const part of ['src', 'test']) {
      const outDir = join(packageDir, 'dist', part)
      if (!existsSync(outDir)) continue
      for (const file of readdirSync(outDir, { recursive: true })) {
        const output = join(outDir, String(file))
        const base = /^(.*)\.(js|js\.map|d\.ts|d\.ts\.map)$/.exec(String(file))?.[1]
        if (!base) continue
        const source = join(packageDir, part, base)
        if (['.ts', '.mts', '.tsx'].some((ext) => existsSync(source + ext))) continue
        rmSync(output, { force: true })
        if (/\.js$/.test(output))
          console.error(`removed stale ${relative(root, output)} (its source is gone)`)
      }
    }
  }
}
