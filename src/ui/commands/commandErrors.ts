/**
 * The one place a command's failure becomes a message. Cancellation is silent; anything
 * else becomes "Podpath: <what failed>: <why>. <what to do>" with a "Show Log" button,
 * and the details go to the output channel.
 */
import * as vscode from 'vscode';
import { ToolError } from '../../platform/exec/runner';
import type { OutputLog } from '../outputLog';
import { errorMessage } from './errorText';

/** Thrown by command code when the user backed out (a dismissed pick, a cancelled progress). */
export class CommandCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CommandCancelled';
  }
}

/** Whether `err` means "the user stopped it", in any of the shapes cancellation takes. */
export function isCancellation(err: unknown): boolean {
  if (err instanceof CommandCancelled || err instanceof vscode.CancellationError) return true;
  if (err instanceof ToolError) return err.kind === 'cancelled';
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'CancellationError')) {
    return true;
  }
  if (err instanceof Error && err.cause !== undefined) return isCancellation(err.cause);
  return false;
}

export type CommandHandler = (...args: unknown[]) => unknown;

/**
 * Wraps a command so that every failure is reported the same way. The wrapper resolves to
 * undefined on failure: rethrowing would make the workbench show a second, raw error.
 */
export function guarded(log: OutputLog, what: string, run: CommandHandler): CommandHandler {
  return async (...args: unknown[]) => {
    try {
      return await run(...args);
    } catch (err) {
      if (isCancellation(err)) {
        log.line(`${what}: cancelled`);
        return undefined;
      }
      log.line(
        `${what} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      void vscode.window.showErrorMessage(errorMessage(what, err), 'Show Log').then((pick) => {
        if (pick === 'Show Log') log.show();
      });
      return undefined;
    }
  };
}

/**
 * Runs `task` under a cancellable notification progress; the CancellationToken becomes an
 * AbortSignal for the platform layer.
 */
export function withCancellableProgress<T>(
  title: string,
  task: (signal: AbortSignal, report: (message: string) => void) => Promise<T>,
): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      const sub = token.onCancellationRequested(() => controller.abort(new CommandCancelled()));
      try {
        const result = await task(controller.signal, (message) => progress.report({ message }));
        if (token.isCancellationRequested) throw new CommandCancelled();
        return result;
      } catch (err) {
        if (token.isCancellationRequested) throw new CommandCancelled();
        throw err;
      } finally {
        sub.dispose();
      }
    },
  );
}
