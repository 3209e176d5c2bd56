/**
 * Draws the panel's Mermaid sequence diagram. Mermaid runs with
 * `securityLevel: 'strict'` (labels sanitised, no click handlers), SVG text labels, and
 * settings a diagram's init directive cannot override; its SVG is the only markup the
 * panel injects, and even that is parsed in an inert <template> and cut down to an
 * allowlist of drawing elements, without handlers, outside links or CSS that loads
 * anything, before it is shown (test/unit/webviewHostile.test.ts).
 * The theme follows VS Code's body class and the diagram is redrawn when it
 * changes. After each drawing the host is told what a person sees (`rendered`).
 */
import mermaid from 'mermaid';
import type { FromWebview } from '../src/protocol';
import { clear, el } from './element';

export type RenderedMessage = Extract<FromWebview, { type: 'rendered' }>;

export interface DiagramView {
  /** Fit / zoom / full-size controls, placed by the caller above the diagram. */
  toolbar: HTMLElement;
  /** Draws `text` (or the empty state for null); `missingHop` is highlighted. */
  show(text: string | null, missingHop: string | null): void;
}

type ThemeName = 'default' | 'dark' | 'base';

const HEX = /^#[0-9a-f]{3,8}$/i;

function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  // Mermaid derives shades from these, which only works on hex colours.
  return HEX.test(value) ? value : fallback;
}

function currentTheme(): { theme: ThemeName; themeVariables?: Record<string, string> } {
  const classes = document.body.classList;
  const highContrastLight = classes.contains('vscode-high-contrast-light');
  if (highContrastLight || classes.contains('vscode-high-contrast')) {
    const bg = cssColor('--vscode-editor-background', highContrastLight ? '#ffffff' : '#000000');
    const fg = cssColor('--vscode-foreground', highContrastLight ? '#000000' : '#ffffff');
    const border = cssColor('--vscode-contrastBorder', highContrastLight ? '#0f4a85' : '#6fc3df');
    return {
      theme: 'base',
      themeVariables: {
        background: bg,
        primaryColor: bg,
        primaryTextColor: fg,
        primaryBorderColor: border,
        secondaryColor: bg,
        tertiaryColor: bg,
        lineColor: fg,
        textColor: fg,
        actorBkg: bg,
        actorBorder: border,
        actorTextColor: fg,
        actorLineColor: fg,
        signalColor: fg,
        signalTextColor: fg,
        noteBkgColor: bg,
        noteTextColor: fg,
        noteBorderColor: border,
        labelBoxBkgColor: bg,
        labelBoxBorderColor: border,
        labelTextColor: fg,
        loopTextColor: fg,
      },
    };
  }
  return { theme: classes.contains('vscode-dark') ? 'dark' : 'default' };
}

function configureMermaid(): void {
  const family = getComputedStyle(document.body).getPropertyValue('--vscode-font-family').trim();
  mermaid.initialize({
    startOnLoad: false,
    securityLevel: 'strict',
    suppressErrorRendering: true,
    // SVG text labels, never HTML in a foreignObject (the kind topology flowchart included).
    htmlLabels: false,
    flowchart: { htmlLabels: false },
    // What a `%%{init}%%` directive in a diagram may not change: mermaid's own list, plus the
    // labels, the theme (it follows VS Code) and themeCSS (CSS from the diagram's text).
    secure: [
      'secure',
      'securityLevel',
      'startOnLoad',
      'maxTextSize',
      'suppressErrorRendering',
      'maxEdges',
      'htmlLabels',
      'flowchart',
      'sequence',
      'theme',
      'themeVariables',
      'themeCSS',
      'fontFamily',
      'darkMode',
    ],
    ...currentTheme(),
    ...(family ? { fontFamily: family } : {}),
    // Fit the panel's width (CSS keeps a minimum and scrolls below it).
    sequence: { useMaxWidth: true, wrap: false },
  });
}

/**
 * The SVG elements our diagrams are drawn with (sequence diagrams and the kind topology
 * flowchart, with text labels). Anything else in mermaid's output (HTML, images, links,
 * animations, scripts) is dropped with its content.
 */
