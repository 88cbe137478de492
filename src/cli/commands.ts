// Each command's module imported from the compiled sources, as src/cli.ts runs them (a checkout
// through tsx, dist/src/cli.js). The bundled command loads the same modules from its bundles
// instead (bin.ts).
import type { CommandModules } from './main.js';

export const IMPORTED_COMMANDS: CommandModules = {
  commands: {
    serve: async () => {
      const { serveCommand, SERVE_HELP } = await import('./serve.js');
      return { run: serveCommand, help: SERVE_HELP };
    },
    produce: async () => {
      const { produceCommand, PRODUCE_HELP } = await import('./produce.js');
      return { run: produceCommand, help: PRODUCE_HELP };
    },
    'dev-cluster': async () => {
      const { devClusterCommand, DEV_CLUSTER_HELP } = await import('./dev-cluster.js');
      return { run: devClusterCommand, help: DEV_CLUSTER_HELP };
    },
  },
  serveWorker: async () => (await import('./serve-workers.js')).serveWorker,
};
