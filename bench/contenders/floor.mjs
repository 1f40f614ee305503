// The floor: the same requests the incremental walk makes (namespaces; per namespace its
// platform lists, projects, workloads, components; then the cluster-scoped lists; same
// page size; a type's `/schema`), fetched with keep-alive (Node's fetch, i.e. undici),
// parsed (the cursor is in the body) and discarded.
import { CLUSTER_PLATFORM, CUSTOM_TEMPLATE_ANNOTATION, NAMESPACED_PLATFORM } from '../lib/kinds.mjs';
import { fetchPage } from '../lib/openchoreo.mjs';

export async function setup(options) {
  const { baseUrl, chunkSize } = options;
  const walk = async (path, { optional = false, schema = false } = {}) => {
    let cursor;
    let names = [];
    let pages = 0;
    do {
      const page = await fetchPage(baseUrl, path, { cursor, limit: chunkSize, optional });
      pages += 1;
      if (path === '/namespaces') names = names.concat(page.items.map(i => i.metadata.name));
      for (const item of schema ? page.items : []) {
        if (item.metadata?.annotations?.[CUSTOM_TEMPLATE_ANNOTATION]) continue;
        await (await fetch(`${baseUrl}/api/v1${path}/${encodeURIComponent(item.metadata.name)}/schema`)).json();
        pages += 1;
      }
      cursor = page.nextCursor;
    } while (cursor);
    return { names, pages };
  };
  return {
    async cycle() {
      let pages = 0;
      const ns = await walk('/namespaces');
      pages += ns.pages;
      for (const name of ns.names) {
        const base = `/namespaces/${encodeURIComponent(name)}`;
        for (const { plural, schema } of NAMESPACED_PLATFORM) {
          pages += (await walk(`${base}/${plural}`, { optional: true, schema })).pages;
        }
        for (const list of ['projects', 'workloads', 'components']) pages += (await walk(`${base}/${list}`)).pages;
      }
      for (const { plural, schema } of CLUSTER_PLATFORM) pages += (await walk(`/${plural}`, { optional: true, schema })).pages;
      return { pages };
    },
  };
}