const SVG_ELEMENTS = new Set(
  (
    'svg g defs style symbol marker use title desc path line rect circle ellipse polygon ' +
    'polyline text tspan clipPath linearGradient radialGradient stop filter feDropShadow ' +
    'feGaussianBlur feOffset feFlood feComposite feMerge feMergeNode feBlend'
  )
    .toLowerCase()
    .split(' '),
);

/**
 * Drops CSS that could fetch something: @import, and url() / image-set() to anything but a
 * fragment of this SVG. Backslashes go first, as `\75 rl(` is url( to a CSS parser.
 */
function inertCss(css: string): string {
  return css
    .replace(/\\/g, '')
    .replace(/@import[^;]*;?/gi, '')
    .replace(
      /(?:url|image-set|-webkit-image-set|image|cross-fade)\(\s*(?!['"]?#)[^)]*\)/gi,
      'none',
    );
}

/**
 * Parses mermaid's SVG without running anything and keeps only what draws: the elements
 * above, no event handlers, no links but those to fragments inside the SVG, no CSS that
 * loads anything.
 */
function inertSvg(svg: string): DocumentFragment {
  const template = document.createElement('template');
  template.innerHTML = svg;
  const fragment = template.content;
  for (const node of Array.from(fragment.querySelectorAll('*'))) {
    // Inside an element already dropped.
    if (!fragment.contains(node)) continue;
    if (!SVG_ELEMENTS.has(node.localName.toLowerCase())) {
      node.remove();
      continue;
    }
    for (const attr of Array.from(node.attributes)) {
      const name = attr.name.toLowerCase();
      const isHandler = name.startsWith('on');
      const isLink = (name === 'href' || name.endsWith(':href')) && !attr.value.startsWith('#');
      if (isHandler || isLink) node.removeAttribute(attr.name);
      else if (name === 'style') node.setAttribute('style', inertCss(attr.value));
    }
    if (node.localName === 'style') node.textContent = inertCss(node.textContent ?? '');
  }
  return fragment;
}

/** The participant boxes' texts, left to right, once each (mermaid draws them top and bottom). */
function participantTexts(svg: Element): string[] {
  const byText = new Map<string, number>();
  for (const text of Array.from(svg.querySelectorAll('text.actor, text.actor-box'))) {
    const value = (text.textContent ?? '').replace(/\s+/g, ' ').trim();
    const x = Number(text.getAttribute('x'));
    if (value && !byText.has(value)) byText.set(value, Number.isFinite(x) ? x : 0);
  }
  return [...byText].sort((a, b) => a[1] - b[1]).map(([value]) => value);
}

/** Colours the lost-message arrows and the notes / labels naming the missing hop. */
function highlightMissing(svg: Element, missingHop: string | null): void {
  for (const line of Array.from(svg.querySelectorAll('line, path'))) {
    if ((line.getAttribute('marker-end') ?? '').includes('crosshead')) {
      line.classList.add('pp-missing-line');
    }
  }
  if (!missingHop) return;
  for (const text of Array.from(svg.querySelectorAll('text.noteText, text.messageText'))) {
    const content = text.textContent ?? '';
    if (!content.includes(missingHop) && !/\bnot (seen|reached)\b/.test(content)) continue;
    text.classList.add('pp-missing-text');
    const box = text.parentElement?.querySelector('rect.note');
    if (text.classList.contains('noteText') && box) box.classList.add('pp-missing-box');
  }
}

/**
 * Mounts the diagram in `container` and returns its controller.
 *
 * @param onRendered called after every drawing (also after a theme change).
 */
export function createDiagramView(
  container: HTMLElement,
  onRendered: (message: RenderedMessage) => void,
): DiagramView {
  let current: { text: string | null; missingHop: string | null } | null = null;
  let generation = 0;
  // Fit to the panel's width by default, so the whole path (pod A to pod B) shows beside
  // the editor; − / + zoom from there, "Full size" draws it at its natural width (scrolls).
  let zoom: { fit: true } | { fit: false; scale: number } = { fit: true };

  const naturalWidth = (svg: SVGSVGElement): number => {
    const fromStyle = Number.parseFloat(svg.dataset.naturalWidth ?? svg.style.maxWidth);
    if (Number.isFinite(fromStyle) && fromStyle > 0) return fromStyle;
    return svg.viewBox.baseVal?.width || svg.getBoundingClientRect().width || 800;
  };
  const applyZoom = (svg: SVGSVGElement): void => {
    const natural = naturalWidth(svg);
    svg.dataset.naturalWidth = String(natural);
    svg.style.minWidth = '';
    if (zoom.fit) {
      svg.style.width = '100%';
      svg.style.maxWidth = '100%';
    } else {
      svg.style.width = `${Math.round(natural * zoom.scale)}px`;
      svg.style.maxWidth = 'none';
    }
    fitButton.setAttribute('aria-pressed', zoom.fit ? 'true' : 'false');
    fullButton.setAttribute('aria-pressed', !zoom.fit && zoom.scale === 1 ? 'true' : 'false');
    const shown = zoom.fit
      ? Math.round((container.clientWidth / natural) * 100)
      : Math.round(zoom.scale * 100);
    zoomLabel.textContent = zoom.fit ? `fit (${Math.min(shown, 100)} %)` : `${shown} %`;
  };
  const setZoom = (next: typeof zoom): void => {
    zoom = next;
    const svg = container.querySelector('svg');
    if (svg) applyZoom(svg);
  };
  const currentScale = (): number => {
    if (!zoom.fit) return zoom.scale;
    const svg = container.querySelector('svg');
    return svg ? Math.min(1, container.clientWidth / naturalWidth(svg)) : 1;
  };
  const button = (text: string, title: string, onClick: () => void): HTMLButtonElement => {
    const b = el('button', { text, attrs: { type: 'button', title, 'aria-label': title } });
    b.addEventListener('click', onClick);
    return b;
  };
  const fitButton = button('Fit', 'Fit the diagram to the panel width', () =>
    setZoom({ fit: true }),
  );
  const zoomOut = button('−', 'Zoom out', () =>
    setZoom({ fit: false, scale: Math.max(0.25, Math.round((currentScale() - 0.1) * 10) / 10) }),
  );
  const zoomIn = button('+', 'Zoom in', () =>
    setZoom({ fit: false, scale: Math.min(3, Math.round((currentScale() + 0.1) * 10) / 10) }),
  );
  const fullButton = button('Full size', 'Draw the diagram at full size (scrolls)', () =>
    setZoom({ fit: false, scale: 1 }),
  );
  const zoomLabel = el('span', { className: 'pp-muted', attrs: { 'aria-live': 'polite' } });
  const toolbar = el(
    'div',
    { className: 'pp-diagram-bar', attrs: { role: 'toolbar', 'aria-label': 'Diagram zoom' } },
    [fitButton, zoomOut, zoomIn, fullButton, zoomLabel],
  );

  const draw = async (): Promise<void> => {
    const mine = ++generation;
    const text = current?.text ?? null;
    const missingHop = current?.missingHop ?? null;
    if (text === null || text.trim() === '') {
      clear(container);
      container.appendChild(el('p', { className: 'pp-empty', text: 'No diagram' }));
      onRendered({ type: 'rendered', diagram: 'none', error: null, participants: [] });
      return;
    }
    const id = `podpath-diagram-${mine}`;
    try {
      configureMermaid();
      const { svg } = await mermaid.render(id, text);
      if (mine !== generation) return;
      const fragment = inertSvg(svg);
      clear(container);
      container.appendChild(fragment);
      const root = container.querySelector('svg');
      if (!root) throw new Error('mermaid produced no SVG');
      applyZoom(root);
      highlightMissing(root, missingHop);
      onRendered({
        type: 'rendered',
        diagram: 'ok',
        error: null,
        participants: participantTexts(root),
      });
    } catch (e) {
      // Mermaid leaves its scratch element behind when parsing fails.
      document.getElementById(`d${id}`)?.remove();
      if (mine !== generation) return;
      const error = e instanceof Error ? e.message : String(e);
      clear(container);
      container.appendChild(
        el('p', { className: 'pp-error', text: `The diagram could not be drawn: ${error}` }),
      );
      container.appendChild(
        el('details', {}, [el('summary', { text: 'Diagram source' }), el('pre', { text })]),
      );
      onRendered({ type: 'rendered', diagram: 'failed', error, participants: [] });
    }
  };

  new MutationObserver(() => {
    if (current) void draw();
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });

  return {
    toolbar,
    show(text, missingHop) {
      current = { text, missingHop };
      void draw();
    },
  };
}
