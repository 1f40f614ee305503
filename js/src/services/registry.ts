// Where the catalog module hands its provider and annotation store to the service
// factories. `openchoreo.immediate-catalog` and `openchoreo.annotation-store` are
// plugin-scoped (the scaffolder and the OpenChoreo backend plugin get their own
// instances), but they act on what the catalog module owns: its provider's catalog
// connection and engine, and the catalog plugin's database. A root-scoped service is the
// one thing both sides share within one backend (a module-level singleton, as the legacy
// module uses, would be shared by every backend in the process).
import { coreServices, createServiceFactory, createServiceRef } from '@backstage/backend-plugin-api';
import type { OpenChoreoIncrementalEntityProvider } from '../provider';
import type { DatabaseAnnotationStore } from './annotationStore';

/** The package name, for messages that tell which line to add or remove. */
export const PACKAGE_NAME = '@openchoreo/plugin-catalog-backend-module-openchoreo-incremental';

/** A value that one side provides and the other awaits. */
class Slot<T> {
  readonly promise: Promise<T>;
  private resolveFn!: (value: T) => void;
  private rejectFn!: (error: Error) => void;
  private settled = false;

  constructor(private readonly what: string) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    // Nobody may be waiting when it is refused; a caller that awaits still gets it.
    this.promise.catch(() => undefined);
  }

  provide(value: T): void {
    if (this.settled) throw new Error(`${this.what} was already provided in this backend`);
    this.settled = true;
    this.resolveFn(value);
  }

  refuse(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectFn(error);
  }
}

/** What the catalog module provides to the OpenChoreo service factories of one backend. */
export class OpenChoreoServicesRegistry {
  readonly provider = new Slot<OpenChoreoIncrementalEntityProvider>('the OpenChoreo incremental provider');
  readonly annotationStore = new Slot<DatabaseAnnotationStore>('the OpenChoreo annotation store');

  /**
   * Called when the backend has started: whatever the catalog module did not provide by
   * then never comes (the module is not installed, or it failed).
   */
  backendStarted(): void {
    const missing = new Error(
      `the catalog module 'openchoreo-incremental' did not start in this backend: add ` +
        `backend.add(import('${PACKAGE_NAME}')) (it brings the module with the services), ` +
        `together with the catalog plugin`,
    );
    this.provider.refuse(missing);
    this.annotationStore.refuse(missing);
  }
}

export const openChoreoServicesRegistryRef = createServiceRef<OpenChoreoServicesRegistry>({
  id: 'openchoreo-incremental.services-registry',
  scope: 'root',
  defaultFactory: async service =>
    createServiceFactory({
      service,
      deps: { rootLifecycle: coreServices.rootLifecycle },
      factory({ rootLifecycle }) {
        const registry = new OpenChoreoServicesRegistry();
        rootLifecycle.addStartupHook(() => registry.backendStarted());
        return registry;
      },
    }),
});
