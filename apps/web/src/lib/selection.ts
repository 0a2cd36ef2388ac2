import { useCallback, useMemo, useRef, useState } from 'react';

export interface Selection {
  /** Selected ids, in the order of the list. */
  ids: string[];
  has(id: string): boolean;
  /** A click on one item's checkbox; with Shift, everything between it and the last clicked one follows it. */
  toggle(id: string, range: boolean): void;
  /** Select every listed item, or none. */
  setAll(on: boolean): void;
  clear(): void;
  allSelected: boolean;
  someSelected: boolean;
}

/**
 * Multi-select over a list of ids (the files loaded on the page). Ids that leave the list (deleted, filtered
 * out) leave the selection too.
 */
export function useSelection(listed: string[]): Selection {
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const anchor = useRef<string | null>(null);
  const ids = useMemo(() => listed.filter((id) => picked.has(id)), [listed, picked]);

  const toggle = useCallback(
    (id: string, range: boolean) => {
      setPicked((prev) => {
        const next = new Set(prev);
        const on = !prev.has(id);
        const from = anchor.current ? listed.indexOf(anchor.current) : -1;
        const to = listed.indexOf(id);
        if (range && from >= 0 && to >= 0) {
          const [a, b] = from < to ? [from, to] : [to, from];
          for (const other of listed.slice(a, b + 1)) {
            if (on) next.add(other);
            else next.delete(other);
          }
        } else if (on) next.add(id);
        else next.delete(id);
        return next;
      });
      anchor.current = id;
    },
    [listed],
  );
  const setAll = useCallback((on: boolean) => setPicked(on ? new Set(listed) : new Set()), [listed]);
  const clear = useCallback(() => setPicked(new Set()), []);

  return {
    ids,
    has: (id) => picked.has(id),
    toggle,
    setAll,
    clear,
    allSelected: listed.length > 0 && ids.length === listed.length,
    someSelected: ids.length > 0 && ids.length < listed.length,
  };
}
