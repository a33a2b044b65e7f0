/**
 * The light stand-ins of the Fetch fast path (`LazyRequest`, `FastResponse`) implement the
 * few members the server and frameworks read most; every other member of the standard
 * class is forwarded, here, to a standard object the stand-in builds on first need.
 *
 * @module
 */

/**
 * Gives `lightProto` every method and getter of `nativeProto` that it does not define
 * itself, each calling the same member on `standard(this)`, then makes `nativeProto` its
 * prototype (so `instanceof` holds).
 */
export function delegateToStandard<T extends object>(
  lightProto: T,
  nativeProto: object,
  standard: (light: T) => object,
): void {
  for (const name of Object.getOwnPropertyNames(nativeProto)) {
    if (name === "constructor" || Object.hasOwn(lightProto, name)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(nativeProto, name);
    if (descriptor === undefined) continue;
    if (typeof descriptor.value === "function") {
      const method = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(lightProto, name, {
        value(this: T, ...args: unknown[]) {
          return method.apply(standard(this), args);
        },
        writable: true,
        configurable: true,
      });
    } else if (descriptor.get !== undefined) {
      const get = descriptor.get;
      Object.defineProperty(lightProto, name, {
        get(this: T) {
          return get.call(standard(this));
        },
        configurable: true,
      });
    }
  }
  Object.setPrototypeOf(lightProto, nativeProto);
}
