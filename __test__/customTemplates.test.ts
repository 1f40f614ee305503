// Custom scaffolder templates: the engine's placeholders completed from the URL they name,
// read through a real UrlReaderService (Backstage's FetchUrlReader) from a local server.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigReader } from '@backstage/config';
import { UrlReaders } from '@backstage/backend-defaults/urlReader';
import type { LoggerService, UrlReaderService } from '@backstage/backend-plugin-api';
import { completeCustomTemplates, PENDING_ANNOTATION, redactUrl } from '../js/src/customTemplates';

function testLogger() {
  const logger: any = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
  logger.child = () => logger;
  return logger as LoggerService & { warn: jest.Mock; error: jest.Mock };
}

const AUTHORED = `# a hand-written template
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: authored-name
  namespace: somewhere-else
  title: Go service
  labels:
    team: platform
  annotations:
    acme.io/owner-team: platform
    openchoreo.io/ctd-generated: "true"
    openchoreo.io/ctd-display-name: Authored Display
spec:
  owner: group:default/platform
  type: service
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
`;

const FILES: Record<string, string> = {
  '/go.yaml': AUTHORED,
  '/multi.yaml': `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: not-this
spec:
  targets: [./x.yaml]
---
# an empty document, then a scalar one
---
just a string
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: second
  title: The second document
spec:
  type: website
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: third
spec:
  type: never-picked
`,
  '/invalid.yaml': 'kind: Template\nmetadata: {name: [unclosed\n',
  '/no-template.yaml': 'kind: Component\nmetadata:\n  name: c\n',
  '/no-metadata.yaml': 'kind: Template\nspec: {}\n',
};

let server: http.Server;
let base: string;
let reader: UrlReaderService;
const requests: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    requests.push(path);
    const body = FILES[path];
    if (body === undefined) {
      res.writeHead(404).end('not found');
    } else {
      res.writeHead(200, { 'content-type': 'text/yaml' }).end(body);
    }
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://localhost:${port}`;
  reader = UrlReaders.default({
    config: new ConfigReader({ backend: { reading: { allow: [{ host: `localhost:${port}` }] } } }),
    logger: testLogger(),
  });
});

afterAll(async () => {
  await new Promise(resolve => server.close(resolve));
});

beforeEach(() => {
  requests.length = 0;
});

/** A placeholder as `custom_component_type` emits it. */
function placeholder(ct: string, url: string, opts: { ns?: string; displayName?: string } = {}) {
  const annotations: Record<string, string> = {
    'openchoreo.io/ctd-name': ct,
    'openchoreo.io/ctd-generated': 'false',
    'scaffolder.openchoreo.dev/backstage-template-url': url,
    'backstage.io/managed-by-location': `url:${url}`,
    'backstage.io/managed-by-origin-location': `url:${url}`,
    'openchoreo.io/workload-type': 'deployment',
    [PENDING_ANNOTATION]: 'true',
  };
  if (!opts.ns) annotations['openchoreo.io/ctd-kind'] = 'ClusterComponentType';
  if (opts.displayName) annotations['openchoreo.io/ctd-display-name'] = opts.displayName;
  return {
    entity: {
      apiVersion: 'scaffolder.backstage.io/v1beta3',
      kind: 'Template',
      metadata: { name: `template-${ct}`, namespace: opts.ns ?? 'openchoreo-cluster', annotations },
      spec: {},
    },
    locationKey: 'provider:OpenChoreoEntityProvider',
  };
}

const other = {
  entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Domain', metadata: { name: 'acme' }, spec: { owner: 'x' } },
  locationKey: 'provider:OpenChoreoEntityProvider',
};

function delta(...added: any[]) {
  return { type: 'delta', added, removed: [{ entityRef: 'template:acme/template-gone', locationKey: 'provider:OpenChoreoEntityProvider' }] };
}

