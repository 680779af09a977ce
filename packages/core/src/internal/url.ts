import { ConfigurationError } from "../OAuth2Error.js"

/** @internal */
export const isLoopbackHost = (hostname: string): boolean => {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "")
  return host === "localhost" || host.endsWith(".localhost") || host === "::1" ||
    /^127(?:\.\d{1,3}){3}$/.test(host)
}

/**
 * Parses and checks a token endpoint URL: absolute, http(s), no fragment (RFC 6749 §3.2), no user info, and https
 * unless the host is a loopback address or insecure http is allowed explicitly.
 *
 * @internal
 */
export const parseEndpoint = (
  input: string | URL,
  options: { readonly allowInsecureHttp?: boolean | undefined; readonly what: string }
): URL | ConfigurationError => {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    // The value itself is not repeated: a misplaced secret must not end up in a log.
    return new ConfigurationError({
      reason: `${options.what} is not an absolute URL (${String(input).length} characters); expected https://host/path`
    })
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return new ConfigurationError({ reason: `${options.what} must use https, not ${url.protocol}` })
  }
  if (url.username !== "" || url.password !== "") {
    return new ConfigurationError({
      reason: `${options.what} must not hold user credentials; use clientId and clientSecret`
    })
  }
  if (url.hash !== "") {
    return new ConfigurationError({ reason: `${options.what} must not have a fragment (RFC 6749 §3.2)` })
  }
  if (url.protocol === "http:" && options.allowInsecureHttp !== true && !isLoopbackHost(url.hostname)) {
    return new ConfigurationError({
      reason: `${options.what} ${url.origin} uses plain http; https is required (RFC 6749 §3.2) except for ` +
        `loopback hosts. Set allowInsecureHttp: true only for a trusted private network`
    })
  }
  return url
}

/** The URL without query, for logs and span attributes. @internal */
export const display = (url: URL): string => `${url.origin}${url.pathname}`
