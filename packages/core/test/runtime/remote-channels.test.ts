import test from 'ava'
import { MessageChannel } from 'node:worker_threads'
import { barrier, data, record, type Message } from '../../src/messages/messages.js'
import { Backpressure } from '../../src/runtime/backpressure.js'
import { InputGate } from '../../src/runtime/input-gate.js'
import { CHANNEL_CREDITS, RemoteChannels } from '../../src/runtime/remote-channels.js'

/** Lets the ports deliver what was posted (they are asynchronous even in one thread). */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 20))

/**
 * "Thread" 0 sends channel 7 over a real MessagePort to a gate on "thread" 1, whose other channel is
 * local; both ends run in this thread, as they would in two.
 */
function twoThreads() {
  const { port1, port2 } = new MessageChannel()
  const pressure = new Backpressure()
  const sending = new RemoteChannels(new Map([[1, port1]]), pressure, (e) => {
    throw e
  })
  const receiving = new RemoteChannels(new Map([[0, port2]]), new Backpressure(), (e) => {
    throw e
  })
  const out: Message[] = []
  const gate = new InputGate(2, { process: (m) => out.push(m) })
  const remote = sending.sender(1, 7)
  receiving.receiver(7, gate, 0)
  sending.start()
  receiving.start()
  const close = () => {
    sending.close()
    receiving.close()
  }
  return { pressure, remote, gate, out, close }
}

const batch = (n: number) => data([record(`v${n}`, n)])

test('returns a channel credit per batch the gate passed on, and holds the sender back without credit', async (t) => {
  const { pressure, remote, out, close } = twoThreads()
  t.teardown(close)
  for (let i = 0; i < CHANNEL_CREDITS - 1; i++) remote.process(batch(i))
  t.false(pressure.pressured)
  remote.process(batch(CHANNEL_CREDITS - 1))
  t.true(pressure.pressured)
  await settle()
  t.false(pressure.pressured)
  t.is(out.length, CHANNEL_CREDITS)
})

test('keeps the credits of batches that barrier alignment holds until they are released', async (t) => {
  const { pressure, remote, gate, out, close } = twoThreads()
  t.teardown(close)
  remote.process(barrier(0))
  for (let i = 0; i < CHANNEL_CREDITS; i++) remote.process(batch(i))
  await settle()
  // Barrier 0 came on the remote channel only: what follows it waits, and so does the sender.
  t.deepEqual(out, [])
  t.is(gate.bufferedMessages, CHANNEL_CREDITS)
  t.true(pressure.pressured)
  gate.receive(1, barrier(0))
  t.deepEqual(
    out.map((m) => (m.kind === 'data' ? m.records.map((r) => r.value) : m)),
    [barrier(0), ...Array.from({ length: CHANNEL_CREDITS }, (_, i) => [`v${i}`])],
  )
  await settle()
  t.false(pressure.pressured)
})
