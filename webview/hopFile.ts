/**
 * The selected hop's capture file, when the host kept one (a trace or a lab run): its
 * name, **Reveal** (the file in the OS file manager) and, when Wireshark is installed,
 * **Open in Wireshark**. Plain buttons, so Tab and Enter/Space reach them like anything
 * else; the host acts on its own copy of the path, by the hop's index.
 */
import type { HopView } from '../src/protocol';
import { clear, el } from './element';

export interface HopFileView {
  element: HTMLElement;
  show(hop: HopView | undefined, index: number): void;
}

export function createHopFile(
  onAction: (hop: number, action: 'reveal' | 'wireshark') => void,
): HopFileView {
  const element = el('div', {
    className: 'pp-hop-file',
    attrs: { role: 'group', 'aria-label': 'Capture file' },
  });
  element.hidden = true;
  return {
    element,
    show(hop, index) {
      clear(element);
      const capture = hop?.capture;
      element.hidden = !capture;
      if (!hop || !capture) return;
      const name = capture.path.split(/[\\/]/).pop() ?? capture.path;
      const button = (text: string, title: string, action: 'reveal' | 'wireshark') => {
        const b = el('button', {
          text,
          attrs: { type: 'button', title, 'aria-label': `${text}: ${hop.name}` },
        });
        b.addEventListener('click', () => onAction(index, action));
        return b;
      };
      element.appendChild(
        el('span', {
          className: 'pp-muted',
          text: `Capture ${name}`,
          attrs: { title: capture.path },
        }),
      );
      element.appendChild(button('Reveal', `Show ${capture.path} in the file manager`, 'reveal'));
      if (capture.wireshark) {
        element.appendChild(
          button('Open in Wireshark', `Open ${capture.path} in Wireshark`, 'wireshark'),
        );
      }
    },
  };
}
