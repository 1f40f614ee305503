// One catalog processor that carries out `KIND_RULES`: it makes the catalog accept the
// OpenChoreo kinds, fills the one spec default the legacy module filled, rejects what the
// legacy processors rejected, and emits every relation pair they emitted.
import { parseEntityRef, type Entity } from '@backstage/catalog-model';
import type { LocationSpec } from '@backstage/plugin-catalog-common';
import * as catalogNode from '@backstage/plugin-catalog-node';
import type { CatalogProcessor, CatalogProcessorEmit } from '@backstage/plugin-catalog-node';
import { KIND_RULES, type Field, type KindRule, type Place, type RelationRule, type Requirement } from './kinds';
import { CLUSTER_NAMESPACE } from './names';

// CommonJS interop: take the helper from the namespace object (as module.ts does).
const { processingResult } = catalogNode;

interface Ref {
  kind: string;
  namespace: string;
  name: string;
}

type Spec = Record<string, unknown>;

/** `deployment/service` -> `service`; other values unchanged. */
const WORKLOAD_PREFIX = /^(?:deployment|statefulset|cronjob|job)\/(.+)$/;

function specOf(entity: Entity): Spec | undefined {
  const spec = entity.spec as unknown;
  return spec && typeof spec === 'object' ? (spec as Spec) : undefined;
}

function read(entity: Entity, field: Field): unknown {
  if ('spec' in field) return specOf(entity)?.[field.spec];
  const value = entity.metadata.annotations?.[field.annotation];
  return field.trim ? value?.trim() : value;
}

/** A name and the kind its list entry names, if any. */
interface Named {
  name: unknown;
  kind?: string;
}

/** Distinct environment names of `spec.promotionPaths`, first seen first. */
function promotionEnvironments(spec: Spec | undefined): Named[] {
  const paths = spec?.promotionPaths;
  if (!paths) return [];
  if (!Array.isArray(paths)) throw new Error('spec.promotionPaths must be a list');
  const seen = new Set<unknown>();
  const out: Named[] = [];
  const add = (name: unknown) => {
    if (name && !seen.has(name)) {
      seen.add(name);
      out.push({ name });
    }
  };
  for (const path of paths as Array<{ sourceEnvironment?: unknown; targetEnvironments?: Array<{ name?: unknown }> }>) {
    add(path?.sourceEnvironment);
    for (const target of path?.targetEnvironments ?? []) add(target?.name);
  }
  return out;
}

/** `spec.allowedWorkflows` entries: `name` or `{kind, name}`. */
function allowedWorkflows(spec: Spec | undefined): Named[] {
  const list = spec?.allowedWorkflows;
  if (!list) return [];
  if (!Array.isArray(list)) throw new Error('spec.allowedWorkflows must be a list');
  return list.flatMap((entry: unknown): Named[] => {
    if (typeof entry === 'string') return [{ name: entry }];
    if (entry && typeof entry === 'object') {
      const { name, kind } = entry as { name?: unknown; kind?: unknown };
      return [{ name, kind: typeof kind === 'string' && kind ? kind : undefined }];
    }
    return [];
  });
}

function namesOf(entity: Entity, rule: RelationRule): Named[] {
  const { names } = rule;
  if ('each' in names) {
    const list = names.each === 'promotionEnvironments' ? promotionEnvironments(specOf(entity)) : allowedWorkflows(specOf(entity));
    return list.filter(n => n.name);
  }
  let name = read(entity, names);
  if (!name) return [];
  if (rule.stripWorkloadPrefix && typeof name === 'string') name = WORKLOAD_PREFIX.exec(name)?.[1] ?? name;
  return [{ name }];
}

function namespaceOf(where: Place['namespace'], ownNamespace: string): string {
  return where === 'cluster' ? CLUSTER_NAMESPACE : ownNamespace;
}

