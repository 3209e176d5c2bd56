/**
 * The panel's stylesheet, injected as one <style> element (the host's CSP allows
 * inline styles because mermaid needs them; scripts still need the nonce).
 * Colours come only from VS Code's theme variables, so light, dark and both
 * high-contrast themes work without a rule per theme.
 */
const CSS = `
:root { color-scheme: light dark; }
/* Classes below set display; the hidden attribute must still win. */
[hidden] { display: none !important; }
body {
  color: var(--vscode-foreground);
  background: var(--vscode-editor-background);
  font-family: var(--vscode-font-family);
  font-size: var(--vscode-font-size, 13px);
  padding: 0 16px 24px;
  margin: 0;
}
h1 { font-size: 1.4em; margin: 12px 0 2px; font-weight: 600; }
h2 { font-size: 1.1em; margin: 18px 0 6px; font-weight: 600; }
.pp-subtitle { color: var(--vscode-descriptionForeground); margin: 0 0 8px; }
.pp-muted { color: var(--vscode-descriptionForeground); }
.pp-empty { color: var(--vscode-descriptionForeground); font-style: italic; margin: 6px 0; }
.pp-error { color: var(--vscode-errorForeground); }
.pp-waiting { display: flex; gap: 8px; align-items: center; margin-top: 24px; }
ul.pp-list { margin: 4px 0; padding-left: 20px; }
ul.pp-list li { margin: 2px 0; }
a.pp-link { color: var(--vscode-textLink-foreground); cursor: pointer; text-decoration: none; }
a.pp-link:hover { text-decoration: underline; color: var(--vscode-textLink-activeForeground); }
a.pp-link:focus-visible, .pp-hop:focus-visible {
  outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px;
}
.pp-diagram {
  overflow-x: auto;
  border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent));
  padding: 8px;
  background: var(--vscode-editor-background);
}
.pp-diagram svg { display: block; margin: 0 auto; height: auto; }
.pp-diagram .pp-missing-text,
.pp-diagram .pp-missing-text tspan { fill: var(--vscode-errorForeground) !important; font-weight: 600; }
.pp-diagram .pp-missing-box {
  stroke: var(--vscode-errorForeground) !important; stroke-width: 2px !important;
}
.pp-diagram .pp-missing-line { stroke: var(--vscode-errorForeground) !important; stroke-width: 2px !important; }
.pp-hops { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 0 10px; padding: 0; list-style: none; }
.pp-hop {
  display: flex; flex-direction: column; align-items: flex-start; gap: 2px;
  min-width: 12em; max-width: 22em; padding: 6px 10px; text-align: left;
  font: inherit; cursor: pointer;
  color: var(--vscode-foreground);
  background: var(--vscode-editorWidget-background, var(--vscode-editor-background));
  border: 1px solid var(--vscode-widget-border, var(--vscode-contrastBorder, rgba(128,128,128,0.35)));
  border-radius: 3px;
}
.pp-hop:hover { background: var(--vscode-list-hoverBackground); }
.pp-hop-point { color: var(--vscode-descriptionForeground); }
.pp-hop[aria-selected='true'] {
  border-color: var(--vscode-focusBorder);
  background: var(--vscode-list-inactiveSelectionBackground);
  color: var(--vscode-list-inactiveSelectionForeground, var(--vscode-foreground));
}
.pp-hop-name { font-weight: 600; }
.pp-hop-summary { color: var(--vscode-descriptionForeground); font-size: 0.92em; }
.pp-hop.pp-missing { border: 2px solid var(--vscode-errorForeground); }
.pp-seen-yes { color: var(--vscode-testing-iconPassed, var(--vscode-charts-green, inherit)); }
.pp-seen-no { color: var(--vscode-errorForeground); font-weight: 600; }
.pp-pager { display: flex; gap: 8px; align-items: center; margin: 6px 0; }
.pp-table {
  max-height: 60vh; overflow: auto;
  border: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent));
}
table.pp-grid { width: 100%; border-collapse: collapse; table-layout: fixed; }
/* Beside the editor a row takes two lines: time, addresses, protocol, TTL and lengths on
   the first, Encapsulation and Info (columns 7 and 8) across the whole width on the second,
   so no column is cut off. */
@media (max-width: 900px) {
  table.pp-grid, .pp-grid thead, .pp-grid tbody { display: block; width: 100%; }
  .pp-grid colgroup { display: none; }
  .pp-grid tr {
    display: grid;
    grid-template-columns: 7.5em minmax(9em, 1fr) 4.5em 2.5em 3.5em 4.5em;
  }
  .pp-grid th:nth-child(n + 7), .pp-grid td:nth-child(n + 7) { grid-column: 1 / -1; }
  .pp-grid th { position: static; }
  .pp-grid th:nth-child(n + 7) { padding-top: 0; }
  .pp-grid td:nth-child(n + 7) { padding-left: 2em; }
  .pp-grid td:nth-child(7):empty { display: none; }
  .pp-grid thead tr { position: sticky; top: 0; z-index: 1; }
}
.pp-grid th {
  position: sticky; top: 0; z-index: 1; text-align: left; font-weight: 600;
  padding: 4px 8px;
  background: var(--vscode-keybindingTable-headerBackground, var(--vscode-editorWidget-background, var(--vscode-editor-background)));
  border-bottom: 1px solid var(--vscode-panel-border, var(--vscode-contrastBorder, transparent));
}
.pp-grid td {
  /* Beside the editor the row wraps rather than hiding Encapsulation and Info. */
  padding: 3px 8px; white-space: normal; overflow-wrap: anywhere; vertical-align: top;
  font-variant-numeric: tabular-nums;
}
.pp-grid tbody tr { cursor: pointer; }
.pp-grid tbody tr:nth-child(even) { background: var(--vscode-keybindingTable-rowsBackground, transparent); }
.pp-grid tbody tr:hover { background: var(--vscode-list-hoverBackground); }
.pp-grid tbody tr:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }
.pp-grid tbody tr.pp-selected {
  background: var(--vscode-list-activeSelectionBackground);
  color: var(--vscode-list-activeSelectionForeground, var(--vscode-foreground));
  /* The selected row keeps a visible ring, focused or not. */
  outline: 2px solid var(--vscode-focusBorder); outline-offset: -2px;
}
.pp-diagram-bar { display: flex; gap: 6px; align-items: center; margin: 4px 0; }
.pp-hop-file { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin: 0 0 8px; }
.pp-hop-file button,
.pp-diagram-bar button {
  font: inherit; padding: 1px 8px; cursor: pointer;
  color: var(--vscode-button-secondaryForeground, var(--vscode-foreground));
  background: var(--vscode-button-secondaryBackground, transparent);
  border: 1px solid var(--vscode-button-border, var(--vscode-contrastBorder, rgba(128,128,128,0.4)));
  border-radius: 2px;
}
.pp-hop-file button:focus-visible,
.pp-diagram-bar button:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
.pp-diagram-bar button[aria-pressed='true'] { border-color: var(--vscode-focusBorder); }
code {
  font-family: var(--vscode-editor-font-family, monospace); font-size: 0.95em;
  padding: 0 3px; border-radius: 3px;
  background: var(--vscode-textCodeBlock-background, rgba(128,128,128,0.15));
}
.pp-details {
  margin-top: 10px; padding: 8px 10px;
  border-left: 3px solid var(--vscode-focusBorder);
  background: var(--vscode-textBlockQuote-background, transparent);
}
.pp-layer { margin: 4px 0 8px; }
.pp-layer-title { font-weight: 600; }
.pp-fields { display: grid; grid-template-columns: max-content 1fr; gap: 1px 12px; margin: 2px 0 0 12px; }
.pp-field-name { color: var(--vscode-descriptionForeground); }
.pp-field-value { font-family: var(--vscode-editor-font-family, monospace); word-break: break-all; }
`;

/** Adds the panel's stylesheet to the document once. */
export function injectStyles(): void {
  if (document.getElementById('podpath-styles')) return;
  const style = document.createElement('style');
  style.id = 'podpath-styles';
  style.textContent = CSS;
  document.head.appendChild(style);
}
