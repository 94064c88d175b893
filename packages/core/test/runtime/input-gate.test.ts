import test from 'ava'

import { ProtocolError } from '../../src/errors.js'
import { barrier, data, END, IDLE, record, watermark, type Message } from '../../src/messages/messages.js'
import { InputGate } from '../../src/runtime/input-gate.js'

/** A gate whose downstream collects what it is handed; `send` returns what one delivery emitted. */
function openGate(channels: number) {
  const out: Message[] = []
  const gate = new InputGate(channels, { process: (m) => out.push(m) })
  const send = (channel: number, message: Message): Message[] => {
    gate.receive(channel, message)
    return out.splice(0)
  }
  return { gate, send }
}

const batch = (...values: string[]) => data(values.map((v) => record(v, 1_000)))

test('forwards the minimum watermark over its channels, only when it rises', (t) => {
  const { send } = openGate(3)
  t.deepEqual(send(0, watermark(10)), [])
  t.deepEqual(send(1, watermark(20)), [])
  t.deepEqual(send(2, watermark(5)), [watermark(5)])
  t.deepEqual(send(2, watermark(15)), [watermark(10)])
  t.deepEqual(send(0, watermark(12)), [watermark(12)])
  t.deepEqual(send(0, watermark(11)), [])
  t.deepEqual(send(2, watermark(15)), [])
  t.deepEqual(send(0, watermark(30)), [watermark(15)])
  t.deepEqual(send(1, watermark(25)), [])
})

test('passes data on at once, whatever the watermarks', (t) => {
  const { send } = openGate(2)
  t.deepEqual(send(1, batch('a', 'b')), [batch('a', 'b')])
  t.deepEqual(send(0, watermark(7)), [])
  t.deepEqual(send(0, batch('c')), [batch('c')])
})

test('leaves an idle channel out of the minimum and sends one Idle when every channel is idle', (t) => {
  const { send } = openGate(2)
  t.deepEqual(send(0, watermark(10)), [])
  t.deepEqual(send(1, watermark(20)), [watermark(10)])
  t.deepEqual(send(0, IDLE), [watermark(20)])
  t.deepEqual(send(0, IDLE), [])
  t.deepEqual(send(1, IDLE), [IDLE])
  t.deepEqual(send(1, IDLE), [])
})

test('counts an idle channel again once data comes on it', (t) => {
  const { send } = openGate(2)
  send(0, watermark(10))
  send(1, watermark(20))
  send(0, IDLE)
  send(1, IDLE)
  // Channel 0 speaks again; its watermark (10) is below what was sent (20): nothing to send yet.
  t.deepEqual(send(0, batch('a')), [batch('a')])
  t.deepEqual(send(0, watermark(25)), [watermark(25)])
  // Channel 1 comes back at 20 and holds the minimum back from here on.
  t.deepEqual(send(1, batch('b')), [batch('b')])
  t.deepEqual(send(0, watermark(40)), [])
  t.deepEqual(send(1, watermark(30)), [watermark(30)])
})

test('counts an idle channel again once a watermark comes on it', (t) => {
  const { send } = openGate(2)
  send(0, watermark(10))
  t.deepEqual(send(1, IDLE), [watermark(10)])
  t.deepEqual(send(1, watermark(50)), [])
  t.deepEqual(send(0, watermark(60)), [watermark(50)])
})

test('holds the messages a channel sends after its barrier until every channel sent the barrier', (t) => {
  const { gate, send } = openGate(2)
  t.deepEqual(send(0, batch('a0')), [batch('a0')])
  t.deepEqual(send(0, barrier(1)), [])
  t.deepEqual(send(0, batch('b0')), [])
  t.deepEqual(send(0, watermark(50)), [])
  t.is(gate.bufferedMessages, 2)
  // Channel 1 has not sent barrier 1 yet: its messages belong to epoch 1 and pass.
  t.deepEqual(send(1, batch('a1')), [batch('a1')])
  t.deepEqual(send(1, watermark(40)), [])
  t.deepEqual(send(1, barrier(1)), [barrier(1), batch('b0'), watermark(40)])
  t.is(gate.bufferedMessages, 0)
  t.deepEqual(send(0, batch('c0')), [batch('c0')])
})

