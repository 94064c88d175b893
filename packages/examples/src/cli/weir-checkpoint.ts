#!/usr/bin/env node
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { LevelStateBackend, type EpochMetadata } from '@weir/core'
import { isMain } from './is-main.js'

const USAGE = `weir-checkpoint: look inside a weir query's checkpoint

usage:
  weir-checkpoint ls DIR                 committed epochs: size, entries, watermark
  weir-checkpoint show DIR [--epoch N] [--sample K]
                                         one epoch (default: the newest): metadata, split
                                         positions, state per operator and key group, K sample keys
  weir-checkpoint diff DIR A B           what changed between epochs A and B

DIR is a query's checkpointLocation (the state is in DIR/state) or the state directory itself.
The query must be stopped: LevelDB lets one process open a database at a time.`

export async function main(
  argv: readonly string[],
  write: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      epoch: { type: 'string' },
      sample: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const [command, dir, ...rest] = positionals
  if (values.help || !command || !dir) {
    write(USAGE + '\n')
    return values.help ? 0 : 2
  }
  const location = existsSync(join(dir, 'state')) ? join(dir, 'state') : dir
  if (!existsSync(location)) {
    write(`no checkpoint at ${dir}: give a query's checkpointLocation\n`)
    return 2
  }
  const backend = await LevelStateBackend.open(location)
  try {
    switch (command) {
      case 'ls':
        return await list(backend, location, write)
      case 'show': {
        const epochs = await backend.committedEpochs()
        const epoch = values.epoch === undefined ? epochs.at(-1) : Number(values.epoch)
        if (epoch === undefined || !epochs.includes(epoch)) {
          write(
            `no committed epoch ${values.epoch ?? ''} in ${location}; committed: ${epochs.join(', ') || 'none'}\n`,
          )
          return 1
        }
        return await show(backend, epoch, Number(values.sample), write)
      }
      case 'diff': {
        const [a, b] = rest.map(Number)
        if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b)) {
          write('diff needs two epoch numbers: weir-checkpoint diff DIR 12 13\n')
          return 2
        }
        return await diff(backend, a, b, write)
      }
      default:
        write(`unknown command '${command}'\n\n${USAGE}\n`)
        return 2
    }
  } finally {
    await backend.close()
  }
}

async function list(
  backend: LevelStateBackend,
  location: string,
  write: (text: string) => void,
): Promise<number> {
  const epochs = await backend.committedEpochs()
  const first = epochs.length ? await backend.metadata(epochs[0]) : undefined
  write(
    `checkpoint ${location}${first?.queryId ? ` (query ${first.queryId})` : ''}, format ${first?.formatVersion ?? '-'}\n`,
  )
  if (epochs.length === 0) {
    write('no committed epoch\n')
    return 0
  }
  const rows = [['epoch', 'written at', 'entries', 'size', 'watermark']]
  for (const epoch of epochs) {
    const meta = (await backend.metadata(epoch))!
    let bytes = 0
    for await (const entry of backend.entries(epoch)) bytes += entry.bytes
    rows.push([String(epoch), meta.writtenAt, String(meta.entries), size(bytes), time(meta.watermark)])
  }
  write(table(rows))
  return 0
}

async function show(
  backend: LevelStateBackend,
  epoch: number,
  sample: number,
  write: (text: string) => void,
): Promise<number> {
  const meta = (await backend.metadata(epoch)) as EpochMetadata
  write(
    `epoch ${epoch}${meta.queryId ? ` of query ${meta.queryId}` : ''} (format ${meta.formatVersion}), written ${meta.writtenAt}\n`,
  )
  write(
    `watermark: ${time(meta.watermark)}   max parallelism: ${meta.maxParallelism}   entries: ${meta.entries}\n`,
  )
  const byNode = new Map<string, { key: string; bytes: number; value: unknown }[]>()
  for await (const entry of backend.entries(epoch)) {
    const [node] = entry.key.split('/')
    if (entry.key === 'meta' || entry.key === 'committed') continue
    if (!byNode.has(node)) byNode.set(node, [])
    byNode.get(node)!.push(entry)
  }
  for (const [id, node] of Object.entries(meta.nodes)) {
    const entries = byNode.get(id) ?? []
    const bytes = entries.reduce((n, e) => n + e.bytes, 0)
    write(
      `\n${id} (${node.name}), parallelism ${node.parallelism}${entries.length ? `, ${size(bytes)}` : ', no state'}\n`,
    )
    const splits = entries.filter((e) => e.key.split('/')[1] === 's')
    for (const e of splits)
      write(`  split ${e.key.split('/').slice(2).join('/')}: position ${render(e.value)}\n`)
    const groups = entries.filter((e) => e.key.split('/')[1] === 'k')
    if (groups.length) {
      write(`  ${groups.length} key groups with state\n`)
      for (const e of groups.slice(0, sample))
        write(`  key group ${e.key.split('/')[2]} (${size(e.bytes)}): ${render(e.value, 160)}\n`)
      if (groups.length > sample) write(`  … ${groups.length - sample} more (--sample N to see more)\n`)
    }
    for (const e of entries.filter((x) => x.key.split('/')[1] === 'u')) {
      write(`  instance ${e.key.split('/')[2]}: ${render(e.value)}\n`)
    }
  }
  return 0
}

async function diff(
  backend: LevelStateBackend,
  a: number,
  b: number,
  write: (text: string) => void,
): Promise<number> {
  const load = async (epoch: number) => {
    const map = new Map<string, string>()
    for await (const e of backend.entries(epoch))
      if (e.key !== 'meta' && e.key !== 'committed') map.set(e.key, render(e.value, 10_000))
    return map
  }
  const epochs = await backend.committedEpochs()
  for (const e of [a, b]) {
    if (!epochs.includes(e)) {
      write(`epoch ${e} is not committed in this checkpoint; committed: ${epochs.join(', ')}\n`)
      return 1
    }
  }
  const [before, after] = [await load(a), await load(b)]
  const [ma, mb] = [(await backend.metadata(a))!, (await backend.metadata(b))!]
  write(`epoch ${a} → ${b}: watermark ${time(ma.watermark)} → ${time(mb.watermark)}\n`)
  let changes = 0
  for (const [key, value] of after) {
    const old = before.get(key)
    if (old === undefined) write(`+ ${key}: ${clip(value, 160)}\n`)
    else if (old !== value) write(`~ ${key}: ${clip(old, 70)} → ${clip(value, 70)}\n`)
    else continue
    changes++
  }
  for (const [key, value] of before) {
    if (!after.has(key)) {
      write(`- ${key}: ${clip(value, 160)}\n`)
      changes++
    }
  }
  write(`${changes} entr${changes === 1 ? 'y' : 'ies'} changed\n`)
  return 0
}

function render(value: unknown, max = 120): string {
  const text = JSON.stringify(value, (_k, v: unknown): unknown =>
    v instanceof Map ? Object.fromEntries(v) : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  )
  return clip(text ?? String(value), max)
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

function time(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : ms > 0 ? '+∞' : '-∞ (none yet)'
}

function size(bytes: number): string {
  return bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1024 ** 2).toFixed(1)} MiB`
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) =>
            c === 0 || c === 2 || c === 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]),
          )
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  )
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`weir-checkpoint: ${(error as Error).message}`)
      process.exit(1)
    },
  )
}
