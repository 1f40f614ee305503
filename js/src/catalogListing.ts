import type { AuthService } from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';

/** The annotation that ties a provider's entities to its location key. */
export const MANAGED_BY_LOCATION = 'backstage.io/managed-by-location';

export interface ProviderListingOptions {
  catalog: Pick<CatalogService, 'queryEntities'>;
  auth: Pick<AuthService, 'getOwnServiceCredentials'>;
  providerName: string;
  pageSize: number;
}

/**
 * The catalog's filtered listing of a provider's entities (those under its location key
 * `provider:<name>`), page by page, as refs `kind:namespace/name` (lower-cased). Only
 * the three fields are fetched; nothing is kept between pages.
 */
export async function* providerRefPages(options: ProviderListingOptions): AsyncGenerator<string[]> {
  const { catalog, auth, providerName, pageSize } = options;
  const credentials = await auth.getOwnServiceCredentials();
  const fields = ['kind', 'metadata.namespace', 'metadata.name'];
  const filter = { [`metadata.annotations.${MANAGED_BY_LOCATION}`]: `provider:${providerName}` };
  let cursor: string | undefined;
  do {
    const page = await catalog.queryEntities(
      cursor ? { cursor, fields, limit: pageSize } : { filter, fields, limit: pageSize },
      { credentials },
    );
    yield page.items
      .filter(e => e?.kind && e.metadata?.name)
      .map(e => `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase());
    const next = page.pageInfo?.nextCursor;
    // A cursor that does not move (or an empty page with a cursor) would loop forever.
    cursor = next && next !== cursor && page.items.length > 0 ? next : undefined;
  } while (cursor);
}
