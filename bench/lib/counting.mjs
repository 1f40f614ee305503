// The catalog stand-in every contender hands its mutations to: it counts entities added
// and removed and does no catalog processing. With `keep`, it also keeps the entities
// (the equivalence check at a small size).

export class CountingConnection {
  added = 0;
  removed = 0;
  mutations = 0;
  fullMutations = 0;

  constructor({ keep = false } = {}) {
    this.kept = keep ? [] : undefined;
  }

  async applyMutation(mutation) {
    this.mutations += 1;
    if (mutation.type === 'full') {
      this.fullMutations += 1;
      this.added += mutation.entities.length;
      if (this.kept) for (const d of mutation.entities) this.kept.push(d.entity);
    } else {
      this.added += mutation.added.length;
      this.removed += mutation.removed.length;
      if (this.kept) for (const d of mutation.added) this.kept.push(d.entity);
    }
  }

  async refresh() {}
}
