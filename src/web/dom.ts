// The page's few elements, made by hand: a dozen element kinds redrawn from the flows' state, where a framework
// would double the bundle for nothing the page needs.

type Child = Node | string | null | undefined | false
type Props = Record<string, boolean | null | number | string | undefined | ((ev: Event) => void)>

/** An element with attributes (`on…` are listeners, booleans are present or absent) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Array<Child | Child[]>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue
    if (typeof v === 'function') el.addEventListener(k.slice(2), v)
    else if (v === true) el.setAttribute(k, '')
    else el.setAttribute(k, String(v))
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c)
  return el
}

/** Replace the children of `root`, keeping the focus on the element with the same id (keyboard users stay put). */
export function redraw(root: HTMLElement, children: Node[]): void {
  const focused = document.activeElement?.id
  root.replaceChildren(...children)
  if (focused) document.getElementById(focused)?.focus()
}
