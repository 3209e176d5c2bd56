/**
 * The panel's HTML shell. Scripts run only with the per-load nonce; styles may be inline
 * because mermaid writes style attributes into its SVG; nothing else is allowed (no
 * network, no frames). Kept free of `vscode` so the policy is checked in a unit test.
 */

export interface PanelHtmlInput {
  /** `webview.cspSource`. */
  cspSource: string;
  /** `asWebviewUri(dist/webview.js)` as a string. */
  scriptUri: string;
  /** `asWebviewUri(dist/webview.css)` when the webview bundle has a stylesheet. */
  styleUri?: string;
  nonce: string;
}

/** A fresh nonce: 32 characters from [A-Za-z0-9], from `randomValues`. */
export function makeNonce(randomValues: Uint8Array): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (const b of randomValues.subarray(0, 32)) out += chars[b % chars.length];
  return out;
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** The Content-Security-Policy of the panel. */
export function panelCsp(cspSource: string, nonce: string): string {
  return [
    `default-src 'none'`,
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'unsafe-inline'`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
  ].join('; ');
}

/** The whole document; body classes (vscode-light/dark/high-contrast) are added by VS Code. */
export function panelHtml(input: PanelHtmlInput): string {
  const style = input.styleUri
    ? `\n    <link rel="stylesheet" href="${attr(input.styleUri)}" />`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta http-equiv="Content-Security-Policy" content="${attr(panelCsp(input.cspSource, input.nonce))}" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <title>Podpath</title>${style}
  </head>
  <body>
    <div id="app"></div>
    <script nonce="${attr(input.nonce)}" src="${attr(input.scriptUri)}"></script>
  </body>
</html>
`;
}
