/**
 * The selected packet's layers, outermost first (Ethernet, outer IPv4, UDP,
 * VXLAN, inner Ethernet, inner IPv4, ICMP…), each with its fields.
 */
import type { LayerDetail } from '../src/core/packets/packetSummary';
import { clear, el } from './element';

export interface LayerDetailsView {
  element: HTMLElement;
  showNothing(): void;
  showLoading(title: string): void;
  show(title: string, layers: readonly LayerDetail[] | null, error: string | null): void;
}

export function createLayerDetails(): LayerDetailsView {
  const element = el('section', {
    className: 'pp-details',
    attrs: { 'aria-label': 'Packet layers', 'aria-live': 'polite' },
  });
  const heading = (title: string): HTMLElement => el('h2', { text: title });
  return {
    element,
    showNothing() {
      clear(element);
      element.appendChild(
        el('p', { className: 'pp-empty', text: 'Select a packet to see its layers.' }),
      );
    },
    showLoading(title) {
      clear(element);
      element.appendChild(heading(title));
      element.appendChild(el('p', { className: 'pp-muted', text: 'Loading layers…' }));
    },
    show(title, layers, error) {
      clear(element);
      element.appendChild(heading(title));
      if (error !== null || layers === null) {
        element.appendChild(
          el('p', { className: 'pp-error', text: error ?? 'The layers are not available.' }),
        );
        return;
      }
      if (layers.length === 0) {
        element.appendChild(el('p', { className: 'pp-empty', text: 'No layers decoded' }));
        return;
      }
      // The details sit below a long table: bring them into view once they are there.
      requestAnimationFrame(() => element.scrollIntoView({ block: 'nearest' }));
      layers.forEach((layer, i) => {
        const fields = el(
          'div',
          { className: 'pp-fields' },
          layer.fields.flatMap((f) => [
            el('span', { className: 'pp-field-name', text: f.name }),
            el('span', { className: 'pp-field-value', text: f.value }),
          ]),
        );
        element.appendChild(
          el('div', { className: 'pp-layer' }, [
            el('div', { className: 'pp-layer-title', text: `${i + 1}. ${layer.title}` }),
            fields,
          ]),
        );
      });
    },
  };
}
