// The backend of the events latency script (bench/events-latency.mjs), in its own Node
// process: Backstage's backend (`createBackend`, as dev/backend.mjs and a portal start
// it) with the events plugin (its HTTP ingress receives the stand-in's change events),
// this module (dist/), and a stand-in `catalog` plugin whose only job is to connect entity
// providers to a RecordingConnection (no catalog processing: it records when each
// mutation was handed over).
//
// Started with `--config <app-config.yaml>` (read by Backstage's config service) and an
// IPC channel. Protocol (process.send / process.on('message')):
//   -> {type: 'ready'}                                  the backend has started
//   <- {type: 'watch', refs}                            record hand-overs of these refs
//   <- {type: 'report'}  -> {type: 'report', ...}       counters (and, with `full`, the
//                                                       hand-overs of the watched refs)
//   <- {type: 'stop'}    -> exits once the backend has stopped
import backendDefaults from '@backstage/backend-defaults';
import catalogTestUtils from '@backstage/plugin-catalog-node/testUtils';
import { fakeCatalogPlugin } from './lib/fake-catalog.mjs';
import { RecordingConnection } from './lib/recording.mjs';

const { createBackend } = backendDefaults;
const { catalogServiceMock } = catalogTestUtils;

const connection = new RecordingConnection();

const recordingCatalog = fakeCatalogPlugin(connection);

const send = msg => new Promise(resolve => process.send(msg, () => resolve()));

const backend = createBackend();
backend.add(recordingCatalog);
// The module's adoption of a legacy provider's entities asks the catalog for them: none.
backend.add(catalogServiceMock.factory({ entities: [] }));
backend.add(import('@backstage/plugin-events-backend'));
backend.add(import('../dist/index.js'));

process.on('message', async m => {
  if (m.type === 'watch') {
    connection.watch(m.refs);
  } else if (m.type === 'report') {
    const report = {
      type: 'report',
      mutations: connection.mutations,
      added: connection.added,
      removed: connection.removed,
      present: connection.present.size,
    };
    if (m.full) {
      report.handovers = [...connection.handovers];
      report.removals = [...connection.removals];
    }
    await send(report);
  } else if (m.type === 'stop') {
    try {
      await backend.stop();
    } finally {
      process.exit(0);
    }
  }
});

await backend.start();
await send({ type: 'ready' });
