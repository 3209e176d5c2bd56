/**
 * The "Podpath" output channel: every external command (argv, outcome, duration) from the
 * process runner, and what the extension did. Errors shown to people point here.
 */
import * as vscode from 'vscode';
import type { CommandLogEntry } from '../platform/exec/runner';

export interface OutputLog extends vscode.Disposable {
  line(text: string): void;
  command(entry: CommandLogEntry): void;
  show(): void;
}

function stamp(): string {
  return new Date().toISOString().slice(11, 23);
}

/** Quotes an argv element only when it needs it, so the line can be pasted into a shell. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function createOutputLog(): OutputLog {
  const channel = vscode.window.createOutputChannel('Podpath');
  const line = (text: string): void => channel.appendLine(`[${stamp()}] ${text}`);
  return {
    line,
    command(entry) {
      const code = entry.exitCode === null ? '' : ` exit ${entry.exitCode}`;
      line(
        `$ ${entry.argv.map(shellWord).join(' ')} → ${entry.outcome}${code} in ${entry.durationMs} ms`,
      );
    },
    show() {
      channel.show(true);
    },
    dispose() {
      channel.dispose();
    },
  };
}
