// A stand-in `catalog` plugin for the benchmarks: it provides
// `catalogProcessingExtensionPoint` and connects every entity provider registered there
// to one connection (a counting or recording one), with no catalog processing.
import backendPluginApi from '@backstage/backend-plugin-api';
import catalogNode from '@backstage/plugin-catalog-node';

const { createBackendPlugin } = backendPluginApi;
const { catalogProcessingExtensionPoint } = catalogNode;

export function fakeCatalogPlugin(connection) {
  return createBackendPlugin({
    pluginId: 'catalog',
    register(env) {
      const providers = [];
      env.registerExtensionPoint(catalogProcessingExtensionPoint, {
        addProcessor() {},
        addEntityProvider(...list) {
          providers.push(...list.flat());
        },
        addPlaceholderResolver() {},
        setOnProcessingErrorHandler() {},
      });
      env.registerInit({
        deps: {},
        async init() {
          for (const provider of providers) await provider.connect(connection);
        },
      });
    },
  });
}
