/**
 * Keeps every region that scrolls sideways reachable by keyboard (WCAG 2.1.1): display maths, wide
 * tables, diagrams and code get `tabindex="0"` while their content overflows and lose it once it
 * fits, so a desktop reader does not tab through dozens of equations that need no scrolling.
 */
const SCROLLERS = '.katex-display, .table-scroll, .svg-scroll, pre';
/** Marks a tabindex set here, so one written by the markup (Shiki's on <pre>) is never removed. */
const OWNED = 'scrollFocus';

function sync(region: HTMLElement) {
  const overflows = region.scrollWidth > region.clientWidth + 1 || region.scrollHeight > region.clientHeight + 1;
  if (overflows && !region.hasAttribute('tabindex')) {
    region.tabIndex = 0;
    region.dataset[OWNED] = '';
  } else if (!overflows && OWNED in region.dataset) {
    region.removeAttribute('tabindex');
    delete region.dataset[OWNED];
  }
}

/** Watches the scroll regions under `root`: their own size and their content's (figures redraw tables). */
export function keepScrollRegionsFocusable(root: ParentNode = document) {
  const regionOf = new Map<Element, HTMLElement>();
  const resized = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const region = regionOf.get(entry.target);
      if (region) sync(region);
    }
  });
  const watchChildren = (region: HTMLElement) => {
    for (const child of region.children) {
      if (!regionOf.has(child)) {
        regionOf.set(child, region);
        resized.observe(child);
      }
    }
  };
  const replaced = new MutationObserver((records) => {
    for (const record of records) {
      const region = record.target as HTMLElement;
      for (const gone of record.removedNodes) {
        if (regionOf.delete(gone as Element)) resized.unobserve(gone as Element);
      }
      watchChildren(region);
      sync(region);
    }
  });
  for (const region of root.querySelectorAll<HTMLElement>(SCROLLERS)) {
    regionOf.set(region, region);
    resized.observe(region);
    watchChildren(region);
    replaced.observe(region, { childList: true });
  }
}
