/**
 * The hops of a view as a row of selectable tabs: name, packet count, whether
 * the probe was seen there (✓ / ✗), and the one-line summary. The first hop
 * where the probe went missing is outlined in the error colour.
 */
import type { HopView } from '../src/protocol';
import { clear, el } from './element';

export interface HopListView {
  element: HTMLElement;
  show(hops: readonly HopView[], selected: number, missingHop: string | null): void;
}

function seenText(hop: HopView, missing: boolean): { text: string; className: string } {
  if (hop.seen === true) return { text: '✓ seen', className: 'pp-seen-yes' };
  if (hop.seen === false) {
    return { text: missing ? '✗ not seen (first missing)' : '✗ not seen', className: 'pp-seen-no' };
  }
  return { text: 'not correlated', className: 'pp-muted' };
}

export function createHopList(onSelect: (hop: number) => void): HopListView {
  const element = el('div', {
    className: 'pp-hops',
    attrs: { role: 'tablist', 'aria-label': 'Hops' },
  });
  return {
    element,
    show(hops, selected, missingHop) {
      clear(element);
      hops.forEach((hop, i) => {
        const missing = missingHop !== null && hop.name === missingHop;
        const seen = seenText(hop, missing);
        const packets = `${hop.packetCount.toLocaleString('en-US')} packet${hop.packetCount === 1 ? '' : 's'}`;
        const button = el(
          'button',
          {
            className: missing ? 'pp-hop pp-missing' : 'pp-hop',
            attrs: {
              role: 'tab',
              type: 'button',
              'aria-selected': i === selected ? 'true' : 'false',
              'data-hop': String(i),
            },
          },
          [
            el('span', { className: 'pp-hop-name', text: hop.name }),
            el('span', {}, [
              el('span', { text: `${packets} · ` }),
              el('span', { className: seen.className, text: seen.text }),
            ]),
            hop.summary ? el('span', { className: 'pp-hop-summary', text: hop.summary }) : null,
          ],
        );
        button.addEventListener('click', () => onSelect(i));
        element.appendChild(button);
      });
    },
  };
}
