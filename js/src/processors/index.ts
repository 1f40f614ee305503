// The catalog processors for the kinds the OpenChoreo provider emits; the module registers
// them with `catalog.addProcessor(...openChoreoProcessors())`.
import type { CatalogProcessor } from '@backstage/plugin-catalog-node';
import { OpenChoreoEntityProcessor } from './processor';

/** The processors a backend needs for the OpenChoreo kinds and relations. */
export function openChoreoProcessors(): CatalogProcessor[] {
  return [new OpenChoreoEntityProcessor()];
}

export { OpenChoreoEntityProcessor, relationsOf, validate } from './processor';
export {
  KIND_RULES,
  OPENCHOREO_KINDS,
  type KindRule,
  type RelationRule,
  type Target,
  type Place,
  type Field,
  type Names,
  type Requirement,
} from './kinds';
export { RELATION, ANNOTATION, CLUSTER_NAMESPACE } from './names';
