import { useSyncExternalStore } from 'react';

/** How file collections are shown (gallery, hashtag pages): a grid of thumbnails or a list. Remembered per browser. */
export type ViewMode = 'grid' | 'list';

const KEY = 'tagdrop.view';
const listeners = new Set<() => void>();

function read(): ViewMode {
  try {
    return localStorage.getItem(KEY) === 'list' ? 'list' : 'grid';
  } catch {
    return 'grid';
  }
}

export function setViewMode(mode: ViewMode) {
  try {
    localStorage.setItem(KEY, mode);
  } catch {
    // Storage blocked: the choice lasts for this page only.
  }
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  const onStorage = (e: StorageEvent) => e.key === KEY && listener();
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
}

export const useViewMode = () => useSyncExternalStore(subscribe, read, () => 'grid' as const);
