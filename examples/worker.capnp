# workerd's config for examples/worker.ts, bundled to worker.js beside this file:
#   npx esbuild examples/worker.ts --bundle --platform=neutral --format=esm \
#     --outfile=examples/worker.js
#   npx workerd serve examples/worker.capnp
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:8000", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  # From 2026-08-04 on, Node compatibility (nodejs_compat) is on by default.
  compatibilityDate = "2026-11-01",
);
