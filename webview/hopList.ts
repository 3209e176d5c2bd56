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
    return {
      text: missing ? '✗ not seen (lost before here)' : '✗ not seen',
      className: 'pp-seen-no',
    };
  }
  if (hop.issues.length > 0) return { text: 'not read to the end', className: 'pp-error' };
  return { text: 'not correlated', className: 'pp-muted' };
}

/** A hop of a datapath shown before any capture: a place to capture, not an empty result. */
function isCapturePoint(hop: HopView): boolean {
  return (
    hop.seen === null && hop.packetCount === 0 && hop.rows.length === 0 && hop.issues.length === 0
  );
}

export function createHopList(onSelect: (hop: number) => void): HopListView {
  const element = el('div', {
    className: 'pp-hops',
    attrs: { role: 'tablist', 'aria-label': 'Hops' },
  });
  // Tabs: ←/→ (and Home/End) move between hops, and focus follows the selection.
  element.addEventListener('keydown', (e) => {
    const tabs = Array.from(element.querySelectorAll<HTMLButtonElement>('[role="tab"]'));
    const at = tabs.findIndex((t) => t.getAttribute('aria-selected') === 'true');
    let next = -1;
    if (e.key === 'ArrowRight') next = Math.min(tabs.length - 1, at + 1);
    else if (e.key === 'ArrowLeft') next = Math.max(0, at - 1);
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = tabs.length - 1;
    if (next < 0 || next === at) return;
    e.preventDefault();
    onSelect(next);
    element.querySelector<HTMLButtonElement>(`[data-hop="${next}"]`)?.focus();
  });
  return {
    element,
    show(hops, selected, missingHop) {
      clear(element);
      hops.forEach((hop, i) => {
        const missing = missingHop !== null && hop.name === missingHop;
        const seen = seenText(hop, missing);
        const point = isCapturePoint(hop);
        const packets = `${hop.packetCount.toLocaleString('en-US')} packet${hop.packetCount === 1 ? '' : 's'}`;
        const button = el(
          'button',
          {
            className: missing ? 'pp-hop pp-missing' : 'pp-hop',
            attrs: {
              role: 'tab',
              type: 'button',
              'aria-selected': i === selected ? 'true' : 'false',
              tabindex: i === selected ? '0' : '-1',
              'data-hop': String(i),
            },
          },
          [
            el('span', { className: 'pp-hop-name', text: hop.name }),
            point
              ? el('span', { className: 'pp-hop-point', text: 'capture point' })
              : el('span', {}, [
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
