import type { ServerResponse } from 'node:http'

/** A client that reads more slowly than this many bytes behind is dropped (it reconnects and catches up). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024

/**
 * Server-Sent Events over `node:http`: each connected page is one response kept open, and every event
 * is written to all of them as `event: NAME` and one `data:` line of JSON.
 */
export class EventStream {
  private readonly clients = new Set<ServerResponse>()

  get size(): number {
    return this.clients.size
  }

  /** Takes a request's response over: headers now, then `greet` for what this page must see first. */
  open(res: ServerResponse, greet: (send: (event: string, data: unknown) => void) => void): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    })
    res.write('retry: 2000\n\n')
    greet((event, data) => write(res, event, data))
    this.clients.add(res)
    res.on('close', () => this.clients.delete(res))
  }

  broadcast(event: string, data: unknown): void {
    const frame = format(event, data)
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        res.destroy()
        this.clients.delete(res)
      } else {
        res.write(frame)
      }
    }
  }

  closeAll(): void {
    for (const res of this.clients) res.end()
    this.clients.clear()
  }
}

function write(res: ServerResponse, event: string, data: unknown): void {
  res.write(format(event, data))
}

function format(event: string, data: unknown): string {
  // JSON has no raw newlines, so one data line holds it.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}
