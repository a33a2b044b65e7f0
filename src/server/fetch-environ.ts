/**
 * The `env` a Fetch application gets on the fast path: the request's WSGI environ (CGI
 * variables, `HTTP_*` headers, `wsgi.input`, `wsgi.errors`, ...), built only when the
 * handler first looks at it. Hono keeps `env` as `c.env` without reading it, so most
 * requests never pay for it.
 *
 * @module
 */
import type { WSGIEnvironment } from "../types.ts";

/** An object that behaves as the environ `build()` returns, calling it once on first use. */
export function lazyEnviron(build: () => WSGIEnvironment): WSGIEnvironment {
  let environ: WSGIEnvironment | undefined;
  const real = (): WSGIEnvironment => {
    environ ??= build();
    return environ;
  };
  return new Proxy({} as WSGIEnvironment, {
    get: (_target, key) => Reflect.get(real(), key),
    set: (_target, key, value) => Reflect.set(real(), key, value),
    has: (_target, key) => Reflect.has(real(), key),
    deleteProperty: (_target, key) => Reflect.deleteProperty(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor(_target, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      // A proxy may only report a property as configurable if its target has it so.
      if (descriptor !== undefined) descriptor.configurable = true;
      return descriptor;
    },
    defineProperty: (_target, key, descriptor) => Reflect.defineProperty(real(), key, descriptor),
  });
}
