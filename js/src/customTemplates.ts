// Completes the custom scaffolder Templates of (Cluster)ComponentTypes that name their own
// template (annotation `scaffolder.openchoreo.dev/backstage-template-url`). The engine
// cannot call Backstage, so it emits a placeholder Template carrying what the legacy
// module stamps on the authored one (`RemoteTemplateFetcher.stamp`: name, namespace, the
// ctd-* annotations, the URL, managed-by-* = `url:<templateUrl>`) plus the marker
// annotation below. Here each placeholder is replaced by the template read from its URL
// through Backstage's UrlReaderService (the user's integrations and credentials apply),
// merged as the legacy code merges it; when the read or the parse fails the placeholder
// is dropped, as the legacy code drops the Template (the engine still counts it as seen,
// so an earlier good copy stays in the catalog).
import type { LoggerService, UrlReaderService } from '@backstage/backend-plugin-api';
import { parseAllDocuments } from 'yaml';

/** Marks a placeholder (set by the engine, `src/translate/templates/custom.rs`). */
export const PENDING_ANNOTATION = 'openchoreo.io/template-pending';
export const TEMPLATE_URL_ANNOTATION = 'scaffolder.openchoreo.dev/backstage-template-url';
const CTD_NAME_ANNOTATION = 'openchoreo.io/ctd-name';

type Json = Record<string, any>;

function isPlaceholder(entity: any): boolean {
  return entity?.kind === 'Template' && entity?.metadata?.annotations?.[PENDING_ANNOTATION] === 'true';
}

/**
 * Replaces every placeholder of `mutation` (a parsed `delta` mutation, `added` entries
 * `{entity, locationKey}`; a `full` one's `entities` too) by its authored template, or
 * drops it with a warning. Returns the mutation itself when it holds no placeholder, else
 * a copy; never rejects.
 */
export async function completeCustomTemplates(
  mutation: any,
  reader: UrlReaderService | undefined,
  logger: LoggerService,
): Promise<any> {
  const field = mutation?.type === 'full' ? 'entities' : 'added';
  const entries: any[] | undefined = mutation?.[field];
  if (!Array.isArray(entries) || !entries.some(e => isPlaceholder(e?.entity))) return mutation;

  // One read per distinct URL: many types may share a template.
  const reads = new Map<string, Promise<string>>();
  const read = (url: string) => {
    let text = reads.get(url);
    if (!text) {
      text = readText(reader!, url);
      reads.set(url, text);
    }
    return text;
  };

  const completed = await Promise.all(
    entries.map(async entry => {
      if (!isPlaceholder(entry?.entity)) return entry;
      const placeholder = entry.entity;
      const annotations: Json = placeholder.metadata.annotations;
      const url: string = annotations[TEMPLATE_URL_ANNOTATION];
      const what = `ComponentType ${annotations[CTD_NAME_ANNOTATION]} (${placeholder.metadata.namespace})`;
      if (!reader) {
        logger.warn(`${what} sets ${TEMPLATE_URL_ANNOTATION} but no UrlReader is configured; skipping its template`);
        return undefined;
      }
      try {
        const template = parseTemplate(await read(url), url);
        return { ...entry, entity: merge(template, placeholder) };
      } catch (error) {
        logger.warn(
          `Failed to fetch custom template for ${what} from ${redactUrl(url)}: ${redactText(errorMessage(error), url)}`,
        );
        return undefined;
      }
    }),
  );
  return { ...mutation, [field]: completed.filter(e => e !== undefined) };
}

async function readText(reader: UrlReaderService, url: string): Promise<string> {
  try {
    const response = await reader.readUrl(url);
    return (await response.buffer()).toString('utf-8');
  } catch (error) {
    throw new Error(`unable to read it: ${errorMessage(error)}`);
  }
}

/** The first YAML document that is an object of `kind: Template` (RemoteTemplateFetcher). */
function parseTemplate(raw: string, url: string): Json {
  const docs = parseAllDocuments(raw);
  // parseAllDocuments collects errors instead of throwing: a half-parsed document must
  // not pass for a missing Template.
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]}`);
  }
  const template = docs
    .map(doc => doc.toJSON())
    .find(doc => Boolean(doc) && typeof doc === 'object' && doc.kind === 'Template');
  if (!template) throw new Error(`no 'kind: Template' document in ${redactUrl(url)}`);
  if (!template.metadata || typeof template.metadata !== 'object') throw new Error('the Template has no metadata block');
  return template;
}

/** The authored template under the placeholder's identity and annotations (which win). */
function merge(template: Json, placeholder: Json): Json {
  const { [PENDING_ANNOTATION]: _pending, ...stamped } = placeholder.metadata.annotations;
  return {
    ...template,
    metadata: {
      ...template.metadata,
      name: placeholder.metadata.name,
      namespace: placeholder.metadata.namespace,
      annotations: { ...(template.metadata.annotations ?? {}), ...stamped },
    },
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
}

/** The URL without credentials: no user info, no query string (tokens live there). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const auth = u.username || u.password ? '***@' : '';
    const query = u.search ? '?***' : '';
    return `${u.protocol}//${auth}${u.host}${u.pathname}${query}`;
  } catch {
    return '<unparsable URL>';
  }
}

/** An error message with the template URL (and any URL's user info) redacted. */
function redactText(text: string, url: string): string {
  return text
    .split(url)
    .join(redactUrl(url))
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/'"]*@/gi, '$1***@')
    .replace(/([?&](?:token|access_token|password|sig|signature|key)=)[^&\s'"]*/gi, '$1***');
}
