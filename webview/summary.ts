/**
 * The text part of the panel: findings in plain sentences, notes, and the
 * "Show log" link that asks the host to open the Podpath output channel.
 */
import type { PanelView } from '../src/protocol';
import { clear, el } from './element';

function list(items: readonly string[], empty: string): HTMLElement {
  if (items.length === 0) return el('p', { className: 'pp-empty', text: empty });
  return el(
    'ul',
    { className: 'pp-list' },
    items.map((item) => el('li', {}, withCode(item))),
  );
}

/** Text with `inline code` as <code> elements (text nodes only: nothing is parsed as HTML). */
export function withCode(text: string): Node[] {
  return text
    .split(/(`[^`]+`)/)
    .map((part) =>
      part.length > 2 && part.startsWith('`') && part.endsWith('`')
        ? el('code', { text: part.slice(1, -1) })
        : document.createTextNode(part),
    );
}

export interface SummaryView {
  element: HTMLElement;
  show(view: PanelView): void;
}

export function createSummaryView(onShowLog: () => void): SummaryView {
  const element = el('section', { attrs: { 'aria-label': 'Findings' } });
  const link = el('a', {
    className: 'pp-link',
    text: 'Show log',
    attrs: { role: 'button', tabindex: '0', title: 'Open the Podpath output channel' },
  });
  link.addEventListener('click', onShowLog);
  link.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onShowLog();
    }
  });
  return {
    element,
    show(view) {
      clear(element);
      element.appendChild(el('h2', { text: 'Findings' }));
      element.appendChild(list(view.findings, 'No findings'));
      if (view.notes.length > 0) {
        element.appendChild(el('h2', { text: 'Notes' }));
        element.appendChild(list(view.notes, ''));
      }
      element.appendChild(el('p', {}, [link]));
    },
  };
}