/** The target of one name, or undefined when the rule drops it. */
function targetOf(entity: Entity, rule: RelationRule, named: Named, ownNamespace: string): Ref | undefined {
  const { target } = rule;
  if ('ref' in target) {
    try {
      const ref = parseEntityRef(named.name as string, {
        defaultKind: target.ref.kind,
        defaultNamespace: namespaceOf(target.ref.namespace, ownNamespace),
      });
      return { kind: ref.kind, namespace: ref.namespace, name: ref.name };
    } catch (e) {
      if (target.malformed === 'skip') return undefined;
      throw e;
    }
  }
  const name = named.name as string;
  const at = (place: Place): Ref => ({ kind: place.kind, namespace: namespaceOf(place.namespace, ownNamespace), name });
  if (!target.kindFrom) return at(target.place);
  const kindName = (target.kindFrom === 'entry' ? named.kind : (read(entity, target.kindFrom) as string | undefined)) || target.kindDefault;
  if (kindName === undefined) return at(target.place);
  const key = target.fold === 'lower' ? kindName.toLowerCase() : kindName;
  const place = target.kinds?.[key];
  if (place) return at(place);
  switch (target.otherKinds ?? 'default') {
    case 'skip':
      return undefined;
    case 'as-named':
      return at({ kind: key, namespace: target.place.namespace });
    default:
      return at(target.place);
  }
}

function missing(rule: KindRule, spec: Spec | undefined, req: Requirement): string | undefined {
  if (req.when && spec?.[req.when.field] !== req.when.equals) return undefined;
  if (spec?.[req.field]) return undefined;
  return req.when
    ? `${rule.kind} entity with ${req.when.field} "${req.when.equals}" must have spec.${req.field}`
    : `${rule.kind} entity must have spec.${req.field}`;
}

/** Rejects what the legacy processors rejected (their messages, word for word). */
export function validate(rule: KindRule, entity: Entity): void {
  const spec = specOf(entity);
  for (const req of rule.requires ?? []) {
    const message = missing(rule, spec, req);
    if (message) throw new Error(message);
  }
  if (rule.specRequired && !spec) throw new Error(`${rule.kind} entity must have spec`);
}

/** Every relation pair the rule's kind derives from `entity`, forward then inverse. */
export function relationsOf(rule: KindRule, entity: Entity): Array<{ source: Ref; target: Ref; type: string }> {
  const fallback = rule.clusterScoped ? CLUSTER_NAMESPACE : 'default';
  const ownNamespace = entity.metadata.namespace || fallback;
  const source: Ref = {
    kind: entity.kind.toLowerCase(),
    namespace: rule.sourceInCluster ? CLUSTER_NAMESPACE : ownNamespace,
    name: entity.metadata.name,
  };
  // Targets in "the entity's own namespace" use `default` when it has none, even for a
  // cluster-scoped kind (as the legacy processors did).
  const targetNamespace = entity.metadata.namespace || 'default';
  const out: Array<{ source: Ref; target: Ref; type: string }> = [];
  for (const relation of rule.relations) {
    for (const named of namesOf(entity, relation)) {
      const target = targetOf(entity, relation, named, targetNamespace);
      if (!target) continue;
      out.push({ source, target, type: relation.relation[0] });
      out.push({ source: target, target: source, type: relation.relation[1] });
    }
  }
  return out;
}

/**
 * The processor: `rules` defaults to `KIND_RULES`. A kind appears once in the table.
 */
export class OpenChoreoEntityProcessor implements CatalogProcessor {
  private readonly byKind: ReadonlyMap<string, KindRule>;

  constructor(rules: readonly KindRule[] = KIND_RULES) {
    this.byKind = new Map(rules.map(r => [r.kind, r]));
  }

  getProcessorName(): string {
    return 'OpenChoreoEntityProcessor';
  }

  async validateEntityKind(entity: Entity): Promise<boolean> {
    return this.byKind.get(entity.kind)?.recognise === true;
  }

  async preProcessEntity(entity: Entity, _location: LocationSpec, _emit: CatalogProcessorEmit): Promise<Entity> {
    const rule = this.byKind.get(entity.kind);
    const spec = specOf(entity);
    if (!rule?.defaults || !spec) return entity;
    const filled = { ...spec };
    for (const d of rule.defaults) {
      if (filled[d.field] === undefined) filled[d.field] = filled[d.from] === d.equals;
    }
    return { ...entity, spec: filled as Entity['spec'] };
  }

  async postProcessEntity(entity: Entity, _location: LocationSpec, emit: CatalogProcessorEmit): Promise<Entity> {
    const rule = this.byKind.get(entity.kind);
    if (!rule) return entity;
    validate(rule, entity);
    for (const relation of relationsOf(rule, entity)) emit(processingResult.relation(relation));
    return entity;
  }
}
