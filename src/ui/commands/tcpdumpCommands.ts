/**
 * Parse pasted tcpdump output: the editor selection (or `{ text }` for tests) or the
 * clipboard, shown as a packet table in the panel.
 */
import * as vscode from 'vscode';
import { parseTcpdumpText } from '../../core/packets/tcpdumpText';
import { packetsView } from '../panel/panelViews';
import type { CommandTable, Services } from '../services';

function textArg(arg: unknown): string | undefined {
  if (
    typeof arg === 'object' &&
    arg !== null &&
    typeof (arg as { text?: unknown }).text === 'string'
  ) {
    return (arg as { text: string }).text;
  }
  return undefined;
}

export function tcpdumpCommands(s: Services): CommandTable {
  const show = (title: string, text: string): unknown => {
    const parsed = parseTcpdumpText(text);
    if (parsed.packets.length === 0) {
      void vscode.window.showInformationMessage(
        `Podpath: no tcpdump packets found in the ${title}. Select lines of tcpdump output (for example \`12:00:01.000 IP 10.244.0.5 > 10.244.1.4: ICMP echo request…\`) and try again.`,
      );
      return undefined;
    }
    const content = packetsView(`tcpdump output from the ${title}`, parsed);
    s.panel.show(content);
    return content.view;
  };
  return {
    'podpath.tcpdump.parseSelection': {
      what: 'Parsing the selected tcpdump output',
      run: (arg?: unknown) => {
        const given = textArg(arg);
        if (given !== undefined) return show('selection', given);
        const editor = vscode.window.activeTextEditor;
        const text = editor
          ? editor.selections
              .filter((sel) => !sel.isEmpty)
              .map((sel) => editor.document.getText(sel))
              .join('\n')
          : '';
        if (!text.trim()) {
          void vscode.window.showInformationMessage(
            'Podpath: select some tcpdump output in an editor first, or use "Parse tcpdump output from clipboard".',
          );
          return undefined;
        }
        return show('selection', text);
      },
    },
    'podpath.tcpdump.parseClipboard': {
      what: 'Parsing tcpdump output from the clipboard',
      run: async () => {
        const text = await vscode.env.clipboard.readText();
        if (!text.trim()) {
          void vscode.window.showInformationMessage(
            'Podpath: the clipboard is empty. Copy some tcpdump output first.',
          );
          return undefined;
        }
        return show('clipboard', text);
      },
    },
  };
}
