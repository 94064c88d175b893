import type { Message } from '../messages/messages.js'

/** Anything that takes the next message of a stream: an instance, an exchange writer, a channel. */
export interface Emitter {
  process(message: Message): void
}
