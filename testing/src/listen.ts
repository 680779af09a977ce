/**
 * Starts a node:http server on `127.0.0.1` with a random port and tracks its sockets, so that closing it does not
 * wait for keep-alive connections to end.
 */
import type * as http from "node:http"
import type { Socket } from "node:net"

export interface Listening {
  /** `http://127.0.0.1:<port>` (`https://` with the `https` scheme) */
  readonly url: string
  readonly port: number
  /** Closes the server and destroys every open socket; resolves when the server has closed. Idempotent. */
  close(): Promise<void>
}

export interface ListenOptions {
  /** The length of the queue of pending connections. Default Node's (511). */
  readonly backlog?: number
  /** The scheme of the reported URL: `https` for an `https.Server`. Default `http`. */
  readonly scheme?: "http" | "https"
}

/** Listens on `127.0.0.1` with a random port; rejects when the server cannot listen. */
export const listen = (server: http.Server, options: ListenOptions = {}): Promise<Listening> => {
  const sockets = new Set<Socket>()
  server.on("connection", (socket: Socket) => {
    sockets.add(socket)
    socket.once("close", () => sockets.delete(socket))
  })
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen({ port: 0, host: "127.0.0.1", backlog: options.backlog }, () => {
      server.off("error", reject)
      const address = server.address()
      if (address === null || typeof address === "string") {
        reject(new Error("server has no TCP address"))
        return
      }
      let closing: Promise<void> | undefined
      resolve({
        url: `${options.scheme ?? "http"}://127.0.0.1:${address.port}`,
        port: address.port,
        close: () => {
          if (closing === undefined) {
            closing = new Promise<void>((done) => {
              server.close(() => done())
              for (const socket of sockets) socket.destroy()
              server.closeAllConnections()
            })
          }
          return closing
        }
      })
    })
  })
}
