/**
 * A WSGI application inside `node:http`, Express or Connect: `toNodeListener(app)`.
 *
 * @module
 */
export {
  type NodeListener,
  type NodeListenerOptions,
  type NodeRequest,
  toNodeListener,
} from "./bridges/node.ts";
