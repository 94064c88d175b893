import { assertNever } from '../errors.js'
import type { Partitioner } from '../graph/stream-graph.js'
import { checkKey, instanceForKey } from '../keys/key-groups.js'
import { data, type Message, type StreamRecord } from '../messages/messages.js'
import type { Emitter } from './emitter.js'

/**
 * The writing side of an exchange: one upstream instance's output on one edge, split over the channels
 * of the downstream instances. Data is routed by the partitioner, batch by batch; watermarks, barriers,
 * Idle and End go to every channel, since each downstream instance merges them over its inputs.
 */
export function exchangeWriter(
  partitioner: Partitioner,
  channels: readonly Emitter[],
  maxParallelism: number,
  options: { readonly exclusive?: boolean } = {},
): Emitter {
  const broadcastAll = (message: Message) => {
    for (const channel of channels) channel.process(message)
  }
  switch (partitioner.kind) {
    case 'forward':
    case 'broadcast':
      return { process: broadcastAll }
    case 'rebalance': {
      let next = 0
      return {
        process(message) {
          if (message.kind !== 'data') return broadcastAll(message)
          if (channels.length === 1) return channels[0].process(message)
          const parts = split(channels.length)
          for (const record of message.records) {
            parts[next].push(record)
            next = next + 1 === channels.length ? 0 : next + 1
          }
          send(parts, channels)
        },
      }
    }
    case 'hash': {
      const keyOf = partitioner.key
      const parallelism = channels.length
      // On an exclusive edge nobody else holds these records: set the key in place instead of copying.
      const withKey = options.exclusive ? setKey : keyed
      return {
        process(message) {
          if (message.kind !== 'data') return broadcastAll(message)
          if (parallelism === 1) {
            if (options.exclusive) {
              for (const r of message.records) setKey(r, keyOf(r.value))
              channels[0].process(message)
            } else {
              channels[0].process(data(message.records.map((r) => keyed(r, keyOf(r.value)))))
            }
            return
          }
          const parts = split(parallelism)
          for (const r of message.records) {
            const record = withKey(r, keyOf(r.value))
            parts[instanceForKey(record.key, maxParallelism, parallelism)].push(record)
          }
          send(parts, channels)
        },
      }
    }
    default:
      return assertNever(partitioner)
  }
}

/**
 * A key of undefined is the null key: both mean "no key" and must land on one instance. A key that is
 * not a primitive is refused: as a Map key it would group by identity, each record alone.
 */
function keyed<T>(r: StreamRecord<T>, key: StreamRecord['key']): StreamRecord<T> {
  if (typeof key === 'object' || typeof key === 'function' || typeof key === 'symbol') checkKey(key, 'keyBy')
  return { value: r.value, timestamp: r.timestamp, key: key === undefined ? null : key, window: r.window }
}

/** `keyed` for a record this edge owns alone (see `PhysicalPlan.exclusiveEdges`): no copy. */
function setKey<T>(r: StreamRecord<T>, key: StreamRecord['key']): StreamRecord<T> {
  if (typeof key === 'object' || typeof key === 'function' || typeof key === 'symbol') checkKey(key, 'keyBy')
  ;(r as { key: StreamRecord['key'] }).key = key === undefined ? null : key
  return r
}

function split(n: number): StreamRecord[][] {
  const parts = new Array<StreamRecord[]>(n)
  for (let i = 0; i < n; i++) parts[i] = []
  return parts
}

function send(parts: StreamRecord[][], channels: readonly Emitter[]): void {
  for (let i = 0; i < parts.length; i++) {
    if (parts[i].length > 0) channels[i].process(data(parts[i]))
  }
}
