/**
 * A module imported (or anything built) on first need, once. A failed attempt is not kept: the
 * next use tries again, so a chunk that could not be read for a moment (too many open files, an
 * upgrade in place) does not break every later call until a restart.
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}
