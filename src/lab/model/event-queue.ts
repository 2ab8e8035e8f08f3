/**
 * The model's agenda: actions due at workload times, taken in time order and, at equal times, in the
 * order they were scheduled. That tie rule (a sequence number, never an object's identity or a hash
 * order) is what makes a model run repeat itself exactly.
 */
interface Entry {
  at: number;
  seq: number;
  run: () => void;
}

export interface EventQueue {
  schedule(at: number, run: () => void): void;
  /** Runs every action due at or before `until`, in order (actions may schedule more). */
  runUntil(until: number, setNow: (t: number) => void): void;
  readonly size: number;
}

const before = (a: Entry, b: Entry) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** A binary heap. @example const q = createEventQueue(); q.schedule(500, () => done()); q.runUntil(1000, setNow); */
export function createEventQueue(): EventQueue {
  const heap: Entry[] = [];
  let seq = 0;
  const swap = (i: number, j: number) => {
    const t = heap[i] as Entry;
    heap[i] = heap[j] as Entry;
    heap[j] = t;
  };
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(heap[i] as Entry, heap[p] as Entry)) return;
      swap(i, p);
      i = p;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l] as Entry, heap[m] as Entry)) m = l;
      if (r < heap.length && before(heap[r] as Entry, heap[m] as Entry)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  const pop = (): Entry => {
    const top = heap[0] as Entry;
    const last = heap.pop() as Entry;
    if (heap.length) {
      heap[0] = last;
      down(0);
    }
    return top;
  };
  return {
    schedule(at, run) {
      heap.push({ at, seq: seq++, run });
      up(heap.length - 1);
    },
    runUntil(until, setNow) {
      while (heap.length && (heap[0] as Entry).at <= until) {
        const e = pop();
        setNow(e.at);
        e.run();
      }
    },
    get size() {
      return heap.length;
    },
  };
}
