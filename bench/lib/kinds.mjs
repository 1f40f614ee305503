// The platform lists every contender walks (besides namespaces, projects, workloads and
// components), in the walk's order, with the Backstage kind each becomes: the table the
// every-kind jest test reads too (tests/fixtures/platform-kinds.json).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { lists } = require('../../tests/fixtures/platform-kinds.json');

export const PLATFORM_LISTS = lists;
export const NAMESPACED_PLATFORM = lists.filter(l => l.scope === 'namespace');
export const CLUSTER_PLATFORM = lists.filter(l => l.scope === 'cluster');


/** An item that names its own template gets no `/schema` request (src/kinds.rs). */
export const CUSTOM_TEMPLATE_ANNOTATION = 'scaffolder.openchoreo.dev/backstage-template-url';
