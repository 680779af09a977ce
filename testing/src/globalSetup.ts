/**
 * Vitest globalSetup: starts one authorization server and one resource server for a test project and provides
 * their URLs to the tests (`inject("issuer")`, `inject("tokenEndpoint")`, `inject("apiUrl")`,
 * `inject("introspectionEndpoint")`, `inject("privateKeyJwtClient")`).
 */
import type { TestProject } from "vitest/node"
import { startAuthServer } from "./AuthServer.js"
import type {} from "./context.js"
import { startResourceServer } from "./ResourceServer.js"

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const authServer = await startAuthServer()
  const resourceServer = await startResourceServer({ issuer: authServer.issuer, jwksUri: authServer.jwksUri }).catch(
    async (error: unknown) => {
      await authServer.close()
      throw error
    }
  )
  project.provide("issuer", authServer.issuer)
  project.provide("tokenEndpoint", authServer.tokenEndpoint)
  project.provide("apiUrl", resourceServer.url)
  project.provide("introspectionEndpoint", authServer.introspectionEndpoint)
  project.provide("privateKeyJwtClient", {
    id: authServer.jwtClients.es256.id,
    privateJwk: authServer.jwtClients.es256.privateJwk
  })
  return async () => {
    await Promise.all([resourceServer.close(), authServer.close()])
  }
}
