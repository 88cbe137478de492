/** Small DOM helpers: elements from attributes and children, text written only when it changed. */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Attribute values; null, undefined and false leave the attribute out, true sets it empty. */
export type Attributes = Readonly<Record<string, string | number | boolean | null | undefined>>;
export type Child = Node | string | null | undefined;

/** The page's element `#id` (index.html has it: a missing one is a bug). */
export function byId(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`the page has no #${id}`);
  return node;
}

/** An HTML element; `class` and `text` are the class and text content. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  return fill(document.createElement(tag), attributes, children);
}

/** An SVG element, like `h`. */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  return fill(document.createElementNS(SVG_NS, tag), attributes, children);
}

function fill<T extends Element>(node: T, attributes: Attributes, children: readonly Child[]): T {
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** Writes text only when it changed (no layout work for unchanged cells). */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** Sets `node.dataset[key]` only when it changed. */
export function setData(node: HTMLElement | SVGElement, key: string, value: string): void {
  if (node.dataset[key] !== value) node.dataset[key] = value;
}