test('replays held messages in order and stops again at a second barrier among them', (t) => {
  const { gate, send } = openGate(3)
  for (const m of [barrier(1), batch('a0'), barrier(2), batch('b0')]) t.deepEqual(send(0, m), [])
  for (const m of [barrier(1), batch('a1'), barrier(2), batch('b1')]) t.deepEqual(send(1, m), [])
  t.is(gate.bufferedMessages, 6)
  t.deepEqual(send(2, barrier(1)), [barrier(1), batch('a0'), batch('a1')])
  t.is(gate.bufferedMessages, 2)
  t.deepEqual(send(2, batch('a2')), [batch('a2')])
  t.deepEqual(send(2, barrier(2)), [barrier(2), batch('b0'), batch('b1')])
  t.is(gate.bufferedMessages, 0)
})

test('aligns a second barrier that completes while held messages are replayed', (t) => {
  const { send } = openGate(3)
  for (const m of [barrier(1), batch('a0'), barrier(2), batch('b0')]) send(0, m)
  for (const m of [barrier(1), batch('a1'), barrier(2), batch('b1')]) send(1, m)
  // Channel 2 ends: barrier 1 aligns, and replaying channel 1 then aligns barrier 2 as well.
  t.deepEqual(send(2, END), [barrier(1), batch('a0'), batch('a1'), barrier(2), batch('b0'), batch('b1')])
})

test('completes an alignment when the last channel without the barrier ends', (t) => {
  const { send } = openGate(2)
  t.deepEqual(send(0, barrier(3)), [])
  t.deepEqual(send(0, batch('late')), [])
  t.deepEqual(send(1, END), [barrier(3), batch('late')])
  t.deepEqual(send(0, barrier(4)), [barrier(4)])
  t.deepEqual(send(0, END), [END])
})

test('forwards End once, when every channel has ended, and no watermark for it', (t) => {
  const { send } = openGate(3)
  send(0, watermark(10))
  send(1, watermark(20))
  t.deepEqual(send(2, watermark(30)), [watermark(10)])
  t.deepEqual(send(0, END), [watermark(20)])
  t.deepEqual(send(1, END), [watermark(30)])
  t.deepEqual(send(2, END), [END])
})

test('forwards End after the barrier that an ended channel held back', (t) => {
  const { send } = openGate(2)
  t.deepEqual(send(0, barrier(1)), [])
  t.deepEqual(send(0, END), [])
  t.deepEqual(send(1, END), [barrier(1), END])
})

test('refuses a message after End', (t) => {
  const { gate, send } = openGate(1)
  t.deepEqual(send(0, END), [END])
  const error = t.throws(() => gate.receive(0, batch('x')), { instanceOf: ProtocolError })
  t.is(error.message, 'a message (data) arrived on channel 0 after End')
})

test('carries the checkpoint flag of the barrier it aligns', (t) => {
  const { send } = openGate(2)
  send(0, barrier(1, { checkpoint: false }))
  t.deepEqual(send(1, barrier(1, { checkpoint: false })), [barrier(1, { checkpoint: false })])
  send(0, barrier(2))
  t.deepEqual(send(1, barrier(2)), [barrier(2, { checkpoint: true })])
  send(1, barrier(3, { checkpoint: false }))
  t.deepEqual(send(0, barrier(3, { checkpoint: false })), [barrier(3, { checkpoint: false })])
})

test('queues a message delivered while it is handing one downstream, and never reenters downstream', (t) => {
  const out: Message[] = []
  let depth = 0
  let maxDepth = 0
  const gate: InputGate = new InputGate(2, {
    process(m) {
      depth++
      maxDepth = Math.max(maxDepth, depth)
      out.push(m)
      // Downstream answers 'x' by sending on channel 1 (as a cycle through an exchange would).
      if (m.kind === 'data' && m.records[0].value === 'x') gate.receive(1, batch('y'))
      depth--
    },
  })
  gate.receive(0, barrier(1))
  gate.receive(0, batch('x'))
  gate.receive(0, batch('z'))
  gate.receive(1, barrier(1))
  t.deepEqual(out, [barrier(1), batch('x'), batch('z'), batch('y')])
  t.is(maxDepth, 1)
})

test('says a message was handled when it went through, not while it waits behind a barrier', (t) => {
  const out: Message[] = []
  const gate = new InputGate(2, { process: (m) => out.push(m) })
  const handled: string[] = []
  gate.receive(0, batch('a'), () => handled.push('a'))
  t.deepEqual(handled, ['a'])
  gate.receive(0, barrier(1))
  gate.receive(0, batch('b'), () => handled.push('b'))
  gate.receive(0, batch('c'), () => handled.push('c'))
  t.deepEqual(handled, ['a'])
  gate.receive(1, barrier(1))
  t.deepEqual(handled, ['a', 'b', 'c'])
  t.deepEqual(out, [batch('a'), barrier(1), batch('b'), batch('c')])
})
