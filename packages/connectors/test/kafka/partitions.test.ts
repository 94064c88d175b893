import test from 'ava'
import { byTopic, partitionsOfInstance, sortPartitions, splitOf } from '../../src/kafka/partitions.js'

const tp = (topic: string, partition: number) => ({ topic, partition })

test('instance i of p owns the partitions whose index in the sorted list is i mod p', (t) => {
  const all = [tp('b', 1), tp('a', 1), tp('b', 0), tp('a', 0), tp('a', 10), tp('a', 2)]
  t.deepEqual(sortPartitions(all).map(splitOf), ['a-0', 'a-1', 'a-2', 'a-10', 'b-0', 'b-1'])
  t.deepEqual(partitionsOfInstance(all, 0, 2).map(splitOf), ['a-0', 'a-2', 'b-0'])
  t.deepEqual(partitionsOfInstance(all, 1, 2).map(splitOf), ['a-1', 'a-10', 'b-1'])
  t.deepEqual(partitionsOfInstance(all, 1, 4).map(splitOf), ['a-1', 'b-1'])
  t.deepEqual(partitionsOfInstance(all, 2, 4).map(splitOf), ['a-2'])
  t.deepEqual(partitionsOfInstance(all, 0, 1).map(splitOf), sortPartitions(all).map(splitOf))
})

test('every partition has exactly one owner, whatever the parallelism', (t) => {
  const all = Array.from({ length: 13 }, (_, i) => tp(`t${i % 3}`, i))
  for (const p of [1, 2, 3, 4, 13, 20]) {
    const owned = Array.from({ length: p }, (_, i) => partitionsOfInstance(all, i, p).map(splitOf)).flat()
    t.deepEqual(owned.sort(), all.map(splitOf).sort(), `parallelism ${p}`)
  }
})

test('groups partitions by topic for pause and resume', (t) => {
  t.deepEqual(byTopic([tp('a', 0), tp('b', 3), tp('a', 2)]), [
    { topic: 'a', partitions: [0, 2] },
    { topic: 'b', partitions: [3] },
  ])
})
