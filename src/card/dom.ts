/**
 * Building the card's DOM. Every text goes in through textContent: merchant names, plan names and
 * invoice descriptions are untrusted, so nothing here ever parses a string as HTML.
 */

type Attributes = Record<string, string | boolean | undefined>;
type Child = Node | string | null | undefined | false;

/** `el('p', { class: 'muted' }, 'text', child)`; an attribute set to false/undefined is left out. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** A label–value row that wraps under its label on a narrow card. */
export function row(label: Child, value: Child, attributes: Attributes = {}): HTMLElement {
  return el('div', { ...attributes, class: `row${attributes.class ? ` ${attributes.class}` : ''}` }, el('span', { class: 'label' }, label), el('span', { class: 'value' }, value));
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return el('section', {}, el('h2', {}, title), ...children);
}
