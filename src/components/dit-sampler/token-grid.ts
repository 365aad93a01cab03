/** The DiT sampler's query-token picker: a grid x grid radio group moved by arrow keys, Home and End. */

/**
 * The token a key moves to from `token` on a `grid` x `grid` grid (reading order), or null for a key
 * the picker does not use. Arrows wrap within the row or the column, as a radio group's do.
 */
export function tokenAfterKey(key: string, token: number, grid: number): number | null {
  const row = Math.floor(token / grid);
  const col = token % grid;
  switch (key) {
    case 'ArrowLeft':
      return row * grid + ((col - 1 + grid) % grid);
    case 'ArrowRight':
      return row * grid + ((col + 1) % grid);
    case 'ArrowUp':
      return ((row - 1 + grid) % grid) * grid + col;
    case 'ArrowDown':
      return ((row + 1) % grid) * grid + col;
    case 'Home':
      return 0;
    case 'End':
      return grid * grid - 1;
    default:
      return null;
  }
}
