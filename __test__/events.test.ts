// Change events end to end: Backstage's real events service (plugin-events-node), the real
// catalog plugin, this module with the real addon, the stand-in OpenChoreo.
import request from 'supertest';
import { createBackendPlugin } from '@backstage/backend-plugin-api';
// The real events service: the test backend's default is a mock that delivers nothing.
import { eventsServiceFactory, eventsServiceRef, type EventsService } from '@backstage/plugin-events-node';
import { MockOpenChoreo } from './support/mock';
import { openChoreoConfig, providerEntities, startCatalog, waitFor, type TestCatalog } from './support/backend';

const PROVIDER = 'OpenChoreoEntityProvider';
const base = `/api/catalog/incremental/providers/${PROVIDER}`;

/** Another plugin's view of the events service: what publishes the portal's events. */
let publisher: EventsService | undefined;
const publisherPlugin = createBackendPlugin({
  pluginId: 'openchoreo-events-publisher',
  register(env) {
    env.registerInit({
      deps: { events: eventsServiceRef },
      async init({ events }) {
        publisher = events;
      },
    });
  },
});

async function entity(catalog: TestCatalog, kind: string, ns: string, name: string) {
  const res = await request(catalog.server).get(`/api/catalog/entities/by-name/${kind}/${ns}/${name}`);
  return res.status === 200 ? res.body : undefined;
}

describe('OpenChoreo change events', () => {
  let mock: MockOpenChoreo;
  let catalog: TestCatalog;

  beforeAll(async () => {
    mock = await MockOpenChoreo.start(['--namespaces', '1', '--projects', '2', '--components', '3']);
    const config = { ...openChoreoConfig(mock.url, { chunkSize: 20, restLength: 60 }), events: { useEventBus: 'never' } };
    catalog = await startCatalog({ config, features: [eventsServiceFactory, publisherPlugin] });
    const total = (await mock.summary()).components;
    await waitFor('the first cycle', async () => {
      const list = await providerEntities(catalog.server);
      if (list.filter(e => e.kind === 'Component').length >= total) return list;
      await request(catalog.server).post(`${base}/refresh`);
      return undefined;
    });
  });

  afterAll(async () => {
    await catalog?.stop();
    await mock?.stop();
  });

  it('applies an edit published on topic openchoreo within seconds, without a cycle', async () => {
    const [ns] = await mock.namespaces();
    const [name] = await mock.names(ns, 'components');
    const item = await mock.getItem(ns, 'components', name);
    item.metadata.annotations = { ...(item.metadata.annotations ?? {}), 'openchoreo.dev/display-name': 'Edited through an event' };
    await mock.putItem(ns, 'components', name, item);
    const cycleBefore = (await request(catalog.server).get(base)).body.cycle;

    const started = Date.now();
    await publisher!.publish({ topic: 'openchoreo', eventPayload: { kind: 'Component', name, namespace: ns, action: 'updated' } });
    await waitFor(
      'the edited title in the catalog',
      async () => ((await entity(catalog, 'component', ns, name))?.metadata?.title === 'Edited through an event' ? true : undefined),
      { timeoutMs: 15000, intervalMs: 100 },
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(15000);

    const status = (await request(catalog.server).get(base)).body;
    // No cycle ran: the event did it (restLength is an hour).
    expect(status.cycle).toBe(cycleBefore);
    expect(status.events.enabled).toBe(true);
    expect(status.events.received).toBeGreaterThanOrEqual(1);
    expect(status.events.applied).toBeGreaterThanOrEqual(1);
    expect(status.events.failed).toBe(0);
    expect(typeof status.events.lastLagMillis).toBe('number');
  });

  it("removes a deleted component and its APIs on the legacy router's sub-topic", async () => {
    const [ns] = await mock.namespaces();
    const components = await mock.names(ns, 'components');
    const name = components[components.length - 1];
    const apisBefore = (await providerEntities(catalog.server)).filter(
      e => e.kind === 'API' && e.metadata.annotations?.['openchoreo.io/component'] === name,
    );
    await mock.deleteComponent(ns, name);
    await publisher!.publish({ topic: 'openchoreo.component', eventPayload: { kind: 'component', name, namespace: ns, action: 'deleted' } });
    await waitFor('the component gone from the catalog', async () => ((await entity(catalog, 'component', ns, name)) ? undefined : true), {
      timeoutMs: 15000,
      intervalMs: 100,
    });
    for (const api of apisBefore) {
      await waitFor(`API ${api.metadata.name} gone`, async () => ((await entity(catalog, 'api', ns, api.metadata.name)) ? undefined : true), {
        timeoutMs: 15000,
        intervalMs: 100,
      });
    }
    const status = (await request(catalog.server).get(base)).body;
    expect(status.events.failed).toBe(0);
  });

  it('counts a payload it cannot use and goes on', async () => {
    const before = (await request(catalog.server).get(base)).body.events.ignored;
    await publisher!.publish({ topic: 'openchoreo', eventPayload: { kind: 'release', name: 'r-1', action: 'created' } });
    await waitFor('the ignored event counted', async () => {
      const s = (await request(catalog.server).get(base)).body;
      return s.events.ignored > before ? true : undefined;
    });
  });
});
