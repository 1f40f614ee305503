// The floor: the same pages the incremental walk reads (namespaces, then per namespace
// projects, workloads, components; same page size), fetched with keep-alive (Node's
// fetch, i.e. undici), parsed (the cursor is in the body) and discarded.
import { fetchPage } from '../lib/openchoreo.mjs';

export async function setup(options) {
  const { baseUrl, chunkSize } = options;
  const walk = async path => {
    let cursor;
    let names = [];
    let pages = 0;
    do {
      const page = await fetchPage(baseUrl, path, { cursor, limit: chunkSize });
      pages += 1;
      if (path === '/namespaces') names = names.concat(page.items.map(i => i.metadata.name));
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
        for (const list of ['projects', 'workloads', 'components']) {
          pages += (await walk(`/namespaces/${encodeURIComponent(name)}/${list}`)).pages;
        }
      }
      return { pages };
    },
  };
}
