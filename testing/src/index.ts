export * from "./AuthServer.js"
export type * from "./context.js"
export * from "./FaultServer.js"
export * from "./ResourceServer.js"