describe('completeCustomTemplates', () => {
  it('replaces a placeholder by the authored template under its identity and annotations', async () => {
    const url = `${base}/go.yaml`;
    const logger = testLogger();
    const out = await completeCustomTemplates(delta(other, placeholder('go-service', url, { ns: 'acme' })), reader, logger);

    expect(out.type).toBe('delta');
    expect(out.removed).toEqual([{ entityRef: 'template:acme/template-gone', locationKey: 'provider:OpenChoreoEntityProvider' }]);
    expect(out.added).toHaveLength(2);
    expect(out.added[0]).toBe(other);
    expect(out.added[1]).toEqual({
      locationKey: 'provider:OpenChoreoEntityProvider',
      entity: {
        apiVersion: 'scaffolder.backstage.io/v1beta3',
        kind: 'Template',
        metadata: {
          name: 'template-go-service',
          namespace: 'acme',
          title: 'Go service',
          labels: { team: 'platform' },
          annotations: {
            'acme.io/owner-team': 'platform',
            // The authored display name stays: the type has none of its own.
            'openchoreo.io/ctd-display-name': 'Authored Display',
            'openchoreo.io/ctd-name': 'go-service',
            'openchoreo.io/ctd-generated': 'false',
            'scaffolder.openchoreo.dev/backstage-template-url': url,
            'backstage.io/managed-by-location': `url:${url}`,
            'backstage.io/managed-by-origin-location': `url:${url}`,
            'openchoreo.io/workload-type': 'deployment',
          },
        },
        spec: {
          owner: 'group:default/platform',
          type: 'service',
          steps: [{ id: 'fetch', action: 'fetch:template', input: { url: './skeleton' } }],
        },
      },
    });
    expect(logger.warn).not.toHaveBeenCalled();
    expect(requests).toEqual(['/go.yaml']);
  });

  it('lays the type display name and cluster kind over the authored ones', async () => {
    const url = `${base}/go.yaml`;
    const out = await completeCustomTemplates(delta(placeholder('web', url, { displayName: 'Web' })), reader, testLogger());
    const { metadata } = out.added[0].entity;
    expect(metadata.name).toBe('template-web');
    expect(metadata.namespace).toBe('openchoreo-cluster');
    expect(metadata.annotations['openchoreo.io/ctd-display-name']).toBe('Web');
    expect(metadata.annotations['openchoreo.io/ctd-kind']).toBe('ClusterComponentType');
    expect(metadata.annotations[PENDING_ANNOTATION]).toBeUndefined();
  });

  it('takes the first Template document of a multi-document file', async () => {
    const out = await completeCustomTemplates(delta(placeholder('site', `${base}/multi.yaml`, { ns: 'acme' })), reader, testLogger());
    const { entity } = out.added[0];
    expect(entity.metadata.name).toBe('template-site');
    expect(entity.metadata.title).toBe('The second document');
    expect(entity.spec).toEqual({ type: 'website' });
  });

  it('reads a URL shared by several types once', async () => {
    const url = `${base}/go.yaml`;
    const out = await completeCustomTemplates(
      delta(placeholder('a', url, { ns: 'acme' }), placeholder('b', url, { ns: 'acme' }), placeholder('c', url)),
      reader,
      testLogger(),
    );
    expect(out.added.map((e: any) => e.entity.metadata.name)).toEqual(['template-a', 'template-b', 'template-c']);
    expect(requests).toEqual(['/go.yaml']);
  });

  it.each([
    ['a read that fails (404)', '/missing.yaml', /Failed to fetch custom template for ComponentType broken \(acme\) from http:\/\/localhost:\d+\/missing\.yaml: unable to read it: NotFoundError: could not read .*404/],
    ['invalid YAML', '/invalid.yaml', /broken .*invalid YAML/],
    ['no Template document', '/no-template.yaml', /broken .*no 'kind: Template' document/],
    ['a Template without metadata', '/no-metadata.yaml', /broken .*no metadata block/],
  ])('drops the placeholder after %s, and warns', async (_what, path, message) => {
    const logger = testLogger();
    const good = placeholder('go', `${base}/go.yaml`, { ns: 'acme' });
    const out = await completeCustomTemplates(delta(placeholder('broken', `${base}${path}`, { ns: 'acme' }), other, good), reader, logger);
    expect(out.added.map((e: any) => e.entity.metadata.name)).toEqual(['acme', 'template-go']);
    expect(out.removed).toHaveLength(1);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0][0]).toMatch(message);
  });

  it('drops every placeholder when there is no reader', async () => {
    const logger = testLogger();
    const out = await completeCustomTemplates(delta(other, placeholder('go', `${base}/go.yaml`, { ns: 'acme' })), undefined, logger);
    expect(out.added).toEqual([other]);
    expect(logger.warn.mock.calls[0][0]).toMatch(/ComponentType go \(acme\) sets scaffolder.openchoreo.dev\/backstage-template-url but no UrlReader/);
  });

  it('keeps credentials of the URL out of the warning', async () => {
    const logger = testLogger();
    const url = `http://user:s3cret@localhost:1/t.yaml?token=abc123`;
    await completeCustomTemplates(delta(placeholder('go', url, { ns: 'acme' })), reader, logger);
    const warning = logger.warn.mock.calls[0][0] as string;
    expect(warning).toMatch(/ComponentType go \(acme\) from http:\/\/\*\*\*@localhost:1\/t\.yaml\?\*\*\*/);
    expect(warning).not.toMatch(/s3cret|abc123/);
    expect(redactUrl('https://github.com/acme/t/blob/main/t.yaml')).toBe('https://github.com/acme/t/blob/main/t.yaml');
  });

  it('returns a mutation without placeholders as it is', async () => {
    const m = delta(other);
    expect(await completeCustomTemplates(m, reader, testLogger())).toBe(m);
    const full = { type: 'full', entities: [other] };
    expect(await completeCustomTemplates(full, reader, testLogger())).toBe(full);
    expect(requests).toEqual([]);
  });

  it('completes the entities of a full mutation too', async () => {
    const out = await completeCustomTemplates(
      { type: 'full', entities: [placeholder('go', `${base}/go.yaml`, { ns: 'acme' })] },
      reader,
      testLogger(),
    );
    expect(out.entities[0].entity.metadata.title).toBe('Go service');
  });
});
