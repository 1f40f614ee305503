// The catalog stand-in of the events latency script: it records when each mutation was
// handed over and what it carried for the entities being watched (the edited
// components), and keeps the set of refs the catalog would hold. No catalog processing.

/** Epoch milliseconds with sub-millisecond resolution (comparable across processes). */
export const nowMs = () => performance.timeOrigin + performance.now();

/** The sequence number an edit writes into a component's description. */
export const EDIT_MARK = /^latency edit #(\d+)$/;

const refOf = e => `${e.kind}:${e.metadata?.namespace ?? 'default'}/${e.metadata?.name}`.toLowerCase();

export class RecordingConnection {
  mutations = 0;
  added = 0;
  removed = 0;
  /** Refs the catalog holds (added and not removed since). */
  present = new Set();
  /** Watched ref -> every hand-over: [epoch ms, sequence number or null, mutation size]. */
  handovers = new Map();
  /** Watched refs that a mutation removed: ref -> epoch ms. */
  removals = new Map();

  watch(refs) {
    for (const r of refs) if (!this.handovers.has(r)) this.handovers.set(r, []);
  }

  async applyMutation(mutation) {
    const at = nowMs();
    this.mutations += 1;
    const added = mutation.type === 'full' ? mutation.entities : mutation.added;
    if (mutation.type === 'full') this.present.clear();
    for (const { entity } of added) {
      const ref = refOf(entity);
      this.present.add(ref);
      const seen = this.handovers.get(ref);
      if (seen) {
        const m = EDIT_MARK.exec(entity.metadata?.description ?? '');
        seen.push([at, m ? Number(m[1]) : null, added.length]);
      }
    }
    this.added += added.length;
    for (const { entityRef } of mutation.removed ?? []) {
      const ref = entityRef.toLowerCase();
      this.present.delete(ref);
      this.removed += 1;
      if (this.handovers.has(ref)) this.removals.set(ref, at);
    }
  }

  async refresh() {}
}
