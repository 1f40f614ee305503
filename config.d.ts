export interface Config {
  /** OpenChoreo connection and incremental ingestion settings. */
  openchoreo?: {
    /**
     * OpenChoreo API root, e.g. http://localhost:8080 (a trailing /api/v1 is accepted).
     */
    baseUrl: string;
    /**
     * Static bearer token sent to the OpenChoreo API.
     * @visibility secret
     */
    token?: string;
    /**
     * OAuth2 client credentials for OpenChoreo (the legacy module's keys): clientId,
     * clientSecret and tokenUrl together. Exclusive with token.
     */
    auth?: {
      clientId?: string;
      /** @visibility secret */
      clientSecret?: string;
      /** The identity provider's token endpoint. */
      tokenUrl?: string;
      /** Space-separated scopes sent with the grant. */
      scope?: string;
    };
    features?: {
      auth?: {
        /**
         * false: openchoreo.auth is not used (as the legacy module). Default true.
         * @visibility frontend
         */
        enabled?: boolean;
      };
    };
    /**
     * Owner of entities whose OpenChoreo resource has no backstage.io/owner annotation:
     * a group name (becomes group:default/<name>) or a full entity ref.
     * Default: openchoreo-users.
     */
    defaultOwner?: string;
    /** OpenChoreo change events (topic `openchoreo` and its `openchoreo.<kind>` sub-topics). */
    events?: {
      /** Apply change events within seconds instead of on the next cycle. Default true. */
      enabled?: boolean;
      /** Resources the engine fetches at once while applying events (1..64). Default 16. */
      workers?: number;
    };
    /** Incremental ingestion (this module). */
    incremental?: {
      /** Seconds one burst keeps fetching pages. Default 10. */
      burstLength?: number;
      /** Seconds between bursts while a cycle is in progress. Default 30. */
      burstInterval?: number;
      /** Minutes of rest after a completed cycle. Default 30. */
      restLength?: number;
      /** Items per OpenChoreo request (1..100; larger values are clamped to 100). Default 50. */
      chunkSize?: number;
      /** Seconds to wait after the 1st, 2nd, ... consecutive failure; the last repeats. Default [60, 300, 1800, 10800]. */
      backoff?: number[];
      /** Refuse a cycle's removals when they exceed this percentage (0..100) of the owned entities. */
      rejectRemovalsAbovePercentage?: number;
      /** Refuse a cycle's removals when the cycle saw no entity at all. Default true. */
      rejectEmptySourceCollections?: boolean;
      /**
       * Domains take their namespace's `backstage.io/owner` annotation. Default false: the
       * default owner, as the legacy module always does.
       */
      domainOwnerFromAnnotation?: boolean;
      /**
       * Check, after each completed cycle, that the catalog's filtered listing holds every
       * entity the provider owns, and hand missing ones over again (see the README's
       * troubleshooting section). Default true.
       */
      consistencyCheck?: boolean;
      /** Seconds after a completed cycle before that check runs (the catalog processes meanwhile). Default 300. */
      consistencyCheckDelay?: number;
      /** Seconds before one OpenChoreo request times out. Default 30. */
      requestTimeout?: number;
      /**
       * Seconds the burst lease lives past its last renewal. Default 10. A running burst
       * renews it every third of this (a heartbeat); when its process dies (a crash, a
       * SIGKILL, a lost node) another replica, or the restarted process, goes on within
       * burstInterval + leaseTtl. Lower it for faster recovery; raise it when the state
       * database is often slow to answer for several seconds.
       */
      leaseTtl?: number;
      /**
       * Provider name: the ownership key of the entities in the catalog.
       * Default OpenChoreoEntityProvider (the legacy provider's name, for a clean switch).
       */
      providerName?: string;
      /** The engine's state database. Default: derived from backend.database. */
      database?: {
        /**
         * sqlite:///path/to/file.sqlite, sqlite::memory:, postgres://user:password@host:port/db or
         * mysql://user:password@host:port/db (MySQL, MariaDB)
         * @visibility secret
         */
        url?: string;
      };
    };
  };
}
