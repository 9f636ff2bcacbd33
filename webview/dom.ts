// Building the dashboard's DOM without innerHTML: every piece of text from a run (file names, samples,
// probe text) goes in as a text node, so nothing in a training text can become markup.

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    // Through the CSSOM: the content security policy forbids style attributes in markup.
    else if (k === 'style') el.style.cssText = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}

let nextId = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix: string): string {
  return `${prefix}-${++nextId}`;
}

/** A labelled control: <label for=id>text</label> beside the control. */
export function labelled(text: string, control: HTMLElement): HTMLElement {
  if (!control.id) control.id = uid('ctl');
  return h('span', { class: 'field' }, h('label', { for: control.id }, text), control);
}

export function select<T extends string>(options: ReadonlyArray<[T, string]>, value: T, onChange: (v: T) => void): HTMLSelectElement {
  const s = h('select');
  for (const [v, label] of options) s.append(h('option', { value: v, selected: v === value }, label));
  s.value = value;
  s.addEventListener('change', () => onChange(s.value as T));
  return s;
}

export function checkbox(text: string, checked: boolean, onChange: (v: boolean) => void): HTMLElement {
  const c = h('input', { type: 'checkbox', id: uid('chk') });
  c.checked = checked;
  c.addEventListener('change', () => onChange(c.checked));
  return h('span', { class: 'field' }, c, h('label', { for: c.id }, text));
}
