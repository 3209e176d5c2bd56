/**
 * Registers every command family through the one error handler (commandErrors.ts).
 */
import * as vscode from 'vscode';
import type { CommandTable, Services } from '../services';
import { captureCommands } from './captureCommands';
import { clusterCommands } from './clusterCommands';
import { guarded } from './commandErrors';
import { datapathCommands } from './datapathCommands';
import { kindLabCommands } from './kindLabCommands';
import { labCommands } from './labCommands';
import { logCommands } from './logCommands';
import { manifestCommands } from './manifestCommands';
import { tcpdumpCommands } from './tcpdumpCommands';
import { traceCommands } from './traceCommands';

const FAMILIES: ((s: Services) => CommandTable)[] = [
  captureCommands,
  tcpdumpCommands,
  datapathCommands,
  logCommands,
  clusterCommands,
  manifestCommands,
  labCommands,
  kindLabCommands,
  traceCommands,
];

/** Registers every command; returns their ids (for the activation log and the tests). */
export function registerCommands(services: Services): string[] {
  const ids: string[] = [];
  for (const family of FAMILIES) {
    for (const [id, { what, run }] of Object.entries(family(services))) {
      services.context.subscriptions.push(
        vscode.commands.registerCommand(id, guarded(services.log, what, run)),
      );
      ids.push(id);
    }
  }
  return ids;
}
