/**
 * The words of a failed command's message: "Podpath: <what> failed: <why>. <what to do>".
 * Free of `vscode` so the wording is unit-tested.
 */
import { ToolError } from '../../platform/exec/runner';

function adviceFor(err: unknown): string {
  if (err instanceof ToolError) {
    switch (err.kind) {
      case 'not-found':
        return `Install ${err.argv[0] ?? 'the tool'} and make sure it is on PATH.`;
      case 'timeout':
        return 'Try again; if it keeps timing out, see the log for the command.';
      case 'exit':
        return 'See the log for the command and its output.';
      case 'cancelled':
        return '';
    }
  }
  return 'See the log for details.';
}

function sentence(s: string): string {
  const t = s.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** The message a person sees for a failed command. */
export function errorMessage(what: string, err: unknown): string {
  const why = err instanceof Error ? err.message : String(err);
  const advice = adviceFor(err);
  // Errors written for people (lab prerequisites) already say what to do.
  const says = /\b(install|run|try|choose|open|select|use|pick)\b/i.test(why);
  return `Podpath: ${what} failed: ${sentence(why)}${advice && !says ? ` ${advice}` : ''}`;
}
