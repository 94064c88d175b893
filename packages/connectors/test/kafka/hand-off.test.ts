import test from 'ava'
import { HandOff } from '../../src/kafka/hand-off.js'
import type { KafkaRecord } from '../../src/kafka/kafka-record.js'

const record = (partition: number, offset: number, size = 36): KafkaRecord => ({
  key: null,
  value: Buffer.alloc(size),
  topic: 't',
  partition,
  offset,
  timestamp: 0,
})
const records = (partition: number, from: number, count: number) =>
  Array.from({ length: count }, (_, i) => record(partition, from + i))

test('hands batches out in arrival order, with the position after each part', (t) => {
  const handOff = new HandOff({ maxRecords: 100, maxBytes: 1e6 })
  handOff.push('t-0', records(0, 0, 3), 3)
  handOff.push('t-1', records(1, 5, 2), 9) // control records after offset 6: resume at 9
  const first = handOff.take(Infinity)!
  t.deepEqual([first.split, first.records.map((r) => r.offset), first.position], ['t-0', [0, 1, 2], 3])
  const second = handOff.take(Infinity)!
  t.deepEqual([second.split, second.records.map((r) => r.offset), second.position], ['t-1', [5, 6], 9])
  t.is(handOff.take(Infinity), undefined)
  t.true(handOff.isEmpty)
})

test('takes part of a batch when a limit says so, and nothing at a limit of 0', (t) => {
  const handOff = new HandOff({ maxRecords: 100, maxBytes: 1e6 })
  handOff.push('t-0', records(0, 10, 5), 15)
  t.is(handOff.take(0), undefined)
  t.deepEqual(handOff.take(2)!.position, 12)
  t.is(handOff.records, 3)
  const rest = handOff.take(10)!
  t.deepEqual([rest.records.map((r) => r.offset), rest.position], [[12, 13, 14], 15])
})

test('an entry of no records only moves a position, and is taken even at a limit of 0', (t) => {
  const handOff = new HandOff({ maxRecords: 100, maxBytes: 1e6 })
  handOff.push('t-0', [], 42)
  t.deepEqual(handOff.take(0), { split: 't-0', records: [], position: 42 })
})

test('is full at either limit and drained at half of both', (t) => {
  const handOff = new HandOff({ maxRecords: 10, maxBytes: 1000 })
  handOff.push('t-0', records(0, 0, 9), 9)
  t.false(handOff.full)
  handOff.push('t-0', records(0, 9, 1), 10)
  t.true(handOff.full)
  handOff.take(4)
  t.false(handOff.full)
  t.false(handOff.drained)
  handOff.take(1)
  t.true(handOff.drained)
  const big = new HandOff({ maxRecords: 100, maxBytes: 1000 })
  big.push('t-0', [record(0, 0, 2000)], 1)
  t.true(big.full, 'one record over the byte limit')
  t.is(big.bytes, 2064)
})

test('drops what waits for revoked partitions', (t) => {
  const handOff = new HandOff({ maxRecords: 100, maxBytes: 1e6 })
  handOff.push('t-0', records(0, 0, 3), 3)
  handOff.push('t-1', records(1, 0, 3), 3)
  handOff.push('t-0', records(0, 3, 3), 6)
  handOff.take(1)
  handOff.drop(new Set(['t-0']))
  t.is(handOff.records, 3)
  t.is(handOff.bytes, 300)
  t.is(handOff.take(Infinity)!.split, 't-1')
  t.true(handOff.isEmpty)
})
